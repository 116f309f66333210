import type { PodDiscoverySettings } from '@kvr/config';
import { filePodSource } from './file-source';
import { kubernetesPodSource } from './kube-source';
import type { PodSpec } from './pod-spec';
import { staticPodSource } from './static-source';
import type { DiscoveryLogger, PodSource } from './types';

/**
 * The pod source an app's validated `discovery` section names. Every app that needs the fleet
 * (collector, gateway, load-scorer) builds its source here, so that one config block means the
 * same pods everywhere.
 */
export function podSourceFromSettings(settings: PodDiscoverySettings, logger: DiscoveryLogger): PodSource {
  const hooks = { logger };
  if (settings.kind === 'file') return filePodSource({ path: settings.file, ...hooks });
  if (settings.kind === 'kubernetes') {
    return kubernetesPodSource({
      ...(settings.apiServer ? { apiServer: settings.apiServer } : {}),
      ...(settings.namespace ? { namespace: settings.namespace } : {}),
      labelSelector: settings.labelSelector,
      httpPort: settings.httpPort,
      zmqPort: settings.zmqPort,
      replayPort: settings.replayPort === 0 ? null : settings.replayPort,
      ...(settings.modelKey ? { modelKey: settings.modelKey } : {}),
      ...hooks,
    });
  }
  return staticPodSource(settings.pods as unknown as PodSpec[], hooks);
}
