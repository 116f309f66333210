/**
 * Sim fleet → collector → JetStream → indexer → Redis, end to end. Real: `kvr sim` and
 * `kvr collector` processes, nats-server -js, redis-server, the indexer (in process), its gRPC
 * Scorer. Mocked: nothing. The index must converge to exactly the pods' resident blocks (their
 * debug endpoint, labelled with request keys), through a workload with evictions.
 */
import * as grpc from '@grpc/grpc-js';
import Redis from 'ioredis';
import { Registry } from 'prom-client';
import { createBlockKeyer } from '@kvr/block-keys';
import { IndexerConfig, loadConfig } from '@kvr/config';
import type { ScoreResponse__Output } from '@kvr/contracts';
import { createLogger } from '@kvr/telemetry';
import { discoveryPodsFor, indexedBlocks, residentBlocks, runCli, startApp, startNats, startRedis, startSimFleet, waitFor, type AppProcess, type NatsServerHandle, type RedisServerHandle, type SimFleet } from '@kvr/testing';
import { Indexer } from './indexer';
import { indexerProto, scorerProto } from './grpc-services';

const BS = 16;
const MODEL = 'Qwen/Qwen3-32B';

describe('indexer end to end', () => {
  let nats: NatsServerHandle;
  let redis: RedisServerHandle;
  let fleet: SimFleet;
  let collector: AppProcess;
  let indexer: Indexer;
  const registry = new Registry();

  beforeAll(async () => {
    [nats, redis] = await Promise.all([startNats(), startRedis()]);
    fleet = await startSimFleet({ pods: 2, timeScale: 50, args: ['--num-gpu-blocks', '48', '--block-size', String(BS)] });
    const specs = discoveryPodsFor(fleet.pods, MODEL);
    collector = await startApp('collector', ['--probe-port', '0'], { env: { KVR_NATS: nats.url, KVR_PARTITIONS: '4', KVR_DISCOVERY__PODS: JSON.stringify(specs), KVR_LOG_LEVEL: 'warn' } });
    const { config } = loadConfig(IndexerConfig, {
      app: 'indexer',
      env: {},
      overrides: { nats: nats.url, redis: redis.url, partitions: 4, blockSize: BS, grpc: '127.0.0.1:0', probePort: 0, leaseTtlSeconds: 3, logLevel: 'silent' },
    });
    indexer = await Indexer.start(config, createLogger({ app: 'indexer', level: 'silent' }), registry);
  });

  afterAll(async () => {
    await indexer?.stop();
    await collector?.stop();
    await fleet?.stop();
    await Promise.all([nats?.stop(), redis?.stop()]);
  });

  it('converges to the pods\' resident blocks through evictions, and scores from it', async () => {
    expect(indexer.ownedPartitions).toEqual([0, 1, 2, 3]);
    const prefixes = Array.from({ length: 5 }, (_, g) => Array.from({ length: 160 }, (_, i) => 1000 * (g + 1) + i));
    for (let round = 0; round < 3; round++) {
      for (const [g, prefix] of prefixes.entries()) {
        const pod = fleet.pods[(g + round) % 2]!;
        const prompt = [...prefix, ...Array.from({ length: 40 }, (_, i) => 90_000 + round * 100 + g * 10 + i)];
        const res = await fetch(`${pod.http}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt, max_tokens: 4 }) });
        expect(res.status).toBe(200);
      }
    }
    // 48 blocks per pod, 15 prompts of ~13 blocks: pods evicted; the index must have followed.
    const metrics = await (await fetch(`${fleet.pods[0]!.http}/metrics`)).text();
    expect(metrics).toMatch(/kvr_sim_event_batches_total\{kind="live"\} \d+/);
    let last = { truth: 0, index: 0, missing: [] as string[], extra: [] as string[] };
    await waitFor(
      async () => {
        const [truth, index] = await Promise.all([residentBlocks(fleet.pods), indexedBlocks(indexer.index)]);
        const missing = [...truth].filter((k) => !index.has(k));
        const extra = [...index].filter((k) => !truth.has(k));
        last = { truth: truth.size, index: index.size, missing: missing.slice(0, 3), extra: extra.slice(0, 3) };
        return missing.length === 0 && extra.length === 0 && truth.size > 0 ? true : undefined;
      },
      { what: `the index to equal the pods' blocks (last: ${JSON.stringify(last)})`, timeoutMs: 30_000 },
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}; last comparison ${JSON.stringify(last)}`);
    });

    // The workload did evict: the index followed removals, not only stores.
    const evictions = Number(/kvr_indexer_evictions_total(?:\{[^}]*\})? (\d+)/.exec(await registry.metrics())?.[1] ?? 0);
    expect(evictions).toBeGreaterThan(10);
    // Freshness: every applied batch's age was observed (engine timestamp → index write).
    const ages = await registry.getSingleMetricAsString('kvr_indexer_event_age_seconds');
    expect(Number(/kvr_indexer_event_age_seconds_count (\d+)/.exec(ages)?.[1])).toBeGreaterThan(0);

    // The Scorer over gRPC: the pod that served a prompt last holds its prefix.
    const client = new (scorerProto().kvr.scoring.v1.Scorer)(indexer.grpcAddress, grpc.credentials.createInsecure());
    const prompt = [...prefixes[4]!, ...Array.from({ length: 40 }, (_, i) => 90_000 + 2 * 100 + 4 * 10 + i)];
    const response = await new Promise<ScoreResponse__Output>((resolve, reject) =>
      client.Score({ model: MODEL, pods: fleet.pods.map((p) => p.id), token_ids: prompt }, (err, value) => (err || !value ? reject(err ?? new Error('no response')) : resolve(value))),
    );
    client.close();
    const expectedKeys = createBlockKeyer({ modelName: MODEL, blockSize: BS }).keysForTokens(prompt);
    expect(response.request_blocks).toBe(expectedKeys.length);
    const byPod = new Map(response.scores.map((s) => [s.pod, s]));
    const holder = fleet.pods[(4 + 2) % 2]!.id;
    expect(byPod.get(holder)!.matched_blocks).toBeGreaterThan(0);
    expect(byPod.get(holder)!.score).toBeCloseTo(byPod.get(holder)!.matched_blocks / expectedKeys.length, 6);

    // kvctl lookup and dump through the Indexer service agree with the Scorer.
    const lookup = await runCli('kvctl', ['lookup', '--indexer', indexer.grpcAddress, '--model', MODEL, '--tokens', prompt.join(','), '--json']);
    expect(lookup.code).toBe(0);
    const explained = JSON.parse(lookup.stdout) as { request_blocks: number; pods: { pod: string; matched_blocks: number }[]; blocks: { request_key: string; pods: string[] }[] };
    expect(explained.request_blocks).toBe(expectedKeys.length);
    expect(explained.pods.find((p) => p.pod === holder)?.matched_blocks).toBe(byPod.get(holder)!.matched_blocks);
    expect(explained.blocks[0]).toEqual({ request_key: expectedKeys[0]!.toString(), pods: expect.arrayContaining([holder]) });
    const dump = await runCli('kvctl', ['dump', '--indexer', indexer.grpcAddress, '--pod', holder, '--limit', '5', '--json']);
    const lines = dump.stdout.trim().split('\n').map((l) => JSON.parse(l) as { pod: string });
    expect(lines).toHaveLength(5);
    expect(lines.every((l) => l.pod === holder)).toBe(true);

    // Speculative entries through the service, visible to lookups until they expire.
    const service = new (indexerProto().kvr.index.v1.Indexer)(indexer.grpcAddress, grpc.credentials.createInsecure());
    const fresh = Array.from({ length: 64 }, (_, i) => 500_000 + i);
    const inserted = await new Promise<{ blocks: number }>((resolve, reject) =>
      service.SpeculativeInsert({ model: MODEL, pod: fleet.pods[1]!.id, token_ids: fresh, ttl_ms: 60_000 }, (err, value) => (err || !value ? reject(err ?? new Error('no response')) : resolve(value))),
    );
    expect(inserted.blocks).toBe(4);
    const stats = await new Promise<{ speculative_entries: string; owned_partitions: number[] }>((resolve, reject) =>
      service.Stats({}, (err, value) => (err || !value ? reject(err ?? new Error('no response')) : resolve(value as never))),
    );
    expect(stats.speculative_entries).toBe('4');
    expect(stats.owned_partitions).toEqual([0, 1, 2, 3]);
    service.close();

    // Redis loses everything (a restart without persistence): the indexer notices the missing
    // generation key and replays the stream; the index converges to the pods again.
    const admin = new Redis(redis.url);
    await admin.flushall();
    admin.disconnect();
    await waitFor(
      async () => {
        const [truth, index] = await Promise.all([residentBlocks(fleet.pods), indexedBlocks(indexer.index)]);
        return truth.size > 0 && truth.size === index.size && [...truth].every((k) => index.has(k)) ? true : undefined;
      },
      { what: 'the index to be rebuilt from the stream after Redis lost it', timeoutMs: 30_000 },
    );
  });
});
