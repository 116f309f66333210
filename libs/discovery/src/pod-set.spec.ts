import type { Logger } from '@kvr/telemetry';
import { DiscoveryError } from './errors';
import { diffPods, PodSet, samePod, SourceReporter } from './pod-set';
import type { DiscoveredPod, DiscoveryLogger, PodChange, PodChangeListener } from './types';

// Compile-time check (tsc): a pino Logger can be passed where the lib wants a DiscoveryLogger.
const pinoFits: Logger extends DiscoveryLogger ? true : never = true;

function pod(id: string, fields: Partial<DiscoveredPod> = {}): DiscoveredPod {
  const [address = id, port = '8000'] = id.split(':');
  return { id, address, httpPort: Number(port), zmqEndpoint: `tcp://${address}:5557`, replayEndpoint: null, ...fields };
}

const summary = (changes: readonly PodChange[]): string[] => changes.map((c) => `${c.type === 'added' ? '+' : '-'}${c.pod.id}${c.pod.model ? `(${c.pod.model})` : ''}`);

describe('diffPods', () => {
  it('emits nothing for equal sets, whatever the order', () => {
    expect(pinoFits).toBe(true);
    expect(diffPods([pod('a:1'), pod('b:1')], [pod('b:1'), pod('a:1')])).toEqual([]);
    expect(diffPods([], [])).toEqual([]);
  });

  it('emits removals first (previous order), then additions (next order)', () => {
    const changes = diffPods([pod('a:1'), pod('b:1'), pod('c:1')], [pod('d:1'), pod('b:1'), pod('e:1')]);
    expect(summary(changes)).toEqual(['-a:1', '-c:1', '+d:1', '+e:1']);
  });

  it('models a changed pod as removed (old object) then added (new object)', () => {
    const before = pod('a:1', { model: 'm1' });
    const after = pod('a:1', { model: 'm2' });
    const changes = diffPods([before], [after]);
    expect(changes).toEqual([
      { type: 'removed', pod: before },
      { type: 'added', pod: after },
    ]);
  });

  it.each<[string, Partial<DiscoveredPod>]>([
    ['zmqEndpoint', { zmqEndpoint: 'tcp://a:6000' }],
    ['replayEndpoint', { replayEndpoint: 'tcp://a:5558' }],
    ['model', { model: 'm' }],
    ['name', { name: 'ns/pod-1' }],
    ['address', { address: 'other' }],
  ])('treats a different %s as a change', (_field, fields) => {
    expect(samePod(pod('a:1'), pod('a:1', fields))).toBe(false);
    expect(summary(diffPods([pod('a:1')], [pod('a:1', fields)]))).toEqual(['-a:1', fields.model ? '+a:1(m)' : '+a:1']);
  });
});

describe('PodSet', () => {
  it('applies each change before its listener runs, and reports current()', () => {
    const set = new PodSet(new SourceReporter('static', {}));
    const seenSizes: number[] = [];
    set.open((change) => seenSizes.push(set.current().length + (change.type === 'added' ? 0 : 100)));
    set.replace([pod('a:1'), pod('b:1')]);
    set.replace([pod('b:1')]);
    expect(seenSizes).toEqual([1, 2, 101]);
    expect(set.current().map((p) => p.id)).toEqual(['b:1']);
  });

  it('survives a throwing or rejecting listener, reporting each as `listener`, and keeps delivering', async () => {
    const errors: DiscoveryError[] = [];
    const reporter = new SourceReporter('file', { onError: (err) => errors.push(err) });
    const set = new PodSet(reporter);
    const delivered: string[] = [];
    // A listener that throws for one pod and, like an async function would, rejects for another.
    const listener = (change: PodChange): void | Promise<void> => {
      delivered.push(change.pod.id);
      if (change.pod.id === 'a:1') throw new Error('boom');
      if (change.pod.id === 'b:1') return Promise.reject(new Error('async boom'));
    };
    set.open(listener as PodChangeListener);
    set.replace([pod('a:1'), pod('b:1'), pod('c:1')]);
    expect(delivered).toEqual(['a:1', 'b:1', 'c:1']);
    expect(set.current()).toHaveLength(3);
    await Promise.resolve(); // the rejection handler runs in a microtask
    expect(errors.map((e) => [e.reason, e.message])).toEqual([
      ['listener', 'pod change listener failed on added a:1: boom'],
      ['listener', 'pod change listener failed on added b:1: async boom'],
    ]);
    expect(reporter.stats(3).errors.listener).toBe(2);
  });

  it('emits and changes nothing once closed', () => {
    const set = new PodSet(new SourceReporter('static', {}));
    const delivered: PodChange[] = [];
    set.open((change) => delivered.push(change));
    set.replace([pod('a:1')]);
    set.close();
    expect(set.replace([pod('b:1')])).toEqual([]);
    expect(delivered).toHaveLength(1);
    expect(set.current().map((p) => p.id)).toEqual(['a:1']);
  });
});

describe('SourceReporter', () => {
  it('counts by reason and shields the source from throwing hooks', () => {
    const reporter = new SourceReporter('kubernetes', {
      onError: () => {
        throw new Error('bad hook');
      },
      logger: {
        warn: () => {
          throw new Error('bad logger');
        },
        info: () => {
          throw new Error('bad logger');
        },
      },
    });
    expect(() => reporter.error(new DiscoveryError('kube_request', 'x'))).not.toThrow();
    expect(() => reporter.info({}, 'y')).not.toThrow();
    reporter.reloaded();
    const stats = reporter.stats(4);
    expect(stats).toEqual({ pods: 4, reloads: 1, errors: { listener: 0, file_invalid: 0, file_watch: 0, kube_request: 1, kube_watch: 0, pod_invalid: 0 } });
  });

  it('logs problems with their reason and details', () => {
    const warnings: [Record<string, unknown>, string][] = [];
    const reporter = new SourceReporter('file', { logger: { warn: (obj, msg) => warnings.push([obj, msg]), info: () => undefined } });
    reporter.error(new DiscoveryError('file_invalid', 'invalid pods file', ['pods[0].address: required'], { cause: new Error('root') }));
    expect(warnings).toEqual([[{ source: 'file', reason: 'file_invalid', problems: ['pods[0].address: required'], cause: 'root' }, 'invalid pods file']]);
  });
});
