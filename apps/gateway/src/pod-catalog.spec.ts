import { staticPodSource, type DiscoveredPod, type PodChange, type PodChangeListener, type PodSource, type PodSourceStats } from '@kvr/discovery';
import { createLogger } from '@kvr/telemetry';
import { waitFor, freePort } from '@kvr/testing';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { podBaseUrl, PodCatalog } from './pod-catalog';

const logger = createLogger({ app: 'test', level: 'silent' });

const servers: Server[] = [];
const catalogs: PodCatalog[] = [];

afterEach(async () => {
  await Promise.all(catalogs.splice(0).map((c) => c.stop()));
  await Promise.all(
    servers.splice(0).map((server) => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    }),
  );
});

/** A vLLM pod's `/v1/models`, switchable between answering and failing. */
interface ModelsPod {
  port: number;
  /** `/v1/models` requests so far. */
  requests: number;
  /** What it answers: a model list, an HTTP error status, or a broken body. */
  answer: { data: unknown[] } | number | 'garbage';
}

async function modelsPod(data: unknown[]): Promise<ModelsPod> {
  const state: ModelsPod = { port: 0, requests: 0, answer: { data } };
  const server = createServer((req, res) => {
    if (req.url !== '/v1/models') {
      res.writeHead(404);
      res.end();
      return;
    }
    state.requests++;
    const answer = state.answer;
    if (typeof answer === 'number') {
      res.writeHead(answer, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"down"}}');
    } else if (answer === 'garbage') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"object":"list","data":[');
    } else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: answer.data }));
    }
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as AddressInfo).port;
  return state;
}

/** vLLM's model card: `parent` null for the base model, the base model for an adapter. */
const model = (id: string, parent: string | null = null): Record<string, unknown> => ({ id, object: 'model', created: 0, owned_by: 'vllm', root: parent ?? id, parent, max_model_len: 4096 });


const podOf = (id: string, port: number, extra: Partial<DiscoveredPod> = {}): DiscoveredPod => ({ id, address: '127.0.0.1', httpPort: port, zmqEndpoint: 'tcp://127.0.0.1:5557', replayEndpoint: null, ...extra });

/** A discovery source the test drives: the initial pods, then whatever `emit` sends. */
function manualSource(initial: readonly DiscoveredPod[]): PodSource & { emit(change: PodChange): void } {
  let listener: PodChangeListener | undefined;
  const current = new Map(initial.map((p) => [p.id, p]));
  return {
    kind: 'static',
    start(onChange) {
      listener = onChange;
      for (const pod of initial) onChange({ type: 'added', pod });
      return Promise.resolve();
    },
    current: () => [...current.values()],
    stats: () => ({ pods: current.size, errors: {}, reloads: 0 }) as unknown as PodSourceStats,
    stop() {
      listener = undefined;
      return Promise.resolve();
    },
    emit(change) {
      if (change.type === 'added') current.set(change.pod.id, change.pod);
      else current.delete(change.pod.id);
      listener?.(change);
    },
  };
}

async function started(source: PodSource, refreshMs = 60_000): Promise<PodCatalog> {
  const catalog = new PodCatalog(source, logger, refreshMs, 2_000);
  catalogs.push(catalog);
  await catalog.start();
  return catalog;
}

const ids = (catalog: PodCatalog, name: string): string[] | null => catalog.candidatesFor(name)?.pods.map((p) => p.id) ?? null;

describe('podBaseUrl', () => {
  it('builds the pod URL, an IPv6 address in brackets', () => {
    expect(podBaseUrl(podOf('a', 8000, { address: '10.0.0.7' }))).toBe('http://10.0.0.7:8000');
    expect(podBaseUrl(podOf('b', 8001, { address: 'fd00::1' }))).toBe('http://[fd00::1]:8001');
    expect(podBaseUrl(podOf('c', 9000, { address: 'vllm-0.vllm.ns' }))).toBe('http://vllm-0.vllm.ns:9000');
  });
});

