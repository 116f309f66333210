// Real: the source's own LIST/WATCH client over loopback HTTP (a node:http server on port 0) and
// HTTPS (certificate made by the openssl binary, trusted through the service-account ca.crt),
// service-account token/namespace/ca files in a temp directory, socket resets and HTTP errors.
// Faked: the Kubernetes API server itself — `startFakeKubeApi` from ./testing, an in-memory pod
// store with resourceVersions, history replay, label selectors, bookmarks and 410 expiry.
// Waits poll for the observed outcome, never a fixed delay.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary, waitFor } from '@kvr/testing';
import { DiscoveryConfigError, type DiscoveryError } from './errors';
import { kubernetesPodSource, type KubernetesPodSourceOptions } from './kube-source';
import { kubePod, recordPodChanges, startFakeKubeApi, type FakeKubeApi, type KubePodInput, type PodChangeRecorder } from './testing';
import type { PodSource } from './types';

const NAMESPACE = 'llm';
const SELECTOR = 'app=vllm';

let dir: string;
let fake: FakeKubeApi;
let sources: PodSource[];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kvr-discovery-kube-'));
  writeFileSync(join(dir, 'token'), 'token-1\n');
  fake = await startFakeKubeApi({ token: 'token-1' });
  sources = [];
});

afterEach(async () => {
  await Promise.all(sources.map((source) => source.stop()));
  await fake.stop();
  rmSync(dir, { recursive: true, force: true });
});

function until(what: string, condition: () => boolean): Promise<true> {
  return waitFor(async () => (condition() ? true : undefined), { what });
}

/** A selected pod in the test namespace; override anything. */
function vllmPod(name: string, input: Partial<KubePodInput> = {}): ReturnType<typeof kubePod> {
  return kubePod({ name, namespace: NAMESPACE, labels: { app: 'vllm' }, ...input });
}

interface Started {
  source: PodSource;
  recorder: PodChangeRecorder;
  errors: DiscoveryError[];
}

function createSource(options: Partial<KubernetesPodSourceOptions> = {}): { source: PodSource; errors: DiscoveryError[] } {
  const errors: DiscoveryError[] = [];
  const source = kubernetesPodSource({
    apiServer: fake.url,
    tokenFile: join(dir, 'token'),
    namespace: NAMESPACE,
    labelSelector: SELECTOR,
    replayPort: 5558,
    serviceAccountDir: join(dir, 'no-service-account'),
    backoff: { initialMs: 5, maxMs: 40 },
    onError: (err) => errors.push(err),
    ...options,
  });
  sources.push(source);
  return { source, errors };
}

async function startSource(options: Partial<KubernetesPodSourceOptions> = {}): Promise<Started> {
  const { source, errors } = createSource(options);
  const recorder = recordPodChanges();
  await source.start(recorder.onChange);
  return { source, recorder, errors };
}

const lists = (): number => fake.requests.filter((r) => r.kind === 'list').length;
const watchRequests = (): typeof fake.requests => fake.requests.filter((r) => r.kind === 'watch');
const watchOpen = (what: string): Promise<true> => until(what, () => fake.openWatches() === 1);

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err as Error,
  );
}

