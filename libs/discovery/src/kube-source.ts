import { setTimeout as delay } from 'node:timers/promises';
import { DiscoveryConfigError, DiscoveryError, errorMessage } from './errors';
import { backoffDelayMs, KubeApiClient, KubeHttpError, resolveKubeConnection, type KubernetesConnectionOptions } from './kube-client';
import { judgePod, kubePodKey, KUBERNETES_ANNOTATIONS, type KubePod, type KubeStatus, type PodEndpointDefaults } from './kube-pods';
import { DEFAULT_HTTP_PORT, DEFAULT_ZMQ_PORT, isPort } from './pod-spec';
import { PodSet, samePod, SourceReporter } from './pod-set';
import type { DiscoveredPod, PodChangeListener, PodSource, PodSourceHooks, PodSourceStats } from './types';

export interface KubernetesPodSourceOptions extends KubernetesConnectionOptions, PodSourceHooks {
  /** Which pods, e.g. `llm-d.ai/inference-serving=true` (the API's label selector syntax). Required, never empty. */
  labelSelector: string;
  /** Inference port, the port part of the pod id; annotation `kvr.io/http-port` overrides. @default 8000 */
  httpPort?: number;
  /** KV-events PUB port; annotation `kvr.io/zmq-port` overrides. @default 5557 */
  zmqPort?: number;
  /** Replay ROUTER port, null for none; annotation `kvr.io/replay-port` overrides (`none` disables). @default null */
  replayPort?: number | null;
  /** Annotation (then label) naming the pod's model; null to read none. @default 'kvr.io/model' */
  modelKey?: string | null;
  /** Asked of the server per watch (`timeoutSeconds`); it then ends the stream and we re-watch. @default 300 */
  watchTimeoutSeconds?: number;
  /** Timeout of a LIST request (socket inactivity). @default 30000 */
  listTimeoutMs?: number;
  /** Reconnect backoff after a failure: doubles from `initialMs` up to `maxMs`, with jitter. @default { initialMs: 500, maxMs: 30000 } */
  backoff?: { initialMs?: number; maxMs?: number };
}

/**
 * Pods selected by a label selector in one namespace, kept current with LIST then WATCH:
 *
 * - Only serving pods count: `Running`, a pod IP, `Ready=True`, no deletion timestamp. A Ready
 *   flip to False removes the pod; back to True adds it again.
 * - Watch events are applied in order and the resourceVersion of each (bookmarks included) is
 *   remembered. A stream the server ends (its `timeoutSeconds`) is re-opened from there.
 * - 410 Gone (an `ERROR` event or an HTTP 410: our resourceVersion was compacted away) → LIST
 *   again and emit only the differences from the known set, then watch from the new version.
 * - Network errors and other failures are reported (`kube_request`, `kube_watch`) and retried
 *   with backoff, keeping the known set meanwhile.
 *
 * `start()` rejects when the configuration is incomplete or the first LIST fails (e.g. 403:
 * the service account needs get/list/watch on pods), so a misconfigured app exits at once.
 */
export function kubernetesPodSource(options: KubernetesPodSourceOptions): PodSource {
  return new KubernetesPodSource(options);
}

type WatchOutcome = { kind: 'ended'; lines: number; lastedMs: number } | { kind: 'gone' } | { kind: 'failed'; error: DiscoveryError; relist: boolean };

class KubernetesPodSource implements PodSource {
  readonly kind = 'kubernetes' as const;
  private readonly reporter: SourceReporter;
  private readonly set: PodSet;
  private readonly abort = new AbortController();
  private readonly defaults: PodEndpointDefaults;
  private state: 'idle' | 'starting' | 'running' | 'stopped' = 'idle';
  private client: KubeApiClient | undefined;
  private loop: Promise<void> | undefined;
  /** Serving pods by `namespace/name`, as the API last told us. */
  private serving = new Map<string, DiscoveredPod>();
  /** Problems last reported per pod key, so an unchanged invalid pod is reported once. */
  private readonly reportedInvalid = new Map<string, string>();
  private resourceVersion = '';
  private failures = 0;
  /** 410s since the last watch event: see pauseIfGoneAgain. */
  private goneInARow = 0;

