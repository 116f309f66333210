// Test helpers for @kvr/discovery (import path `@kvr/discovery/testing`): a fake Kubernetes API
// server that serves pod LIST and WATCH from an in-memory store the test drives, a v1 Pod
// builder, and a recorder for pod changes. Not for production code paths.

import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { KubePod, KubeStatus } from './kube-pods';
import type { PodChange, PodChangeListener } from './types';

export interface KubePodInput {
  name: string;
  /** @default 'default' */
  namespace?: string;
  /** Pod IP; omitted: the pod has none yet (as while it is being scheduled). */
  ip?: string;
  /** @default 'Running' */
  phase?: string;
  /** Condition Ready. @default true */
  ready?: boolean;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Sets a deletionTimestamp (the pod is terminating). */
  deleting?: boolean;
}

/** A v1 Pod shaped like the API server's, with the fields discovery reads and a few it ignores. */
export function kubePod(input: KubePodInput): KubePod {
  const ready = input.ready ?? true;
  const condition = (type: string, status: boolean): { type: string; status: string } => ({ type, status: status ? 'True' : 'False' });
  const namespace = input.namespace ?? 'default';
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: {
      name: input.name,
      namespace,
      uid: `uid-${namespace}-${input.name}`,
      creationTimestamp: '2026-01-01T00:00:00Z',
      ...(input.labels ? { labels: { ...input.labels } } : {}),
      ...(input.annotations ? { annotations: { ...input.annotations } } : {}),
      ...(input.deleting ? { deletionTimestamp: '2026-01-01T01:00:00Z' } : {}),
    },
    spec: { containers: [{ name: 'vllm', image: 'vllm/vllm-openai', ports: [{ containerPort: 8000, protocol: 'TCP' }] }] },
    status: {
      phase: input.phase ?? 'Running',
      ...(input.ip ? { podIP: input.ip, podIPs: [{ ip: input.ip }] } : {}),
      conditions: [condition('PodScheduled', true), condition('Initialized', true), condition('ContainersReady', ready), condition('Ready', ready)],
    },
  };
}

/** One request the fake saw. */
export interface FakeKubeRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** The Authorization header as sent, or undefined. */
  readonly authorization: string | undefined;
  readonly kind: 'list' | 'watch' | 'other';
}

export interface StartFakeKubeApiOptions {
  /** When set, requests must carry `Authorization: Bearer <token>` (else 401). Change it with `setToken`. */
  token?: string;
  /** Serve https with this key and certificate (PEM). @default plain http */
  tls?: { key: string | Buffer; cert: string | Buffer };
}

/** How a failed request fails: an HTTP status (answered with a Status body) or a reset connection. */
export type FakeKubeFailure = number | 'reset';

/**
 * A fake Kubernetes API server on a free loopback port (`listen(0)`), serving
 * `GET /api/v1/namespaces/{ns}/pods` LIST and WATCH (`watch=1`) with label selectors
 * (`k=v`, `k==v`, `k!=v`, `k`, `!k`), resourceVersions and bookmarks, like the real one:
 * a watch from resourceVersion R first replays the history after R, then streams live events;
 * a pod leaving or entering the selector by a label change arrives as DELETED or ADDED.
 */
export interface FakeKubeApi {
  /** `http://127.0.0.1:<port>` (https with `tls`). */
  readonly url: string;
  /** Every request so far, in order. */
  readonly requests: readonly FakeKubeRequest[];
  /** The store's current resourceVersion. */
  readonly resourceVersion: string;
  /** Watches currently open. */
  openWatches(): number;
  /**
   * Creates or replaces a pod (ADDED or MODIFIED) and returns its new resourceVersion. With
   * `notify: false` the change happens but its event is lost (as if compacted away): only a
   * LIST shows it.
   */
  applyPod(pod: KubePod, options?: { notify?: boolean }): string;
  /** Deletes a pod (DELETED event); `notify: false` as for applyPod. */
  deletePod(namespace: string, name: string, options?: { notify?: boolean }): string;
  /** Sends a BOOKMARK with the current resourceVersion to watches that allow bookmarks. */
  bookmark(): void;
  /**
   * Compacts the history: open watches get an `ERROR` event with code 410 and end, and a
   * watch from any earlier resourceVersion gets the same at once (clients must re-LIST).
   */
  expireHistory(): void;
  /** Ends every open watch normally, as the server does when a watch's timeoutSeconds is up. */
  closeWatches(): void;
  /** Writes a raw line (e.g. garbage) into every open watch. */
  pushRawWatchLine(line: string): void;
  /** Makes the next `count` requests of a kind fail. */
  failNext(kind: 'list' | 'watch', failure: FakeKubeFailure, count?: number): void;
  /** Changes the required bearer token (undefined: none required). */
  setToken(token: string | undefined): void;
  stop(): Promise<void>;
}

