/**
 * Why a running source reported a problem. Stable codes, fit for a metric label; add a reason
 * rather than reuse one with another meaning.
 */
export const DISCOVERY_ERROR_REASONS = [
  /** The change listener threw or rejected; the change still counts as delivered. */
  'listener',
  /** A changed pods file could not be read, parsed or validated; the last good set is kept. */
  'file_invalid',
  /** Watching the pods file's directory failed; polling goes on. */
  'file_watch',
  /** A Kubernetes LIST or WATCH request failed (network, non-2xx status other than 410); retried with backoff. */
  'kube_request',
  /** A watch stream carried an ERROR event other than 410, or a line that is no watch event. */
  'kube_watch',
  /** A selected Kubernetes pod has an unusable annotation; the pod is left out until fixed. */
  'pod_invalid',
] as const;

export type DiscoveryErrorReason = (typeof DISCOVERY_ERROR_REASONS)[number];

/** A problem a running source survived, passed to `onError`. */
export class DiscoveryError extends Error {
  override readonly name = 'DiscoveryError';

  constructor(
    readonly reason: DiscoveryErrorReason,
    message: string,
    /** Individual problems, when there are several (e.g. every invalid field of a pods file). */
    readonly problems: readonly string[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Invalid configuration or an unusable initial set: thrown by `staticPodSource`, rejected by
 * `start()` of the file and Kubernetes sources. The message lists every problem, one per line.
 */
export class DiscoveryConfigError extends Error {
  override readonly name = 'DiscoveryConfigError';

  constructor(
    readonly summary: string,
    readonly problems: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(problems.length > 0 ? `${summary}:\n${problems.map((p) => `  - ${p}`).join('\n')}` : summary, options);
  }
}

/**
 * The message of anything thrown, for logs and wrapped errors. Duck-typed rather than
 * `instanceof Error`: errors from another realm (a vm context, as under jest) are Errors too.
 */
export function errorMessage(err: unknown): string {
  if (typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string') return (err as { message: string }).message;
  return String(err);
}