  constructor(private readonly options: KubernetesPodSourceOptions) {
    this.reporter = new SourceReporter('kubernetes', options);
    this.set = new PodSet(this.reporter);
    this.defaults = {
      httpPort: options.httpPort ?? DEFAULT_HTTP_PORT,
      zmqPort: options.zmqPort ?? DEFAULT_ZMQ_PORT,
      replayPort: options.replayPort === undefined ? null : options.replayPort,
      modelKey: options.modelKey === undefined ? KUBERNETES_ANNOTATIONS.model : options.modelKey,
    };
  }

  async start(onChange: PodChangeListener): Promise<void> {
    if (this.state !== 'idle') throw new Error('kubernetes pod source: start() called twice');
    this.state = 'starting';
    const { connection, problems } = await resolveKubeConnection(this.options);
    if (this.state !== 'starting') return; // stop() while resolving
    problems.unshift(...this.optionProblems());
    if (problems.length > 0 || !connection) {
      this.state = 'stopped';
      throw new DiscoveryConfigError('invalid Kubernetes pod source configuration', problems);
    }
    this.client = new KubeApiClient(connection, this.abort.signal);
    this.set.open(onChange);
    try {
      await this.relist();
    } catch (err) {
      if (this.stopped()) return; // stop() during start: nothing was emitted
      await this.stop();
      throw new DiscoveryConfigError(`cannot list pods in namespace "${connection.namespace}" at ${connection.apiServer.origin}`, [firstListProblem(err, connection.namespace)], { cause: err });
    }
    if (this.state !== 'starting') return;
    this.state = 'running';
    this.reporter.info(
      { apiServer: connection.apiServer.href, namespace: connection.namespace, labelSelector: this.options.labelSelector, tokenFrom: connection.origin.token, caFrom: connection.origin.ca, pods: this.set.size, resourceVersion: this.resourceVersion },
      'listed Kubernetes pods; watching',
    );
    this.loop = this.run();
  }

  current(): DiscoveredPod[] {
    return this.set.current();
  }

  stats(): PodSourceStats {
    return this.reporter.stats(this.set.size);
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.set.close();
    this.abort.abort();
    await this.loop;
    this.client?.close();
  }

  /** A method, not an inline comparison: TypeScript would keep `state` narrowed across an await. */
  private stopped(): boolean {
    return this.state === 'stopped';
  }

  private optionProblems(): string[] {
    const problems: string[] = [];
    const o = this.options;
    if (typeof o.labelSelector !== 'string' || o.labelSelector.trim() === '') problems.push('labelSelector: required (an empty selector would watch every pod of the namespace)');
    for (const key of ['httpPort', 'zmqPort'] as const) {
      if (o[key] !== undefined && !isPort(o[key])) problems.push(`${key}: must be an integer 1-65535, got ${String(o[key])}`);
    }
    if (o.replayPort !== undefined && o.replayPort !== null && !isPort(o.replayPort)) problems.push(`replayPort: must be an integer 1-65535 or null, got ${String(o.replayPort)}`);
    if (o.modelKey !== undefined && o.modelKey !== null && o.modelKey.trim() === '') problems.push('modelKey: must not be empty (null reads no model)');
    if (o.watchTimeoutSeconds !== undefined && !(Number.isInteger(o.watchTimeoutSeconds) && o.watchTimeoutSeconds >= 1)) problems.push(`watchTimeoutSeconds: must be an integer >= 1, got ${String(o.watchTimeoutSeconds)}`);
    if (o.listTimeoutMs !== undefined && !(Number.isFinite(o.listTimeoutMs) && o.listTimeoutMs > 0)) problems.push(`listTimeoutMs: must be > 0, got ${String(o.listTimeoutMs)}`);
    const { initialMs, maxMs } = this.backoff();
    if (!(Number.isFinite(initialMs) && initialMs > 0 && Number.isFinite(maxMs) && maxMs >= initialMs)) problems.push(`backoff: needs 0 < initialMs <= maxMs, got ${initialMs} / ${maxMs}`);
    return problems;
  }

  private backoff(): { initialMs: number; maxMs: number } {
    return { initialMs: this.options.backoff?.initialMs ?? 500, maxMs: this.options.backoff?.maxMs ?? 30_000 };
  }