describe('PodCatalog', () => {
  it('makes pods answering /v1/models candidates for their model, sorted by id', async () => {
    const pods = await Promise.all([modelsPod([model('m')]), modelsPod([model('m')]), modelsPod([model('m')])]);
    const catalog = await started(
      staticPodSource([
        { id: 'pod-c', address: '127.0.0.1', httpPort: pods[0]!.port },
        { id: 'pod-a', address: '127.0.0.1', httpPort: pods[1]!.port },
        { id: 'pod-b', address: '127.0.0.1', httpPort: pods[2]!.port },
      ]),
    );
    expect(ids(catalog, 'm')).toEqual(['pod-a', 'pod-b', 'pod-c']);
    expect(catalog.candidatesFor('m')).toMatchObject({ baseModel: 'm', loraName: null });
    expect(catalog.stats()).toEqual({ known: 3, answering: 3 });
    expect(pods.map((p) => p.requests)).toEqual([1, 1, 1]);
  });

  it('returns null for a model no pod serves', async () => {
    const pod = await modelsPod([model('m')]);
    const catalog = await started(staticPodSource([{ address: '127.0.0.1', httpPort: pod.port }]));
    expect(catalog.candidatesFor('other')).toBeNull();
  });

  it.each([
    ['answers 500', 500],
    ['answers a broken body', 'garbage' as const],
  ])('leaves out a pod whose /v1/models %s', async (_what, answer) => {
    const good = await modelsPod([model('m')]);
    const bad = await modelsPod([model('m')]);
    bad.answer = answer;
    const catalog = await started(
      staticPodSource([
        { id: 'good', address: '127.0.0.1', httpPort: good.port },
        { id: 'bad', address: '127.0.0.1', httpPort: bad.port },
      ]),
    );
    expect(ids(catalog, 'm')).toEqual(['good']);
    expect(catalog.stats()).toEqual({ known: 2, answering: 1 });
  });

  it('leaves out a pod that refuses connections, and knows its configured model (no pod answering: empty candidates, not null)', async () => {
    const catalog = await started(staticPodSource([{ id: 'dead', address: '127.0.0.1', httpPort: await freePort(), model: 'm' }]));
    expect(catalog.candidatesFor('m')).toEqual({ pods: [], baseModel: 'm', loraName: null });
    expect(catalog.candidatesFor('other')).toBeNull();
    expect(catalog.stats()).toEqual({ known: 1, answering: 0 });
  });

  it('excludes a pod reported unreachable until its /v1/models answers again', async () => {
    const pod = await modelsPod([model('m')]);
    const other = await modelsPod([model('m')]);
    const catalog = await started(
      staticPodSource([
        { id: 'flaky', address: '127.0.0.1', httpPort: pod.port },
        { id: 'other', address: '127.0.0.1', httpPort: other.port },
      ]),
      100,
    );
    expect(ids(catalog, 'm')).toEqual(['flaky', 'other']);
    pod.answer = 503;
    const before = pod.requests;
    catalog.reportUnreachable('flaky');
    expect(ids(catalog, 'm')).toEqual(['other']);
    // Asked again (twice: probes of one pod never overlap, so the first failed answer has been
    // taken in by the time the second probe arrives), still failing: still out.
    await waitFor(() => Promise.resolve(pod.requests >= before + 2 ? true : undefined), { what: 'the catalog to ask the pod again' });
    expect(ids(catalog, 'm')).toEqual(['other']);
    pod.answer = { data: [model('m')] };
    await waitFor(() => Promise.resolve(ids(catalog, 'm')?.includes('flaky') ? true : undefined), { what: 'the pod to be a candidate again' });
    expect(ids(catalog, 'm')).toEqual(['flaky', 'other']);
  });

  it('ignores reports about unknown or already excluded pods', async () => {
    const pod = await modelsPod([model('m')]);
    const catalog = await started(staticPodSource([{ id: 'p', address: '127.0.0.1', httpPort: pod.port }]));
    catalog.reportUnreachable('nobody');
    expect(ids(catalog, 'm')).toEqual(['p']);
    catalog.reportUnreachable('p');
    catalog.reportUnreachable('p');
    expect(catalog.stats()).toEqual({ known: 1, answering: 0 });
  });

  it('drops a pod whose /v1/models stops answering at the next refresh', async () => {
    const pod = await modelsPod([model('m')]);
    const catalog = await started(staticPodSource([{ id: 'p', address: '127.0.0.1', httpPort: pod.port }]), 100);
    expect(ids(catalog, 'm')).toEqual(['p']);
    pod.answer = 500;
    await waitFor(() => Promise.resolve(catalog.candidatesFor('m')?.pods.length === 0 ? true : undefined), { what: 'the pod to drop out' });
    // Still known (503, not 404), with the models it last listed.
    expect(catalog.candidatesFor('m')).toEqual({ pods: [], baseModel: 'm', loraName: null });
  });

  it('asks a pod added after start at once, and forgets a removed pod', async () => {
    const first = await modelsPod([model('m')]);
    const second = await modelsPod([model('m'), model('only-second')]);
    const source = manualSource([podOf('first', first.port)]);
    const catalog = await started(source);
    expect(ids(catalog, 'm')).toEqual(['first']);
    source.emit({ type: 'added', pod: podOf('second', second.port) });
    await waitFor(() => Promise.resolve(ids(catalog, 'm')?.length === 2 ? true : undefined), { what: 'the added pod to answer' });
    expect(catalog.models().map((m) => m.id)).toEqual(['m', 'only-second']);
    source.emit({ type: 'removed', pod: podOf('second', second.port) });
    expect(ids(catalog, 'm')).toEqual(['first']);
    expect(catalog.candidatesFor('only-second')).toBeNull();
    expect(catalog.models().map((m) => m.id)).toEqual(['m']);
    expect(catalog.stats()).toEqual({ known: 1, answering: 1 });
    // A report about the forgotten pod changes nothing.
    catalog.reportUnreachable('second');
    expect(catalog.stats()).toEqual({ known: 1, answering: 1 });
  });

  it('takes a pod re-added with a new endpoint from the new endpoint', async () => {
    const old = await modelsPod([model('old-model')]);
    const moved = await modelsPod([model('new-model')]);
    const source = manualSource([podOf('p', old.port)]);
    const catalog = await started(source);
    expect(ids(catalog, 'old-model')).toEqual(['p']);
    source.emit({ type: 'removed', pod: podOf('p', old.port) });
    source.emit({ type: 'added', pod: podOf('p', moved.port) });
    await waitFor(() => Promise.resolve(ids(catalog, 'new-model')?.length === 1 ? true : undefined), { what: 'the moved pod to answer' });
    expect(catalog.candidatesFor('old-model')).toBeNull();
    expect(catalog.candidatesFor('new-model')!.pods[0]!.httpPort).toBe(moved.port);
  });

  describe('models and LoRA adapters', () => {
    it('lists base models and adapters with their parent, once each, sorted by id', async () => {
      const a = await modelsPod([model('llama'), model('sql-lora', 'llama'), model('chat-lora', 'llama')]);
      const b = await modelsPod([model('llama'), model('sql-lora', 'llama'), model('qwen')]);
      const catalog = await started(
        staticPodSource([
          { id: 'a', address: '127.0.0.1', httpPort: a.port },
          { id: 'b', address: '127.0.0.1', httpPort: b.port },
        ]),
      );
      expect(catalog.models()).toEqual([
        { id: 'chat-lora', parent: 'llama' },
        { id: 'llama', parent: null },
        { id: 'qwen', parent: null },
        { id: 'sql-lora', parent: 'llama' },
      ]);
    });

    it('routes an adapter on its base model, with only the pods that load the adapter', async () => {
      const a = await modelsPod([model('llama'), model('sql-lora', 'llama')]);
      const b = await modelsPod([model('llama')]);
      const catalog = await started(
        staticPodSource([
          { id: 'a', address: '127.0.0.1', httpPort: a.port },
          { id: 'b', address: '127.0.0.1', httpPort: b.port },
        ]),
      );
      expect(catalog.candidatesFor('sql-lora')).toEqual({ pods: [expect.objectContaining({ id: 'a' })], baseModel: 'llama', loraName: 'sql-lora' });
      expect(catalog.candidatesFor('llama')).toMatchObject({ baseModel: 'llama', loraName: null });
      expect(ids(catalog, 'llama')).toEqual(['a', 'b']);
    });

    it('treats a parent equal to the id, or not a string, as a base model; skips entries without an id', async () => {
      const pod = await modelsPod([{ id: 'self', parent: 'self' }, { id: 'odd', parent: 7 }, { object: 'model' }, { id: 12 }]);
      const catalog = await started(staticPodSource([{ address: '127.0.0.1', httpPort: pod.port }]));
      expect(catalog.models()).toEqual([
        { id: 'odd', parent: null },
        { id: 'self', parent: null },
      ]);
    });

    it('prefers the models a pod lists over its configured model', async () => {
      const pod = await modelsPod([model('served')]);
      const catalog = await started(staticPodSource([{ address: '127.0.0.1', httpPort: pod.port, model: 'configured' }]));
      expect(catalog.candidatesFor('configured')).toBeNull();
      expect(catalog.candidatesFor('served')?.pods).toHaveLength(1);
    });

    // BUG? (pod-catalog.ts models(), line ~84): Gateway.models() documents GET /v1/models as "every
    // model and adapter some *reachable* pod serves", but PodCatalog.models() also lists the last
    // models of pods that stopped answering (their `models` are kept when /v1/models fails). So
    // clients are offered models that will only get 503. Fix: skip `!state.answering` pods in
    // models() — or, if listing them is intended, correct the doc comment in gateway.ts.
    it('lists only models some answering pod serves', async () => {
      const up = await modelsPod([model('m')]);
      const down = await modelsPod([model('m'), model('gone')]);
      const catalog = await started(
        staticPodSource([
          { id: 'up', address: '127.0.0.1', httpPort: up.port },
          { id: 'down', address: '127.0.0.1', httpPort: down.port },
        ]),
      );
      down.answer = 500;
      catalog.reportUnreachable('down');
      expect(catalog.models().map((m) => m.id)).toEqual(['m']);
    });
  });
});
