import { formatPodId, freezePod, tcpEndpoint } from './pod-spec';
import type { DiscoveredPod } from './types';

/**
 * Per-pod overrides read from a pod's annotations (values are decimal port numbers; the replay
 * port also accepts `none`). The model key is read from annotations first, then labels, because
 * label values cannot hold a `/` (as in `Qwen/Qwen3-8B`) and annotations can.
 */
export const KUBERNETES_ANNOTATIONS = {
  /** Inference port; also the port part of the pod id. */
  httpPort: 'kvr.io/http-port',
  /** KV-events PUB port. */
  zmqPort: 'kvr.io/zmq-port',
  /** Replay ROUTER port, or `none` for a pod without replay socket. */
  replayPort: 'kvr.io/replay-port',
  /** Served model (the default `modelKey`). */
  model: 'kvr.io/model',
} as const;

/** The fields of a v1 Pod this lib reads; the API sends many more, which are ignored. */
export interface KubePod {
  kind?: string;
  apiVersion?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: string | null;
    creationTimestamp?: string;
  };
  spec?: unknown;
  status?: {
    phase?: string;
    podIP?: string;
    conditions?: { type: string; status: string }[];
  };
}

export interface KubePodList {
  kind?: string;
  apiVersion?: string;
  metadata: { resourceVersion?: string };
  items: KubePod[];
}

/** A `meta/v1` Status, the body of API errors and of watch `ERROR` events. */
export interface KubeStatus {
  kind?: string;
  apiVersion?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
}

export type KubeWatchEvent =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: KubePod }
  | { type: 'BOOKMARK'; object: { kind?: string; apiVersion?: string; metadata: { resourceVersion?: string } } }
  | { type: 'ERROR'; object: KubeStatus };

/** What ports and model key a pod gets when it has no annotation saying otherwise. */
export interface PodEndpointDefaults {
  httpPort: number;
  zmqPort: number;
  /** null: pods have no replay socket unless annotated. */
  replayPort: number | null;
  /** Annotation (then label) holding the model name; null reads none. */
  modelKey: string | null;
}

/** The verdict on one pod: serving (and how to reach it), not serving (why), or unusable (why). */
export type PodVerdict =
  | { readonly kind: 'serving'; readonly pod: DiscoveredPod }
  | { readonly kind: 'not-serving'; readonly why: string }
  | { readonly kind: 'invalid'; readonly problems: readonly string[] };

/**
 * Why a pod cannot take traffic, or undefined when it can: it must be `Running`, have a pod IP,
 * have the condition `Ready=True` and no deletion timestamp (the rule of llm-d's pod
 * reconciler and of the EPP's `IsPodReady`).
 */
export function notServingReason(pod: KubePod): string | undefined {
  if (pod.metadata.deletionTimestamp) return 'terminating (deletionTimestamp set)';
  const phase = pod.status?.phase;
  if (phase !== 'Running') return `phase ${phase ?? 'unknown'}`;
  if (!pod.status?.podIP) return 'no pod IP';
  const ready = pod.status.conditions?.find((condition) => condition.type === 'Ready');
  if (ready?.status !== 'True') return `Ready=${ready?.status ?? 'absent'}`;
  return undefined;
}

/** `namespace/name`, the pod's identity in the API (stable across IP changes). */
export function kubePodKey(pod: KubePod): string {
  return `${pod.metadata.namespace ?? ''}/${pod.metadata.name}`;
}

/** Turns a Kubernetes pod into a discovered pod, applying the annotation overrides. */
export function judgePod(pod: KubePod, defaults: PodEndpointDefaults): PodVerdict {
  const why = notServingReason(pod);
  if (why !== undefined) return { kind: 'not-serving', why };
  const address = pod.status!.podIP!;
  const annotations = pod.metadata.annotations ?? {};
  const problems: string[] = [];
  const port = (key: string, fallback: number): number => {
    const value = annotations[key];
    if (value === undefined) return fallback;
    const parsed = /^\d{1,5}$/.test(value.trim()) ? Number(value.trim()) : NaN;
    if (parsed >= 1 && parsed <= 65_535) return parsed;
    problems.push(`annotation ${key}: must be a port 1-65535, got ${JSON.stringify(value)}`);
    return fallback;
  };
  const httpPort = port(KUBERNETES_ANNOTATIONS.httpPort, defaults.httpPort);
  const zmqPort = port(KUBERNETES_ANNOTATIONS.zmqPort, defaults.zmqPort);
  const replayAnnotation = annotations[KUBERNETES_ANNOTATIONS.replayPort];
  const replayPort = replayAnnotation?.trim() === 'none' ? null : replayAnnotation === undefined ? defaults.replayPort : port(KUBERNETES_ANNOTATIONS.replayPort, 0);
  if (problems.length > 0) return { kind: 'invalid', problems };

  const modelKey = defaults.modelKey;
  const model = modelKey === null ? undefined : annotations[modelKey] || pod.metadata.labels?.[modelKey] || undefined;
  return {
    kind: 'serving',
    pod: freezePod({
      id: formatPodId(address, httpPort),
      address,
      httpPort,
      zmqEndpoint: tcpEndpoint(address, zmqPort),
      replayEndpoint: replayPort === null ? null : tcpEndpoint(address, replayPort),
      ...(model !== undefined ? { model } : {}),
      name: kubePodKey(pod),
    }),
  };
}
