import { DiscoveryConfigError } from './errors';
import { normalizePodSpecs, type PodSpec } from './pod-spec';
import { PodSet, SourceReporter } from './pod-set';
import type { PodChangeListener, PodSource, PodSourceHooks } from './types';

/**
 * A fixed list of pods from configuration. Validated here, synchronously: throws a
 * {@link DiscoveryConfigError} listing every invalid field, so a bad config fails at load time.
 * `start` emits every pod as `added`; nothing changes afterwards.
 */
export function staticPodSource(specs: readonly PodSpec[], hooks: PodSourceHooks = {}): PodSource {
  const { pods, problems } = normalizePodSpecs(specs);
  if (problems.length > 0) throw new DiscoveryConfigError('invalid static pod list', problems);
  const reporter = new SourceReporter('static', hooks);
  const set = new PodSet(reporter);
  let started = false;
  return {
    kind: 'static',
    start(onChange: PodChangeListener): Promise<void> {
      if (started) return Promise.reject(new Error('static pod source: start() called twice'));
      started = true;
      set.open(onChange);
      set.replace(pods);
      reporter.info({ pods: pods.length }, 'static pod list loaded');
      return Promise.resolve();
    },
    current: () => set.current(),
    stats: () => reporter.stats(set.size),
    stop(): Promise<void> {
      set.close();
      return Promise.resolve();
    },
  };
}
