import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backoffDelayMs, KubeApiClient, LineSplitter, resolveKubeConnection } from './kube-client';
import { parseLabelSelector } from './testing';

describe('LineSplitter', () => {
  it('returns complete lines and carries a partial one into the next chunk', () => {
    const splitter = new LineSplitter();
    expect(splitter.push('{"a":1}\n{"b"')).toEqual(['{"a":1}']);
    expect(splitter.push(':2}\n\n{"c":3}\n')).toEqual(['{"b":2}', '', '{"c":3}']);
    expect(splitter.push('{"d"')).toEqual([]);
    expect(splitter.flush()).toBe('{"d"');
    expect(splitter.flush()).toBe('');
  });

  it('refuses a line longer than its limit', () => {
    const splitter = new LineSplitter(8);
    expect(() => splitter.push('123456789')).toThrow('a watch line exceeds 8 characters');
  });
});

describe('backoffDelayMs', () => {
  it('doubles from the initial delay up to the cap, scaled by a jitter in [0.5, 1)', () => {
    const top = (): number => 0.999_999;
    expect([0, 1, 2, 3, 10, 100].map((attempt) => backoffDelayMs(attempt, 500, 4_000, top))).toEqual([500, 1_000, 2_000, 4_000, 4_000, 4_000]);
    expect(backoffDelayMs(0, 500, 4_000, () => 0)).toBe(250);
  });
});

describe('resolveKubeConnection', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kvr-discovery-sa-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('takes the in-cluster defaults from the environment and the service-account files', async () => {
    writeFileSync(join(dir, 'token'), 'token-1\n');
    writeFileSync(join(dir, 'namespace'), 'llm\n');
    writeFileSync(join(dir, 'ca.crt'), 'PEM');
    const { connection, problems } = await resolveKubeConnection({ serviceAccountDir: dir, env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' } });
    expect(problems).toEqual([]);
    expect(connection?.apiServer.href).toBe('https://[fd00::1]/');
    expect(connection?.namespace).toBe('llm');
    expect(connection?.ca?.toString()).toBe('PEM');
    expect(connection?.origin).toEqual({ token: join(dir, 'token'), ca: join(dir, 'ca.crt') });
    expect(await connection?.token()).toBe('token-1');
    writeFileSync(join(dir, 'token'), 'token-2\n'); // kubelet rotated it
    expect(await connection?.token()).toBe('token-2');
  });

  it('lets options win, and sends no token when none is configured or mounted', async () => {
    const { connection, problems } = await resolveKubeConnection({ apiServer: 'http://127.0.0.1:8001/', namespace: 'default', serviceAccountDir: dir, env: {} });
    expect(problems).toEqual([]);
    expect(connection?.apiServer.href).toBe('http://127.0.0.1:8001/');
    expect(connection?.ca).toBeUndefined();
    expect(await connection?.token()).toBeUndefined();
    const client = new KubeApiClient(connection!, new AbortController().signal);
    expect(client.podsUrl({ labelSelector: 'app=vllm,tier!=cpu', watch: '1' }).href).toBe('http://127.0.0.1:8001/api/v1/namespaces/default/pods?labelSelector=app%3Dvllm%2Ctier%21%3Dcpu&watch=1');
    client.close();
  });

  it('keeps a path prefix of the API server URL (e.g. a proxy)', async () => {
    const { connection } = await resolveKubeConnection({ apiServer: 'https://proxy.example/k8s/clusters/c1/', token: 't', namespace: 'ns', serviceAccountDir: dir });
    const client = new KubeApiClient(connection!, new AbortController().signal);
    expect(client.podsUrl({}).href).toBe('https://proxy.example/k8s/clusters/c1/api/v1/namespaces/ns/pods');
    client.close();
  });

  it('lists every problem at once', async () => {
    const { connection, problems } = await resolveKubeConnection({ tokenFile: join(dir, 'missing-token'), caFile: join(dir, 'missing-ca'), serviceAccountDir: dir, env: {} });
    expect(connection).toBeUndefined();
    expect(problems).toEqual([
      'apiServer: not given, and KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT are not set (not running in a cluster?)',
      expect.stringMatching(/^tokenFile: cannot read .*missing-token: ENOENT/),
      expect.stringMatching(/^caFile: cannot read .*missing-ca: ENOENT/),
      expect.stringMatching(/^namespace: not given, and cannot read .*namespace: ENOENT/),
    ]);
    const bad = await resolveKubeConnection({ apiServer: 'ftp://x', namespace: 'Not_A_Label', token: ' ', serviceAccountDir: dir });
    expect(bad.problems).toEqual(['apiServer: must be an http:// or https:// URL, got "ftp://x"', 'token: must not be empty', 'namespace: must be a DNS-1123 label, got "Not_A_Label"']);
  });
});

describe('parseLabelSelector (the fake API server\'s selector subset)', () => {
  it.each<[string, Record<string, string>, boolean]>([
    ['', {}, true],
    ['app=vllm', { app: 'vllm' }, true],
    ['app==vllm', { app: 'vllm' }, true],
    ['app=vllm', { app: 'other' }, false],
    ['app=vllm,tier!=cpu', { app: 'vllm' }, true],
    ['app=vllm,tier!=cpu', { app: 'vllm', tier: 'cpu' }, false],
    ['llm-d.ai/inference-serving', { 'llm-d.ai/inference-serving': 'true' }, true],
    ['!canary', { canary: 'yes' }, false],
    ['!canary', {}, true],
  ])('%j on %j → %s', (selector, labels, expected) => {
    expect(parseLabelSelector(selector)(labels)).toBe(expected);
  });

  it('refuses set-based terms rather than misreading them', () => {
    expect(() => parseLabelSelector('env in (a,b)')).toThrow('not supported');
  });
});
