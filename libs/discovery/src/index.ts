// Public API of @kvr/discovery: where the vLLM pods are. Three sources behind one interface
// (static list, watched file, Kubernetes label selector), emitting added/removed changes.
// Test helpers (a fake Kubernetes API server, pod builders) live behind `@kvr/discovery/testing`.

export type { DiscoveredPod, PodChange, PodChangeListener, PodSource, PodSourceKind, PodSourceStats, DiscoveryLogger, PodSourceHooks } from './types';
export { DiscoveryError, DiscoveryConfigError, DISCOVERY_ERROR_REASONS } from './errors';
export type { DiscoveryErrorReason } from './errors';

export { diffPods, samePod } from './pod-set';
export { DEFAULT_HTTP_PORT, DEFAULT_ZMQ_PORT, formatPodId, hostPort, tcpEndpoint, normalizePodSpecs, parsePodsFile } from './pod-spec';
export type { PodSpec } from './pod-spec';

export { staticPodSource } from './static-source';
export { filePodSource } from './file-source';
export type { FilePodSourceOptions } from './file-source';

export { kubernetesPodSource } from './kube-source';
export type { KubernetesPodSourceOptions } from './kube-source';
export { KUBERNETES_ANNOTATIONS, judgePod, notServingReason } from './kube-pods';
export type { KubePod, KubePodList, KubeStatus, KubeWatchEvent, PodEndpointDefaults, PodVerdict } from './kube-pods';
export { SERVICE_ACCOUNT_DIR } from './kube-client';
export type { KubernetesConnectionOptions } from './kube-client';

export { podSourceFromSettings } from './from-settings';
