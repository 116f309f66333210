import type { DiscoveryError, DiscoveryErrorReason } from './errors';

/**
 * One vLLM pod as every consumer sees it (collector, gateway, load-scorer). Objects handed out
 * by a source are frozen: keep references freely, they never change under you.
 */
export interface DiscoveredPod {
  /**
   * Pod identity used everywhere (index, subjects, topics): `<address>:<httpPort>`, the llm-d
   * convention and what vLLM puts in its topic (`kv@$(POD_IP):$(POD_PORT)@<model>`). An IPv6
   * address is not bracketed here (`fd00::1:8000`), as llm-d formats it.
   */
  readonly id: string;
  /** IP address or host name of the pod. */
  readonly address: string;
  /** The inference (OpenAI API and /metrics) port, 8000 by vLLM's default. */
  readonly httpPort: number;
  /** The pod's KV-events PUB socket, e.g. `tcp://10.0.0.7:5557` (IPv6 in brackets). */
  readonly zmqEndpoint: string;
  /** The pod's replay ROUTER socket, e.g. `tcp://10.0.0.7:5558`; null when the pod has none. */
  readonly replayEndpoint: string | null;
  /** Served model, when the source knows it (pods file, Kubernetes annotation or label). */
  readonly model?: string;
  /** `namespace/name` for Kubernetes pods; free text from a pods file. */
  readonly name?: string;
}

/**
 * A change of the discovered set. There is no `updated`: a pod whose fields change (same id,
 * other endpoints, model or name) is emitted as `removed` (old object) then `added` (new
 * object), so consumers need only two code paths and never hold a stale endpoint.
 */
export type PodChange = { readonly type: 'added'; readonly pod: DiscoveredPod } | { readonly type: 'removed'; readonly pod: DiscoveredPod };

/** Called synchronously for each change, in order. See {@link PodSource.start} for the contract. */
export type PodChangeListener = (change: PodChange) => void;

export type PodSourceKind = 'static' | 'file' | 'kubernetes';

/** Counters for metrics and readiness; a fresh snapshot on each call. */
export interface PodSourceStats {
  /** Pods in the current set. */
  readonly pods: number;
  /** Non-fatal problems so far, by reason; each was also passed to `onError` / `logger.warn`. */
  readonly errors: Readonly<Record<DiscoveryErrorReason, number>>;
  /** Times the whole set was read again after start: a changed pods file, a Kubernetes re-LIST. */
  readonly reloads: number;
}

/**
 * A source of pods. Lifecycle: `start` once, then `stop` once (both safe to await from any
 * state; a second `start` rejects).
 */
export interface PodSource {
  readonly kind: PodSourceKind;
  /**
   * Emits the initial set as `added` changes and resolves after the last of them, then keeps
   * emitting changes until `stop`. Rejects (with a {@link DiscoveryConfigError} listing every
   * problem) when the source cannot produce a valid initial set; nothing is emitted then.
   *
   * `onChange` is called synchronously, one change at a time, removals of a batch before its
   * additions. It must not block. If it throws (or returns a rejected promise), the error is
   * reported with reason `listener` and discovery goes on: the change counts as delivered.
   */
  start(onChange: PodChangeListener): Promise<void>;
  /** The set emitted so far (empty before `start`; the last set after `stop`). */
  current(): DiscoveredPod[];
  stats(): PodSourceStats;
  /** Stops watching and releases every handle; no change is emitted once it resolved. Idempotent. */
  stop(): Promise<void>;
}

/**
 * The logging surface the lib needs; a pino `Logger` fits it. The lib never imports a logger
 * package itself.
 */
export interface DiscoveryLogger {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
}

/** Where a source reports what it survives. Both are optional; neither may throw back into the source. */
export interface PodSourceHooks {
  /** Every non-fatal problem (invalid reload, lost watch, throwing listener), as a typed error. */
  onError?: (error: DiscoveryError) => void;
  /** `warn` for each problem (with `reason`), `info` for normal but notable events (reload, re-list). */
  logger?: DiscoveryLogger;
}