  /** The watch loop: runs until stop(); never rejects. */
  private async run(): Promise<void> {
    let needList = false;
    while (this.state === 'running') {
      try {
        if (needList) {
          await this.relist();
          needList = false;
          this.failures = 0;
          this.reporter.reloaded();
          this.reporter.info({ pods: this.set.size, resourceVersion: this.resourceVersion }, 're-listed Kubernetes pods');
        }
        const outcome = await this.watchOnce();
        if (outcome.kind === 'gone') {
          needList = true;
          this.reporter.info({ resourceVersion: this.resourceVersion }, 'watch expired (410 Gone); re-listing pods');
          await this.pauseIfGoneAgain();
        } else if (outcome.kind === 'failed') {
          needList = outcome.relist;
          const waitMs = this.nextDelay();
          this.reporter.error(new DiscoveryError(outcome.error.reason, `${outcome.error.message}; ${outcome.relist ? 're-listing' : 're-watching'} in ${waitMs} ms`));
          await this.pause(waitMs);
        } else if (outcome.lines === 0 && outcome.lastedMs < 1_000) {
          // A server (or proxy) that closes watches at once must not make us spin (client-go's rule:
          // a watch that lasted under a second and brought nothing counts as a failure).
          await this.pause(this.nextDelay());
        } else {
          this.failures = 0;
        }
      } catch (err) {
        if (this.state !== 'running') break;
        if (err instanceof KubeHttpError && err.status === 410 && !needList) {
          needList = true;
          this.reporter.info({ resourceVersion: this.resourceVersion }, 'watch answered 410 Gone; re-listing pods');
          await this.pauseIfGoneAgain();
          continue;
        }
        const waitMs = this.nextDelay();
        this.reporter.error(new DiscoveryError('kube_request', `${needList ? 'LIST' : 'WATCH'} pods failed: ${errorMessage(err)}; retrying in ${waitMs} ms`, [], { cause: err }));
        await this.pause(waitMs);
      }
    }
  }

  /**
   * A 410 right after a fresh LIST (no event in between) means the server keeps expiring us:
   * back off instead of re-listing in a tight loop. The first 410 re-lists at once.
   */
  private async pauseIfGoneAgain(): Promise<void> {
    this.goneInARow += 1;
    if (this.goneInARow > 1) await this.pause(this.nextDelay());
  }

  private nextDelay(): number {
    const { initialMs, maxMs } = this.backoff();
    const waitMs = backoffDelayMs(this.failures, initialMs, maxMs);
    this.failures += 1;
    return waitMs;
  }

  /** Waits, or returns early when stop() aborts. */
  private async pause(ms: number): Promise<void> {
    try {
      await delay(ms, undefined, { signal: this.abort.signal });
    } catch {
      // aborted by stop(): the loop condition ends the loop
    }
  }

  /** LIST, replace the known set with the answer (emitting only the differences), remember its resourceVersion. */
  private async relist(): Promise<void> {
    const url = this.client!.podsUrl({ labelSelector: this.options.labelSelector });
    const list = await this.client!.list(url, this.options.listTimeoutMs ?? 30_000);
    if (this.stopped()) return;
    const serving = new Map<string, DiscoveredPod>();
    const seen = new Set<string>();
    for (const item of list.items) {
      if (!isKubePod(item)) continue;
      seen.add(kubePodKey(item));
      this.judgeInto(serving, item);
    }
    for (const key of this.reportedInvalid.keys()) if (!seen.has(key)) this.reportedInvalid.delete(key);
    this.serving = serving;
    this.resourceVersion = list.metadata.resourceVersion ?? '';
    this.publish();
  }

  private async watchOnce(): Promise<WatchOutcome> {
    const timeoutSeconds = this.options.watchTimeoutSeconds ?? 300;
    const url = this.client!.podsUrl({
      labelSelector: this.options.labelSelector,
      watch: '1',
      resourceVersion: this.resourceVersion,
      allowWatchBookmarks: 'true',
      timeoutSeconds: String(timeoutSeconds),
    });
    let stoppedWith: WatchOutcome | undefined;
    const openedAt = Date.now();
    // The server may stay silent for the whole timeoutSeconds; only well past it is the connection dead.
    const { lines } = await this.client!.watch(url, timeoutSeconds * 1000 + 30_000, (line) => {
      const verdict = this.applyWatchLine(line);
      if (verdict === 'continue') return 'continue';
      stoppedWith = verdict;
      return 'stop';
    });
    return stoppedWith ?? { kind: 'ended', lines, lastedMs: Date.now() - openedAt };
  }

