/**
 * `kvr load-scorer` as a real process over a real simulated fleet. Real: `kvr sim` processes
 * (their vLLM /metrics), the load scorer started through the CLI, gRPC calls with grpc-js, the
 * admin server. Mocked: nothing.
 *
 * The pods run one request at a time (max-num-seqs 1) at GPU speed, so a few long streamed
 * requests sent to one pod keep it busy with a queue, until the test aborts them.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_LOADER_OPTIONS, protoDir, SCORER_PROTO, type ScoreRequest, type ScoreResponse__Output, type ScorerProtoGrpcType } from '@kvr/contracts';
import { fetchMetrics, freePort, runCli, startApp, startSimFleet, waitFor, type AppProcess, type SimFleet } from '@kvr/testing';

type ScorerClient = InstanceType<ScorerProtoGrpcType['kvr']['scoring']['v1']['Scorer']>;

function scorerClient(address: string): ScorerClient {
  const definition = protoLoader.loadSync(SCORER_PROTO, { ...PROTO_LOADER_OPTIONS, includeDirs: [protoDir()] });
  const proto = grpc.loadPackageDefinition(definition) as unknown as ScorerProtoGrpcType;
  return new proto.kvr.scoring.v1.Scorer(address, grpc.credentials.createInsecure());
}

const podSpec = (pod: { id: string; http: string }) => {
  const url = new URL(pod.http);
  return { address: url.hostname, httpPort: Number(url.port), id: pod.id };
};

describe('load-scorer end to end', () => {
  let fleet: SimFleet;
  let lone: SimFleet;
  let scorer: AppProcess;
  let client: ScorerClient;
  let deadPod: string;
  const loads: AbortController[] = [];

  const score = (request: ScoreRequest): Promise<ScoreResponse__Output> =>
    new Promise((resolve, reject) => client.Score(request, { deadline: Date.now() + 5_000 }, (err, value) => (err || !value ? reject(err ?? new Error('no response')) : resolve(value))));
  const allPods = (): string[] => [...fleet.pods.map((p) => p.id), lone.pods[0]!.id, deadPod];
  const byPod = (response: ScoreResponse__Output): Map<string, { score: number; detail: string }> => new Map(response.scores.map((s) => [s.pod, s]));

  beforeAll(async () => {
    const simEnv = { KVR_SCHEDULER__MAX_NUM_SEQS: '1', KVR_LOG_LEVEL: 'warn' };
    // Room for one long request (prompt + 20000 tokens) per pod: the sim refuses what cannot fit.
    const simArgs = ['--num-gpu-blocks', '2048', '--block-size', '16'];
    let port: number;
    [fleet, lone, port] = await Promise.all([
      startSimFleet({ pods: 2, timeScale: 1, args: simArgs, env: simEnv }),
      startSimFleet({ pods: 1, timeScale: 1, args: simArgs, env: simEnv }),
      freePort(),
    ]);
    // Nothing listens on the dead pod's port: discovered, never scraped successfully.
    deadPod = `127.0.0.1:${port}`;
    const pods = [...fleet.pods.map(podSpec), podSpec(lone.pods[0]!), { address: '127.0.0.1', httpPort: port }];
    scorer = await startApp('load-scorer', ['--grpc', '127.0.0.1:0', '--probe-port', '0', '--scrape-interval-ms', '50'], {
      env: { KVR_DISCOVERY__PODS: JSON.stringify(pods), KVR_LOG_LEVEL: 'info' },
    });
    client = scorerClient(String(scorer.listen['grpc']));
  });

  afterAll(async () => {
    for (const load of loads) load.abort();
    client?.close();
    await scorer?.stop();
    await Promise.all([fleet?.stop(), lone?.stop()]);
  });

  it('scores an idle fleet, leaving out the pod that does not answer', async () => {
    const kv = await waitFor(
      async () => {
        const response = await score({ pods: allPods() });
        return response.scores.length === 3 ? response : undefined;
      },
      { what: 'kv-cache-utilization scores for the three live pods' },
    );
    expect(kv.scorer).toBe('kv-cache-utilization');
    expect(kv.request_blocks).toBe(0);
    expect(byPod(kv).has(deadPod)).toBe(false);
    for (const s of kv.scores) expect([s.score, s.detail, s.matched_blocks]).toEqual([1, 'kv_usage=0', 0]);

    const queue = await score({ pods: allPods(), scorer: 'queue-size' });
    expect(queue.scorer).toBe('queue-size');
    expect(queue.scores.map((s) => s.pod).sort()).toEqual(allPods().filter((p) => p !== deadPod).sort());
    for (const s of queue.scores) expect([s.score, s.detail]).toEqual([1, 'waiting=0 running=0']);
  });

  it('follows a loaded pod: its queue and KV use, then the drain', async () => {
    const [busy, idle] = fleet.pods as [SimFleet['pods'][number], SimFleet['pods'][number]];
    for (let i = 0; i < 4; i++) {
      const controller = new AbortController();
      loads.push(controller);
      const prompt = Array.from({ length: 1000 }, (_, t) => 1000 + i * 1000 + t);
      void fetch(`${busy.http}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt, max_tokens: 20_000, stream: true }),
        signal: controller.signal,
      }).catch(() => undefined);
    }
    // One running, three waiting: the busy pod has the longest queue (score 0), the others 1.
    const queue = await waitFor(
      async () => {
        const scores = byPod(await score({ pods: fleet.pods.map((p) => p.id), scorer: 'queue-size' }));
        return scores.get(busy.id)?.detail === 'waiting=3 running=1' ? scores : undefined;
      },
      { what: 'the busy pod\'s queue in the queue-size scores' },
    );
    expect(queue.get(busy.id)?.score).toBe(0);
    expect(queue.get(idle.id)).toMatchObject({ score: 1, detail: 'waiting=0 running=0' });
    const kv = await waitFor(
      async () => {
        const scores = byPod(await score({ pods: fleet.pods.map((p) => p.id) }));
        return (scores.get(busy.id)?.score ?? 1) < 1 ? scores : undefined;
      },
      { what: 'the busy pod\'s KV use in the kv-cache-utilization scores' },
    );
    const usage = Number(/^kv_usage=([\d.]+)$/.exec(kv.get(busy.id)?.detail ?? '')?.[1]);
    expect(usage).toBeGreaterThan(0);
    expect(kv.get(busy.id)?.score).toBeCloseTo(1 - usage, 4);
    expect(kv.get(idle.id)).toMatchObject({ score: 1, detail: 'kv_usage=0' });

    // Client gone: the pod drops the requests, and every queue is equal again.
    for (const load of loads) load.abort();
    await waitFor(
      async () => {
        const scores = byPod(await score({ pods: fleet.pods.map((p) => p.id), scorer: 'queue-size' }));
        return scores.get(busy.id)?.detail === 'waiting=0 running=0' && scores.get(busy.id)?.score === 1 ? true : undefined;
      },
      { what: 'the busy pod to drain' },
    );
  });

  it('leaves out a pod once it stopped answering and its values went stale', async () => {
    const loneId = lone.pods[0]!.id;
    expect(byPod(await score({ pods: allPods() })).has(loneId)).toBe(true);
    expect(await lone.stop()).toBe(0);
    await waitFor(
      async () => {
        const response = await score({ pods: allPods(), scorer: 'queue-size' });
        return byPod(response).has(loneId) ? undefined : response;
      },
      { what: 'the stopped pod to be left out' },
    );
    const kv = await score({ pods: allPods() });
    expect(kv.scores.map((s) => s.pod).sort()).toEqual(fleet.pods.map((p) => p.id).sort());
  });

  it('answers an unknown scorer with INVALID_ARGUMENT', async () => {
    await expect(score({ pods: allPods(), scorer: 'least-loaded' })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringContaining('unknown scorer "least-loaded"') });
  });

  it('exposes its scrapes, pods and calls on /metrics, and pod counts on /ready', async () => {
    const http = String(scorer.listen['http']);
    const metrics = await fetchMetrics(http);
    const value = (pattern: RegExp): number => Number(pattern.exec(metrics)?.[1] ?? Number.NaN);
    expect(value(/^kvr_load_scorer_scrapes_total\{outcome="ok"[^}]*\} (\d+)$/m)).toBeGreaterThan(0);
    expect(value(/^kvr_load_scorer_scrapes_total\{outcome="error"[^}]*\} (\d+)$/m)).toBeGreaterThan(0);
    expect(value(/^kvr_load_scorer_scrape_seconds_count\{[^}]*\} (\d+)$/m)).toBeGreaterThan(0);
    expect(value(/^kvr_load_scorer_pods\{state="known"[^}]*\} (\d+)$/m)).toBe(4);
    expect(value(/^kvr_load_scorer_pods\{state="fresh"[^}]*\} (\d+)$/m)).toBe(2);
    expect(value(/^kvr_load_scorer_score_total\{scorer="queue-size",outcome="ok"[^}]*\} (\d+)$/m)).toBeGreaterThan(0);
    expect(value(/^kvr_load_scorer_score_total\{scorer="unknown",outcome="invalid"[^}]*\} (\d+)$/m)).toBe(1);
    expect(value(/^kvr_load_scorer_omitted_pods_total\{scorer="kv-cache-utilization"[^}]*\} (\d+)$/m)).toBeGreaterThan(0);
    const ready = await fetch(`${http}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ok', details: { grpc: 'serving', discovery: 'static', podsKnown: 4, podsFresh: 2 } });
  });

  it('stops cleanly, having logged each failing pod once, not at every scrape', async () => {
    expect(await scorer.stop()).toBe(0);
    const logs = scorer
      .stderr()
      .trim()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: string; pod?: string; msg: string });
    const failing = (pod: string) => logs.filter((l) => l.pod === pod && l.msg.startsWith('pod metrics scrape failing'));
    expect(failing(deadPod)).toHaveLength(1);
    expect(failing(lone.pods[0]!.id)).toHaveLength(1);
    expect(logs.some((l) => l.msg === 'stopped')).toBe(true);
  });

  it('refuses an invalid configuration with exit code 2', async () => {
    const result = await runCli('kvr', ['load-scorer', '--scrape-interval-ms', '5', '--probe-port', '0', '--grpc', '127.0.0.1:0']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/scrapeIntervalMs|--scrape-interval-ms/);
    expect(result.stdout).toBe('');
  });
});
