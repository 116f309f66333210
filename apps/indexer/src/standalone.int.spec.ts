/**
 * The standalone indexer (no NATS, no Redis). Real: `kvr sim` pods on real ZMQ sockets, the
 * collector's ingest, the in-memory index, the gRPC services, kvctl. Mocked: nothing.
 * The index must equal what the pods hold (their /debug/blocks), through first contact with pods
 * that already served requests, evictions and an engine restart.
 */
import { Registry } from 'prom-client';
import { IndexerConfig, loadConfig } from '@kvr/config';
import { createLogger } from '@kvr/telemetry';
import { compareWithPods, discoveryPodsFor, runCli, startApp, startSimFleet, sumSamples, waitFor, type SimFleet } from '@kvr/testing';
import { StandaloneIndexer } from './standalone';

const MODEL = 'Qwen/Qwen3-32B';

async function complete(pod: { http: string }, first: number, length: number): Promise<void> {
  const prompt = Array.from({ length }, (_, i) => first + i);
  const res = await fetch(`${pod.http}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, prompt, max_tokens: 2 }) });
  expect(res.status).toBe(200);
  await res.text();
}

function indexEquals(fleet: SimFleet, index: Parameters<typeof compareWithPods>[1], what: string) {
  return waitFor(
    async () => {
      const diff = await compareWithPods(fleet.pods, index);
      return diff.truth > 0 && diff.missing === 0 && diff.extra === 0 ? diff : undefined;
    },
    { what, timeoutMs: 20_000 },
  );
}

describe('standalone indexer', () => {
  let fleet: SimFleet;

  beforeAll(async () => {
    fleet = await startSimFleet({ pods: 2, args: ['--num-gpu-blocks', '40', '--model', MODEL] });
  });

  afterAll(async () => {
    await fleet.stop();
  });

  it('keeps an in-memory index equal to the pods through first contact, evictions and an engine restart', async () => {
    // Served before the indexer exists, then the pod goes quiet: catch-up replays its buffer from 0.
    await complete(fleet.pods[0]!, 1_000, 300);
    await waitFor(async () => ((await (await fetch(`${fleet.pods[0]!.http}/debug/blocks`)).json()) as { nextSeq: string }).nextSeq !== '0' || undefined, { what: 'pod 0 to publish its first batch (to nobody)' });
    const registry = new Registry();
    const { config } = loadConfig(IndexerConfig, {
      app: 'indexer',
      env: {},
      overrides: { standalone: true, grpc: '127.0.0.1:0', partitions: 4, logLevel: 'silent', discovery: { kind: 'static', pods: discoveryPodsFor(fleet.pods, MODEL) } },
    });
    const indexer = await StandaloneIndexer.start(config, createLogger({ app: 'indexer', level: (process.env['KVR_TEST_LOG'] as 'info' | undefined) ?? 'silent' }), registry);
    try {
      // No further traffic: the lane's catch-up replays what the pod did before it was subscribed to.
      await indexEquals(fleet, indexer.index, 'the index to hold what pod 0 served before the indexer started');
      // Enough distinct prompts to overflow 40 blocks per pod: evictions reach the index too.
      for (let i = 0; i < 12; i++) await complete(fleet.pods[i % 2]!, 10_000 * (i + 2), 400);
      await indexEquals(fleet, indexer.index, 'the index to follow stores and evictions on both pods');
      const metrics = await registry.metrics();
      expect(sumSamples(metrics, 'kvr_indexer_evictions_total')).toBeGreaterThan(0);
      expect(sumSamples(metrics, 'kvr_collector_batches_received_total', { source: 'replay' })).toBeGreaterThan(0);

      // A crash of pod 1's engine: its sequence goes back, the ingest starts a new epoch and the
      // index forgets the pod's blocks, then follows what it stores next.
      const restart = await fetch(`${fleet.pods[1]!.http}/debug/restart`, { method: 'POST' });
      expect(restart.status).toBe(200);
      await complete(fleet.pods[1]!, 900_000, 200);
      await indexEquals(fleet, indexer.index, 'the index to drop the restarted engine and follow it again');
      const after = await registry.metrics();
      expect(sumSamples(after, 'kvr_pod_resets_total', { reason: 'engine_restart' })).toBe(1);
      expect(sumSamples(after, 'kvr_indexer_messages_total', { outcome: 'invalid' })).toBe(0);
    } finally {
      await indexer.stop();
    }
  });

  it('runs as `kvr indexer --standalone` without NATS or Redis and answers kvctl', async () => {
    // Unreachable NATS and Redis addresses: the standalone mode must not touch them.
    const indexer = await startApp('indexer', ['--standalone', '--grpc', '127.0.0.1:0', '--probe-port', '0'], {
      env: { KVR_NATS: 'nats://127.0.0.1:1', KVR_REDIS: 'redis://127.0.0.1:1', KVR_DISCOVERY__PODS: JSON.stringify(discoveryPodsFor(fleet.pods, MODEL)) },
    });
    try {
      const grpc = String(indexer.listen['grpc']);
      const ready = (await (await fetch(`${String(indexer.listen['http'])}/ready`)).json()) as { details: { backends: unknown; pods: number } };
      expect(ready.details).toMatchObject({ backends: { bus: 'in-process', index: 'memory' }, pods: 2 });
      await complete(fleet.pods[0]!, 5_000_000, 256);
      const dump = await waitFor(
        async () => {
          const result = await runCli('kvctl', ['dump', '--indexer', grpc, '--pod', fleet.pods[0]!.id, '--json']);
          if (result.code !== 0) throw new Error(result.stderr);
          const entries = result.stdout.trim().split('\n').filter(Boolean);
          return entries.length > 0 ? entries : undefined;
        },
        { what: "pod 0's blocks in the standalone index", timeoutMs: 20_000 },
      );
      expect(JSON.parse(dump[0] as string)).toMatchObject({ pod: fleet.pods[0]!.id, speculative: false });
    } finally {
      expect(await indexer.stop()).toBe(0);
    }
  });
});