describe('kubernetesPodSource against a fake API server', () => {
  it('lists the serving pods of the selector (Running, Ready, with IP, not terminating), sending selector and token', async () => {
    fake.applyPod(vllmPod('serving', { ip: '10.0.0.1' }));
    fake.applyPod(vllmPod('not-ready', { ip: '10.0.0.2', ready: false }));
    fake.applyPod(vllmPod('no-ip'));
    fake.applyPod(vllmPod('pending', { ip: '10.0.0.4', phase: 'Pending' }));
    fake.applyPod(vllmPod('succeeded', { ip: '10.0.0.5', phase: 'Succeeded' }));
    fake.applyPod(vllmPod('terminating', { ip: '10.0.0.6', deleting: true }));
    fake.applyPod(vllmPod('other-app', { ip: '10.0.0.7', labels: { app: 'other' } }));
    fake.applyPod(kubePod({ name: 'other-namespace', namespace: 'elsewhere', ip: '10.0.0.8', labels: { app: 'vllm' } }));
    fake.applyPod(
      vllmPod('annotated', {
        ip: '10.0.0.9',
        annotations: { 'kvr.io/zmq-port': '6000', 'kvr.io/replay-port': 'none', 'kvr.io/model': 'Qwen/Qwen3-8B' },
      }),
    );
    const listVersion = fake.resourceVersion;

    const { source, recorder, errors } = await startSource();
    expect(source.kind).toBe('kubernetes');
    expect(recorder.changes.map((c) => c.pod)).toEqual([
      { id: '10.0.0.1:8000', address: '10.0.0.1', httpPort: 8000, zmqEndpoint: 'tcp://10.0.0.1:5557', replayEndpoint: 'tcp://10.0.0.1:5558', name: 'llm/serving' },
      { id: '10.0.0.9:8000', address: '10.0.0.9', httpPort: 8000, zmqEndpoint: 'tcp://10.0.0.9:6000', replayEndpoint: null, model: 'Qwen/Qwen3-8B', name: 'llm/annotated' },
    ]);
    expect(recorder.changes.every((c) => c.type === 'added')).toBe(true);

    expect(fake.requests[0]).toEqual({ method: 'GET', path: '/api/v1/namespaces/llm/pods', query: { labelSelector: SELECTOR }, authorization: 'Bearer token-1', kind: 'list' });
    await watchOpen('the watch to open');
    expect(watchRequests()[0]).toEqual({
      method: 'GET',
      path: '/api/v1/namespaces/llm/pods',
      query: { labelSelector: SELECTOR, watch: '1', resourceVersion: listVersion, allowWatchBookmarks: 'true', timeoutSeconds: '300' },
      authorization: 'Bearer token-1',
      kind: 'watch',
    });
    expect(errors).toEqual([]);
  });

  it('follows watch events: ADDED, a Ready flip (removed, then added back), an endpoint change, leaving the selector, DELETED', async () => {
    fake.applyPod(vllmPod('a', { ip: '10.0.0.1' }));
    const { source, recorder, errors } = await startSource();
    await watchOpen('the watch to open');

    fake.applyPod(vllmPod('b', { ip: '10.0.0.2' }));
    await until('b to be added', () => recorder.changes.length === 2);
    fake.applyPod(vllmPod('a', { ip: '10.0.0.1', ready: false }));
    await until('a to be removed on Ready=False', () => recorder.changes.length === 3);
    fake.applyPod(vllmPod('a', { ip: '10.0.0.1' }));
    await until('a to be added back on Ready=True', () => recorder.changes.length === 4);
    // A change that does not touch what consumers see emits nothing: the next event is the next change.
    fake.applyPod(vllmPod('a', { ip: '10.0.0.1', labels: { app: 'vllm', revision: '2' } }));
    fake.applyPod(vllmPod('not-ready-yet', { ip: '10.0.0.3', ready: false }));
    fake.applyPod(vllmPod('a', { ip: '10.0.0.1', annotations: { 'kvr.io/zmq-port': '7000' } }));
    await until('the zmq port change', () => recorder.changes.length === 6);
    fake.applyPod(vllmPod('b', { ip: '10.0.0.2', labels: { app: 'retired' } }));
    await until('b to leave the selector', () => recorder.changes.length === 7);
    fake.deletePod(NAMESPACE, 'a');
    await until('a to be deleted', () => recorder.changes.length === 8);

    expect(recorder.summary()).toEqual(['+10.0.0.1:8000', '+10.0.0.2:8000', '-10.0.0.1:8000', '+10.0.0.1:8000', '-10.0.0.1:8000', '+10.0.0.1:8000', '-10.0.0.2:8000', '-10.0.0.1:8000']);
    expect(recorder.changes[5]?.pod.zmqEndpoint).toBe('tcp://10.0.0.1:7000');
    expect(source.current()).toEqual([]);
    expect(errors).toEqual([]);
    expect(lists()).toBe(1);
  });

  it('on a 410 Gone ERROR event re-lists and emits only the differences, then watches from the new version', async () => {
    fake.applyPod(vllmPod('a', { ip: '10.0.0.1' }));
    fake.applyPod(vllmPod('b', { ip: '10.0.0.2' }));
    fake.applyPod(vllmPod('c', { ip: '10.0.0.3' }));
    const { source, recorder, errors } = await startSource();
    await watchOpen('the first watch to open');

    // Changes whose events the client never sees (compacted away while it was disconnected).
    fake.deletePod(NAMESPACE, 'b', { notify: false });
    fake.applyPod(vllmPod('c', { ip: '10.0.0.3', ready: false }), { notify: false });
    fake.applyPod(vllmPod('d', { ip: '10.0.0.4' }), { notify: false });
    const relistVersion = fake.resourceVersion;
    fake.expireHistory();

    await until('the resync', () => recorder.changes.length === 6);
    expect(recorder.summary(3)).toEqual(['-10.0.0.2:8000', '-10.0.0.3:8000', '+10.0.0.4:8000']);
    expect(lists()).toBe(2);
    await watchOpen('the watch after the resync');
    expect(watchRequests().at(-1)?.query['resourceVersion']).toBe(relistVersion);

    fake.applyPod(vllmPod('e', { ip: '10.0.0.5' }));
    await until('a live event after the resync', () => recorder.changes.length === 7);
    expect(recorder.summary(6)).toEqual(['+10.0.0.5:8000']);
    expect(source.stats()).toMatchObject({ pods: 3, reloads: 1 });
    expect(errors).toEqual([]);
  });

  it('on an HTTP 410 to the watch request re-lists (backing off when it repeats), without counting an error', async () => {
    fake.applyPod(vllmPod('a', { ip: '10.0.0.1' }));
    fake.failNext('watch', 410, 2);
    const { source, recorder, errors } = await startSource();
    await until('two re-lists', () => lists() === 3);
    await watchOpen('the watch after the re-list');
    fake.applyPod(vllmPod('b', { ip: '10.0.0.2' }));
    await until('b to be added', () => recorder.changes.length === 2);
    expect(recorder.summary()).toEqual(['+10.0.0.1:8000', '+10.0.0.2:8000']);
    expect(errors).toEqual([]);
    expect(source.stats().reloads).toBe(2);
  });

  it('re-watches from the last resourceVersion (bookmarks included) when the server ends the stream, losing nothing', async () => {
    fake.applyPod(vllmPod('a', { ip: '10.0.0.1' }));
    const { recorder, errors } = await startSource();
    await watchOpen('the first watch to open');
    fake.applyPod(vllmPod('b', { ip: '10.0.0.2' }));
    await until('b to be added', () => recorder.changes.length === 2);
    fake.applyPod(kubePod({ name: 'unrelated', namespace: 'elsewhere' })); // moves the version on, invisible to us
    const bookmarkVersion = fake.resourceVersion;
    fake.bookmark();
    // The bookmark is the last line before the end: its version is where the next watch must start.
    fake.closeWatches();
    fake.applyPod(vllmPod('c', { ip: '10.0.0.3' })); // while no watch is open: replayed from the history

    await until('c to be added', () => recorder.changes.length === 3);
    expect(recorder.summary()).toEqual(['+10.0.0.1:8000', '+10.0.0.2:8000', '+10.0.0.3:8000']);
    expect(watchRequests()[1]?.query['resourceVersion']).toBe(bookmarkVersion);
    expect(lists()).toBe(1);
    expect(errors).toEqual([]);
  });

  it('survives resets, HTTP errors, ERROR events and garbage with backoff, reporting each, keeping the set', async () => {
    fake.applyPod(vllmPod('a', { ip: '10.0.0.1' }));
    const { source, recorder, errors } = await startSource();
    await watchOpen('the first watch to open');

    fake.failNext('watch', 'reset');
    fake.failNext('watch', 500);
    fake.closeWatches();
    await until('two failed re-watches', () => errors.length === 2);
    await watchOpen('the watch after two failures');
    expect(errors.map((e) => e.reason)).toEqual(['kube_request', 'kube_request']);
    expect(errors[1]?.message).toMatch(/^WATCH pods failed: GET \/api\/v1\/namespaces\/llm\/pods answered HTTP 500: InternalError: injected failure 500; retrying in \d+ ms$/);

    // A watch ERROR other than 410: reported, re-watched from the same version, no re-list.
    fake.pushRawWatchLine(JSON.stringify({ type: 'ERROR', object: { kind: 'Status', status: 'Failure', code: 500, reason: 'InternalError', message: 'etcd hiccup' } }));
    await until('the ERROR event to be reported', () => errors.length === 3);
    expect(errors[2]).toMatchObject({ reason: 'kube_watch' });
    expect(errors[2]?.message).toMatch(/^watch ERROR event: 500 InternalError etcd hiccup; re-watching in \d+ ms$/);
    await watchOpen('the watch after the ERROR event');
    expect(lists()).toBe(1);

    // A line that is not JSON: we may have missed an event, so re-list (whose first try fails).
    fake.failNext('list', 503);
    fake.pushRawWatchLine('{"type": "ADDED", "object": {');
    await until('the garbage, then the failed re-list, to be reported', () => errors.length === 5);
    expect(errors.slice(3).map((e) => e.reason)).toEqual(['kube_watch', 'kube_request']);
    expect(errors[4]?.message).toMatch(/^LIST pods failed: .*HTTP 503/);
    await until('the successful re-list', () => lists() === 3);
    await watchOpen('the watch after the re-list');

    fake.applyPod(vllmPod('b', { ip: '10.0.0.2' }));
    await until('b to be added', () => recorder.changes.length === 2);
    expect(recorder.summary()).toEqual(['+10.0.0.1:8000', '+10.0.0.2:8000']);
    expect(source.stats()).toMatchObject({ pods: 2, errors: { kube_request: 3, kube_watch: 2 } });
  });

  it('sends the rotated token from the token file on the next request', async () => {
    fake.applyPod(vllmPod('a', { ip: '10.0.0.1' }));
    const { errors } = await startSource();
    await watchOpen('the first watch to open');
    writeFileSync(join(dir, 'token'), 'token-2\n');
    fake.setToken('token-2');
    fake.closeWatches();
    await until('a watch with the new token', () => fake.openWatches() === 1 && watchRequests().at(-1)?.authorization === 'Bearer token-2');
    expect(errors).toEqual([]);
  });

  it('keeps one pod per id when a new pod reuses an IP before the old one is deleted', async () => {
    fake.applyPod(vllmPod('old', { ip: '10.0.0.1' }));
    const { recorder } = await startSource();
    await watchOpen('the watch to open');
    fake.applyPod(vllmPod('new', { ip: '10.0.0.1' }));
    fake.deletePod(NAMESPACE, 'old');
    await until('the handover', () => recorder.changes.length === 3);
    expect(recorder.changes.map((c) => `${c.type} ${c.pod.name ?? ''}`)).toEqual(['added llm/old', 'removed llm/old', 'added llm/new']);
  });

  it('leaves out a pod with a bad annotation, reports it once, and adds it once fixed', async () => {
    fake.applyPod(vllmPod('bad', { ip: '10.0.0.1', annotations: { 'kvr.io/zmq-port': 'zmq' } }));
    const { recorder, errors } = await startSource();
    expect(recorder.changes).toEqual([]);
    expect(errors.map((e) => e.message)).toEqual(['pod llm/bad is left out: annotation kvr.io/zmq-port: must be a port 1-65535, got "zmq"']);
    await watchOpen('the watch to open');
    fake.applyPod(vllmPod('bad', { ip: '10.0.0.1', labels: { app: 'vllm', touched: 'yes' }, annotations: { 'kvr.io/zmq-port': 'zmq' } }));
    fake.applyPod(vllmPod('bad', { ip: '10.0.0.1', annotations: { 'kvr.io/zmq-port': '6000' } }));
    await until('the fixed pod to be added', () => recorder.changes.length === 1);
    expect(recorder.changes[0]?.pod.zmqEndpoint).toBe('tcp://10.0.0.1:6000');
    expect(errors).toHaveLength(1);
  });

  it('stop() closes the open watch', async () => {
    fake.applyPod(vllmPod('a', { ip: '10.0.0.1' }));
    const { source } = await startSource();
    await watchOpen('the watch to open');
    await source.stop();
    await until('the watch connection to close', () => fake.openWatches() === 0);
    expect(source.current()).toHaveLength(1);
    await source.stop();
  });

  it('rejects start() when the first LIST fails, with the reason and what to fix', async () => {
    writeFileSync(join(dir, 'token'), 'wrong-token\n');
    const unauthorized = await rejection(createSource().source.start(() => undefined));
    expect(unauthorized).toBeInstanceOf(DiscoveryConfigError);
    expect(unauthorized.message).toBe(
      `cannot list pods in namespace "llm" at ${fake.url}:\n` +
        '  - GET /api/v1/namespaces/llm/pods answered HTTP 401: Unauthorized: Unauthorized (the service account needs get, list and watch on pods in namespace "llm": a Role and RoleBinding)',
    );

    writeFileSync(join(dir, 'token'), 'token-1\n');
    fake.failNext('list', 403);
    expect((await rejection(createSource().source.start(() => undefined))).message).toMatch(/HTTP 403: .*needs get, list and watch on pods/);
    expect(watchRequests()).toEqual([]);

    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', () => resolve()));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refused = await rejection(createSource({ apiServer: `http://127.0.0.1:${closedPort}` }).source.start(() => undefined));
    expect(refused.message).toMatch(/^cannot list pods in namespace "llm" at http:\/\/127\.0\.0\.1:\d+:\n {2}- connect ECONNREFUSED/);
  });

  it('rejects start() on invalid configuration, listing every problem', async () => {
    const { source } = createSource({ labelSelector: ' ', replayPort: 0, zmqPort: 1.5, namespace: 'Bad_NS', backoff: { initialMs: 10, maxMs: 1 } });
    const error = await rejection(source.start(() => undefined));
    expect(error.message).toBe(
      'invalid Kubernetes pod source configuration:\n' +
        '  - labelSelector: required (an empty selector would watch every pod of the namespace)\n' +
        '  - zmqPort: must be an integer 1-65535, got 1.5\n' +
        '  - replayPort: must be an integer 1-65535 or null, got 0\n' +
        '  - backoff: needs 0 < initialMs <= maxMs, got 10 / 1\n' +
        '  - namespace: must be a DNS-1123 label, got "Bad_NS"',
    );
    expect(fake.requests).toEqual([]);
  });
});

