import { DISCOVERY_ERROR_REASONS, DiscoveryError, errorMessage, type DiscoveryErrorReason } from './errors';
import type { DiscoveredPod, PodChange, PodChangeListener, PodSourceHooks, PodSourceKind, PodSourceStats } from './types';

/** Whether two pods are the same in every field a consumer can see. */
export function samePod(a: DiscoveredPod, b: DiscoveredPod): boolean {
  return (
    a.id === b.id &&
    a.address === b.address &&
    a.httpPort === b.httpPort &&
    a.zmqEndpoint === b.zmqEndpoint &&
    a.replayEndpoint === b.replayEndpoint &&
    a.model === b.model &&
    a.name === b.name
  );
}

/**
 * The changes that turn `previous` into `next`, matched by pod id: every removal first (in
 * `previous` order), then every addition (in `next` order). A pod whose fields differ is
 * removed (old object) and added (new object); an unchanged pod yields nothing. Ids must be
 * unique within each input (the later of two equal ids wins).
 */
export function diffPods(previous: Iterable<DiscoveredPod>, next: Iterable<DiscoveredPod>): PodChange[] {
  const before = byId(previous);
  const after = byId(next);
  const removals: PodChange[] = [];
  const additions: PodChange[] = [];
  for (const [id, pod] of before) {
    const now = after.get(id);
    if (!now || !samePod(pod, now)) removals.push({ type: 'removed', pod });
  }
  for (const [id, pod] of after) {
    const was = before.get(id);
    if (!was || !samePod(was, pod)) additions.push({ type: 'added', pod });
  }
  return [...removals, ...additions];
}

function byId(pods: Iterable<DiscoveredPod>): Map<string, DiscoveredPod> {
  const map = new Map<string, DiscoveredPod>();
  for (const pod of pods) map.set(pod.id, pod);
  return map;
}

/**
 * Counts and forwards what a source survives. Hooks are called inside try/catch: a throwing
 * logger or `onError` can never break the source that reports to it.
 */
export class SourceReporter {
  private readonly errorCounts = Object.fromEntries(DISCOVERY_ERROR_REASONS.map((reason) => [reason, 0])) as Record<DiscoveryErrorReason, number>;
  private reloadCount = 0;

  constructor(
    private readonly kind: PodSourceKind,
    private readonly hooks: PodSourceHooks,
  ) {}

  error(error: DiscoveryError): void {
    this.errorCounts[error.reason] += 1;
    const fields: Record<string, unknown> = { source: this.kind, reason: error.reason };
    if (error.problems.length > 0) fields['problems'] = error.problems;
    if (error.cause !== undefined) fields['cause'] = errorMessage(error.cause);
    try {
      this.hooks.logger?.warn(fields, error.message);
    } catch {
      // A broken logger must not take discovery down; the error is still counted and passed on.
    }
    try {
      this.hooks.onError?.(error);
    } catch {
      // Same contract for onError: it is a notification, never part of the source's control flow.
    }
  }

  info(fields: Record<string, unknown>, message: string): void {
    try {
      this.hooks.logger?.info({ source: this.kind, ...fields }, message);
    } catch {
      // See error(): logging is best effort.
    }
  }

  reloaded(): void {
    this.reloadCount += 1;
  }

  stats(pods: number): PodSourceStats {
    return { pods, errors: { ...this.errorCounts }, reloads: this.reloadCount };
  }
}

/**
 * The current set of one source and the only place that calls its listener: applies a new set,
 * emits the differences one by one (the set already reflects a change when its listener runs),
 * and shields the source from the listener. After `close()` it emits and changes nothing.
 */
export class PodSet {
  private readonly pods = new Map<string, DiscoveredPod>();
  private listener: PodChangeListener | undefined;
  private closed = false;

  constructor(private readonly reporter: SourceReporter) {}

  open(listener: PodChangeListener): void {
    this.listener = listener;
  }

  close(): void {
    this.closed = true;
    this.listener = undefined;
  }

  /** Makes `next` the current set; returns the changes it emitted. */
  replace(next: Iterable<DiscoveredPod>): PodChange[] {
    if (this.closed) return [];
    const changes = diffPods(this.pods.values(), next);
    for (const change of changes) {
      if (change.type === 'removed') this.pods.delete(change.pod.id);
      else this.pods.set(change.pod.id, change.pod);
      this.deliver(change);
    }
    return changes;
  }

  current(): DiscoveredPod[] {
    return [...this.pods.values()];
  }

  get(id: string): DiscoveredPod | undefined {
    return this.pods.get(id);
  }

  get size(): number {
    return this.pods.size;
  }

  private deliver(change: PodChange): void {
    const listener = this.listener;
    if (!listener) return;
    try {
      // The listener is typed to return void, but an async function fits that type too: catch its rejection.
      const result: unknown = listener(change);
      if (isPromiseLike(result)) {
        result.then(undefined, (err: unknown) => this.reportListener(change, err));
      }
    } catch (err) {
      this.reportListener(change, err);
    }
  }

  private reportListener(change: PodChange, err: unknown): void {
    this.reporter.error(
      new DiscoveryError('listener', `pod change listener failed on ${change.type} ${change.pod.id}: ${errorMessage(err)}`, [], { cause: err }),
    );
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