  /** Applies one watch line; anything but 'continue' ends this watch. */
  private applyWatchLine(line: string): 'continue' | WatchOutcome {
    if (this.state !== 'running') return 'continue';
    let event: unknown;
    try {
      event = JSON.parse(line);
    } catch {
      return { kind: 'failed', relist: true, error: new DiscoveryError('kube_watch', `watch stream carried a line that is not JSON (${clip(line)})`) };
    }
    const type = typeof event === 'object' && event !== null ? (event as { type?: unknown }).type : undefined;
    const object = typeof event === 'object' && event !== null ? (event as { object?: unknown }).object : undefined;
    if (typeof object !== 'object' || object === null) {
      return { kind: 'failed', relist: true, error: new DiscoveryError('kube_watch', `watch stream carried a line that is no watch event (${clip(line)})`) };
    }
    switch (type) {
      case 'ADDED':
      case 'MODIFIED':
      case 'DELETED': {
        if (!isKubePod(object)) return { kind: 'failed', relist: true, error: new DiscoveryError('kube_watch', `watch ${type} event without a pod (${clip(line)})`) };
        this.goneInARow = 0;
        this.noteResourceVersion(object.metadata.resourceVersion);
        const key = kubePodKey(object);
        if (type === 'DELETED') {
          this.serving.delete(key);
          this.reportedInvalid.delete(key);
        } else {
          this.judgeInto(this.serving, object);
        }
        this.publish();
        return 'continue';
      }
      case 'BOOKMARK':
        this.goneInARow = 0;
        this.noteResourceVersion((object as { metadata?: { resourceVersion?: unknown } }).metadata?.resourceVersion);
        return 'continue';
      case 'ERROR': {
        const status = object as KubeStatus;
        if (status.code === 410) return { kind: 'gone' };
        return {
          kind: 'failed',
          relist: false,
          error: new DiscoveryError('kube_watch', `watch ERROR event: ${status.code ?? '?'} ${status.reason ?? ''} ${status.message ?? ''}`.trim()),
        };
      }
      default:
        return { kind: 'failed', relist: true, error: new DiscoveryError('kube_watch', `watch event of unknown type ${JSON.stringify(type)}`) };
    }
  }

  private noteResourceVersion(version: unknown): void {
    if (typeof version === 'string' && version !== '') this.resourceVersion = version;
  }

  /** Records whether `pod` serves, in `into`; reports an invalid pod once per distinct problem. */
  private judgeInto(into: Map<string, DiscoveredPod>, pod: KubePod): void {
    const key = kubePodKey(pod);
    const verdict = judgePod(pod, this.defaults);
    if (verdict.kind === 'serving') {
      into.set(key, verdict.pod);
      this.reportedInvalid.delete(key);
      return;
    }
    into.delete(key);
    if (verdict.kind === 'not-serving') {
      this.reportedInvalid.delete(key);
      return;
    }
    const summary = verdict.problems.join('; ');
    if (this.reportedInvalid.get(key) === summary) return;
    this.reportedInvalid.set(key, summary);
    this.reporter.error(new DiscoveryError('pod_invalid', `pod ${key} is left out: ${summary}`, verdict.problems));
  }

  /**
   * Emits the difference between the current set and the serving pods. Two Kubernetes pods with
   * one id (an IP reused before the old pod's DELETED arrived) yield one pod: the one already
   * emitted when it is among them, else the first.
   */
  private publish(): void {
    const next = new Map<string, DiscoveredPod>();
    for (const pod of this.serving.values()) {
      const taken = next.get(pod.id);
      if (taken) {
        const emitted = this.set.get(pod.id);
        if (emitted && samePod(emitted, pod) && !samePod(emitted, taken)) next.set(pod.id, pod);
        continue;
      }
      next.set(pod.id, pod);
    }
    this.set.replace(next.values());
  }
}

function isKubePod(value: unknown): value is KubePod {
  if (typeof value !== 'object' || value === null) return false;
  const metadata = (value as { metadata?: unknown }).metadata;
  return typeof metadata === 'object' && metadata !== null && typeof (metadata as { name?: unknown }).name === 'string';
}

function clip(text: string): string {
  return JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}…` : text);
}

/** The first LIST's failure as one actionable line. */
function firstListProblem(err: unknown, namespace: string): string {
  if (err instanceof KubeHttpError && (err.status === 401 || err.status === 403)) {
    return `${err.message} (the service account needs get, list and watch on pods in namespace "${namespace}": a Role and RoleBinding)`;
  }
  return errorMessage(err);
}