describe('kubernetesPodSource in-cluster defaults over HTTPS', () => {
  let tls: { key: string; cert: string };

  beforeAll(() => {
    const openssl = findBinary('openssl', 'sudo apt-get install -y openssl');
    const certDir = mkdtempSync(join(tmpdir(), 'kvr-discovery-cert-'));
    try {
      execFileSync(openssl, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(certDir, 'key.pem'), '-out', join(certDir, 'cert.pem'), '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'pipe' });
      tls = { key: readFileSync(join(certDir, 'key.pem'), 'utf8'), cert: readFileSync(join(certDir, 'cert.pem'), 'utf8') };
    } finally {
      rmSync(certDir, { recursive: true, force: true });
    }
  });

  it('finds the API server in the environment and token, CA and namespace in the service-account directory', async () => {
    const secure = await startFakeKubeApi({ token: 'in-cluster-token', tls });
    const accountDir = join(dir, 'serviceaccount');
    try {
      mkdirSync(accountDir);
      writeFileSync(join(accountDir, 'token'), 'in-cluster-token');
      writeFileSync(join(accountDir, 'ca.crt'), tls.cert);
      writeFileSync(join(accountDir, 'namespace'), NAMESPACE);
      secure.applyPod(vllmPod('a', { ip: '10.0.0.1' }));
      const port = new URL(secure.url).port;
      const source = kubernetesPodSource({ labelSelector: SELECTOR, serviceAccountDir: accountDir, env: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: port } });
      sources.push(source);
      const recorder = recordPodChanges();
      await source.start(recorder.onChange);
      expect(recorder.summary()).toEqual(['+10.0.0.1:8000']);
      await until('the watch to open over TLS', () => secure.openWatches() === 1);
      secure.applyPod(vllmPod('b', { ip: '10.0.0.2' }));
      await until('b to be added over the TLS watch', () => recorder.changes.length === 2);
      expect(secure.requests.map((r) => r.authorization)).toEqual(['Bearer in-cluster-token', 'Bearer in-cluster-token']);
      await source.stop();
    } finally {
      await secure.stop();
    }
  });

  it('refuses an API server whose certificate the CA does not vouch for', async () => {
    const secure = await startFakeKubeApi({ tls });
    try {
      const source = kubernetesPodSource({ apiServer: secure.url, namespace: NAMESPACE, labelSelector: SELECTOR, serviceAccountDir: join(dir, 'none'), env: {} });
      sources.push(source);
      const error = await rejection(source.start(() => undefined));
      expect(error.message).toMatch(/self[- ]signed certificate/);
      expect(secure.requests).toEqual([]);
    } finally {
      await secure.stop();
    }
  });
});