interface HistoryEntry {
  readonly version: number;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly pod: KubePod;
  /** The pod before this change, for selector transitions. */
  readonly previous: KubePod | undefined;
}

interface OpenWatch {
  readonly res: ServerResponse;
  readonly namespace: string;
  readonly selects: (labels: Readonly<Record<string, string>>) => boolean;
  readonly bookmarks: boolean;
}

export async function startFakeKubeApi(options: StartFakeKubeApiOptions = {}): Promise<FakeKubeApi> {
  const store = new Map<string, KubePod>();
  let history: HistoryEntry[] = [];
  let version = 1;
  let compactedBefore = 0;
  let token = options.token;
  const requests: FakeKubeRequest[] = [];
  const watches = new Set<OpenWatch>();
  const failures: { kind: 'list' | 'watch'; failure: FakeKubeFailure }[] = [];

  const keyOf = (namespace: string, name: string): string => `${namespace}/${name}`;
  const namespaceOf = (pod: KubePod): string => pod.metadata.namespace ?? 'default';
  const withVersion = (pod: KubePod, v: number): KubePod => ({ ...pod, metadata: { ...pod.metadata, namespace: namespaceOf(pod), resourceVersion: String(v) } });

  const eventFor = (entry: HistoryEntry, watch: OpenWatch): { type: string; object: KubePod } | undefined => {
    if (namespaceOf(entry.pod) !== watch.namespace) return undefined;
    const wasSelected = entry.previous !== undefined && watch.selects(entry.previous.metadata.labels ?? {});
    if (entry.type === 'DELETED') return wasSelected ? { type: 'DELETED', object: entry.pod } : undefined;
    const isSelected = watch.selects(entry.pod.metadata.labels ?? {});
    if (isSelected) return { type: wasSelected ? 'MODIFIED' : 'ADDED', object: entry.pod };
    return wasSelected ? { type: 'DELETED', object: entry.pod } : undefined;
  };
  const send = (watch: OpenWatch, event: unknown): void => {
    watch.res.write(`${JSON.stringify(event)}\n`);
  };
  const record = (entry: HistoryEntry): void => {
    history.push(entry);
    for (const watch of watches) {
      const event = eventFor(entry, watch);
      if (event) send(watch, event);
    }
  };
  const goneEvent = (from: string): { type: 'ERROR'; object: KubeStatus } => ({
    type: 'ERROR',
    object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: `too old resource version: ${from} (${compactedBefore})`, reason: 'Expired', code: 410 },
  });

  const respondStatus = (res: ServerResponse, code: number, reason: string, message: string): void => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }));
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const query = Object.fromEntries(url.searchParams.entries());
    const match = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(url.pathname);
    const isWatch = query['watch'] === '1' || query['watch'] === 'true';
    const kind = match && req.method === 'GET' ? (isWatch ? 'watch' : 'list') : 'other';
    requests.push({ method: req.method ?? '', path: url.pathname, query, authorization: req.headers.authorization, kind });

    if (token !== undefined && req.headers.authorization !== `Bearer ${token}`) return respondStatus(res, 401, 'Unauthorized', 'Unauthorized');
    if (!match || req.method !== 'GET') return respondStatus(res, 404, 'NotFound', `the fake serves only GET /api/v1/namespaces/{ns}/pods, not ${req.method} ${url.pathname}`);
    const failureIndex = failures.findIndex((f) => f.kind === kind);
    if (failureIndex >= 0) {
      const failure = failures.splice(failureIndex, 1)[0]!.failure;
      if (failure === 'reset') {
        req.socket.destroy();
        return;
      }
      return respondStatus(res, failure, failure === 410 ? 'Expired' : 'InternalError', `injected failure ${failure}`);
    }
    let selects: (labels: Readonly<Record<string, string>>) => boolean;
    try {
      selects = parseLabelSelector(query['labelSelector'] ?? '');
    } catch (err) {
      return respondStatus(res, 400, 'BadRequest', err instanceof Error ? err.message : String(err));
    }
    const namespace = decodeURIComponent(match[1]!);
    const selected = [...store.values()].filter((pod) => namespaceOf(pod) === namespace && selects(pod.metadata.labels ?? {}));

    if (!isWatch) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: String(version) }, items: selected }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    const watch: OpenWatch = { res, namespace, selects, bookmarks: query['allowWatchBookmarks'] === 'true' };
    const from = query['resourceVersion'] ?? '';
    if (from !== '' && from !== '0' && Number(from) < compactedBefore) {
      send(watch, goneEvent(from));
      res.end();
      return;
    }
    if (from === '' || from === '0') {
      for (const pod of selected) send(watch, { type: 'ADDED', object: pod });
    } else {
      for (const entry of history) {
        if (entry.version <= Number(from)) continue;
        const event = eventFor(entry, watch);
        if (event) send(watch, event);
      }
    }
    watches.add(watch);
    res.on('close', () => watches.delete(watch));
  };

  const server: Server = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, handle) : createHttpServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;

  return {
    url,
    requests,
    get resourceVersion() {
      return String(version);
    },
    openWatches: () => watches.size,
    applyPod(pod, { notify = true } = {}) {
      version += 1;
      const key = keyOf(namespaceOf(pod), pod.metadata.name);
      const previous = store.get(key);
      const stored = withVersion(structuredClone(pod), version);
      store.set(key, stored);
      if (notify) record({ version, type: previous ? 'MODIFIED' : 'ADDED', pod: stored, previous });
      return String(version);
    },
    deletePod(namespace, name, { notify = true } = {}) {
      const key = keyOf(namespace, name);
      const previous = store.get(key);
      if (!previous) throw new Error(`fake kube API: no pod ${key} to delete`);
      version += 1;
      store.delete(key);
      if (notify) record({ version, type: 'DELETED', pod: withVersion(previous, version), previous });
      return String(version);
    },
    bookmark() {
      for (const watch of watches) {
        if (watch.bookmarks) send(watch, { type: 'BOOKMARK', object: { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: String(version) } } });
      }
    },
    expireHistory() {
      compactedBefore = version;
      history = [];
      for (const watch of [...watches]) {
        send(watch, goneEvent('(open watch)'));
        watch.res.end();
        watches.delete(watch);
      }
    },
    closeWatches() {
      for (const watch of [...watches]) {
        watch.res.end();
        watches.delete(watch);
      }
    },
    pushRawWatchLine(line) {
      for (const watch of watches) watch.res.write(`${line}\n`);
    },
    failNext(kind, failure, count = 1) {
      for (let i = 0; i < count; i += 1) failures.push({ kind, failure });
    },
    setToken(next) {
      token = next;
    },
    async stop() {
      for (const watch of watches) watch.res.end();
      watches.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The equality-based subset of Kubernetes label selectors: comma-separated `k=v`, `k==v`,
 * `k!=v`, `k` (exists) and `!k` (absent); an empty selector selects everything. Set-based
 * terms (`in`, `notin`) throw, so that a test cannot silently rely on them.
 */
export function parseLabelSelector(selector: string): (labels: Readonly<Record<string, string>>) => boolean {
  const terms = selector
    .split(',')
    .map((term) => term.trim())
    .filter((term) => term !== '')
    .map((term): ((labels: Readonly<Record<string, string>>) => boolean) => {
      if (/\s(in|notin)\s/.test(term)) throw new Error(`fake kube API: set-based selector "${term}" is not supported`);
      const notEqual = /^([^!=]+)!=(.*)$/.exec(term);
      if (notEqual) return (labels) => labels[notEqual[1]!.trim()] !== notEqual[2]!.trim();
      const equal = /^([^!=]+)==?(.*)$/.exec(term);
      if (equal) return (labels) => labels[equal[1]!.trim()] === equal[2]!.trim();
      if (term.startsWith('!')) return (labels) => !(term.slice(1).trim() in labels);
      return (labels) => term in labels;
    });
  return (labels) => terms.every((test) => test(labels));
}

/** Collects the changes a source emits, for assertions. */
export interface PodChangeRecorder {
  readonly changes: readonly PodChange[];
  /** Pass this to `source.start`. */
  readonly onChange: PodChangeListener;
  /** The changes as `+<id>` / `-<id>`, from change number `from` on. */
  summary(from?: number): string[];
}

export function recordPodChanges(): PodChangeRecorder {
  const changes: PodChange[] = [];
  return {
    changes,
    onChange: (change) => {
      changes.push(change);
    },
    summary: (from = 0) => changes.slice(from).map((change) => `${change.type === 'added' ? '+' : '-'}${change.pod.id}`),
  };
}
