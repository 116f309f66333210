/**
 * Snapshots and rebuilds, end to end on a stream that has been trimmed. Real: `kvr sim` and
 * `kvr collector` processes, nats-server -js, redis-server, the indexer (in process) taking
 * periodic snapshots into the NATS Object Store, `kvctl reindex` and `kvctl snapshots` as
 * processes. Mocked: nothing.
 *
 * After the stream loses its oldest messages (purged up to the snapshots), the index must still
 * converge to exactly the pods' resident blocks: when Redis loses everything (automatic rebuild),
 * and when an operator runs `kvctl reindex` on a corrupted index. A control run without snapshots
 * shows the trimmed stream alone cannot rebuild it, so the test would fail if snapshots did nothing.
 */
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import Redis from 'ioredis';
import { Registry } from 'prom-client';
import { IndexerConfig, loadConfig } from '@kvr/config';
import { EVENTS_STREAM, indexerConsumerName, partitionForPod, redisKeys } from '@kvr/contracts';
import { SnapshotStore } from '@kvr/jetstream';
import { createLogger } from '@kvr/telemetry';
import { compareWithPods, discoveryPodsFor, runCli, startApp, startNats, startRedis, startSimFleet, waitFor, type AppProcess, type NatsServerHandle, type RedisServerHandle, type SimFleet } from '@kvr/testing';
import { Indexer } from './indexer';

const BS = 16;
const MODEL = 'Qwen/Qwen3-32B';
const PARTITIONS = 4;

const compare = (fleet: SimFleet, indexer: Indexer): Promise<{ truth: number; missing: number; extra: number }> => compareWithPods(fleet.pods, indexer.index);

async function converged(fleet: SimFleet, indexer: Indexer, what: string): Promise<void> {
  let last = {};
  await waitFor(
    async () => {
      const c = await compare(fleet, indexer);
      last = c;
      return c.truth > 0 && c.missing === 0 && c.extra === 0 ? true : undefined;
    },
    { what: `${what} (the index to equal the pods' blocks)`, timeoutMs: 30_000 },
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}; last comparison ${JSON.stringify(last)}`);
  });
}

/** Prompts of 13 blocks over `groups` shared prefixes; each round shifts which pod serves which prefix. */
async function traffic(fleet: SimFleet, rounds: readonly number[], groups = 5): Promise<void> {
  for (const round of rounds) {
    for (let g = 0; g < groups; g++) {
      const pod = fleet.pods[(g + round) % 2]!;
      const prefix = Array.from({ length: 160 }, (_, i) => 1000 * (g + 1) + i);
      const prompt = [...prefix, ...Array.from({ length: 40 }, (_, i) => 90_000 + round * 100 + g * 10 + i)];
      const res = await fetch(`${pod.http}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt, max_tokens: 4 }) });
      expect(res.status).toBe(200);
    }
  }
}

describe('index snapshots and rebuilds on a trimmed stream', () => {
  let nats: NatsServerHandle;
  let redis: RedisServerHandle;
  let fleet: SimFleet;
  let collector: AppProcess;
  let indexer: Indexer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let admin: Redis;
  const registry = new Registry();

  beforeAll(async () => {
    [nats, redis] = await Promise.all([startNats(), startRedis()]);
    fleet = await startSimFleet({ pods: 2, timeScale: 50, args: ['--num-gpu-blocks', '48', '--block-size', String(BS)] });
    const specs = discoveryPodsFor(fleet.pods, MODEL);
    collector = await startApp('collector', ['--probe-port', '0'], { env: { KVR_NATS: nats.url, KVR_PARTITIONS: String(PARTITIONS), KVR_DISCOVERY__PODS: JSON.stringify(specs), KVR_LOG_LEVEL: 'warn' } });
    const { config } = loadConfig(IndexerConfig, {
      app: 'indexer',
      env: {},
      overrides: { nats: nats.url, redis: redis.url, partitions: PARTITIONS, blockSize: BS, grpc: '127.0.0.1:0', probePort: 0, leaseTtlSeconds: 3, snapshotIntervalSeconds: 1, logLevel: 'silent' },
    });
    indexer = await Indexer.start(config, createLogger({ app: 'indexer', level: 'silent' }), registry);
    nc = await connect({ servers: nats.url });
    jsm = await jetstreamManager(nc);
    admin = new Redis(redis.url);
  });

  afterAll(async () => {
    admin?.disconnect();
    await nc?.close();
    await indexer?.stop();
    await collector?.stop();
    await fleet?.stop();
    await Promise.all([nats?.stop(), redis?.stop()]);
  });

  /** Partitions holding the pods, once their consumers have caught up and a snapshot covers all they acknowledged. */
  async function snapshotsCurrent(): Promise<number> {
    const store = await SnapshotStore.open(nc);
    const partitions = [...new Set(fleet.pods.map((p) => partitionForPod(p.id, PARTITIONS)))];
    let covered = Number.POSITIVE_INFINITY;
    await waitFor(
      async () => {
        covered = Number.POSITIVE_INFINITY;
        for (const p of partitions) {
          const consumer = await jsm.consumers.info(EVENTS_STREAM, indexerConsumerName(p));
          const snapshot = await store.info(p);
          if (consumer.num_pending + consumer.num_ack_pending > 0 || !snapshot || snapshot.streamSeq !== consumer.ack_floor.stream_seq) return undefined;
          covered = Math.min(covered, snapshot.streamSeq);
        }
        return true;
      },
      { what: 'periodic snapshots covering every acknowledged message', timeoutMs: 20_000 },
    );
    return covered;
  }

  async function wipeIndexKeepingGeneration(): Promise<void> {
    const keys = (await admin.keys('kvr:*')).filter((k) => k !== redisKeys().generation());
    if (keys.length > 0) await admin.del(...keys);
  }

  it('rebuilds the exact index from snapshots + the rest of the stream, automatically and with kvctl reindex', async () => {
    await traffic(fleet, [0, 1, 2]);
    await converged(fleet, indexer, 'first traffic');
    const firstCovered = await snapshotsCurrent();
    // After the snapshots, the rebuild must replay these from the stream. Two prompts only, so most
    // resident blocks were stored before the trim point below (the control at the end needs that).
    await traffic(fleet, [3], 2);
    await converged(fleet, indexer, 'traffic after the snapshots');

    // The stream's bounds trim the oldest messages: here, everything the snapshots cover.
    await jsm.streams.purge(EVENTS_STREAM, { seq: firstCovered + 1 });
    const streamState = (await jsm.streams.info(EVENTS_STREAM)).state;
    expect(streamState.first_seq).toBe(firstCovered + 1);

    const listed = await runCli('kvctl', ['snapshots', '--nats', nats.url, '--json']);
    expect(listed.code).toBe(0);
    const infos = listed.stdout.trim().split('\n').map((l) => JSON.parse(l) as { partition: number; streamSeq: number; pods: number; blocks: number });
    expect(infos.reduce((n, i) => n + i.pods, 0)).toBe(2);
    expect(infos.every((i) => i.streamSeq >= firstCovered && i.blocks > 0)).toBe(true);

    // 1. Redis loses everything: the generation key tells the indexer, which restores and replays.
    await admin.flushall();
    await converged(fleet, indexer, 'the automatic rebuild after Redis lost the index');
    expect(await registry.getSingleMetricAsString('kvr_indexer_rebuilds_total')).toMatch(/trigger="index_lost",source="snapshot"\} [1-9]/);

    // 2. An operator rebuilds a corrupted index (keys gone, generation kept: no automatic rebuild).
    await wipeIndexKeepingGeneration();
    expect((await compare(fleet, indexer)).missing).toBeGreaterThan(0);
    // The damage is noticed and never snapshotted: a periodic snapshot of the wiped partitions
    // would leave reindex nothing to restore.
    await indexer.snapshotNow();
    expect(await registry.getSingleMetricAsString('kvr_indexer_snapshots_total')).toMatch(/outcome="pods_missing"\} [1-9]/);
    const reindexed = await runCli('kvctl', ['reindex', '--nats', nats.url, '--json', '--timeout', '30']);
    expect(reindexed.stderr).toBe('');
    expect(reindexed.code).toBe(0);
    const report = JSON.parse(reindexed.stdout) as { caughtUp: boolean; problems: string[]; partitions: { partition: number; snapshotSeq: number | null; restoredPods: number; replayFrom: number; streamFirstSeq: number; lostMessages: boolean }[] };
    expect(report.problems).toEqual([]);
    expect(report.caughtUp).toBe(true);
    expect(report.partitions.map((p) => p.partition)).toEqual([0, 1, 2, 3]);
    expect(report.partitions.reduce((n, p) => n + p.restoredPods, 0)).toBe(2);
    expect(report.partitions.filter((p) => p.lostMessages)).toEqual([]);
    await converged(fleet, indexer, 'kvctl reindex on a wiped index');

    // A reindex limited to a model no pod serves touches nothing.
    const none = await runCli('kvctl', ['reindex', '--nats', nats.url, '--json', '--model', 'another/model', '--no-wait']);
    expect(none.code).toBe(0);
    expect((JSON.parse(none.stdout) as { partitions: { restoredPods: number; forgottenPods: number }[] }).partitions.every((p) => p.restoredPods === 0 && p.forgottenPods === 0)).toBe(true);
    await converged(fleet, indexer, 'a reindex of another model');

    // Control: without snapshots, the trimmed stream alone cannot rebuild the index.
    await indexer.stop(); // no new snapshots
    indexer = await Indexer.start(
      loadConfig(IndexerConfig, { app: 'indexer', env: {}, overrides: { nats: nats.url, redis: redis.url, partitions: PARTITIONS, blockSize: BS, grpc: '127.0.0.1:0', probePort: 0, leaseTtlSeconds: 3, snapshotIntervalSeconds: 0, snapshotBucket: 'kvr_no_snapshots', logLevel: 'silent' } }).config,
      createLogger({ app: 'indexer', level: 'silent' }),
      new Registry(),
    );
    await wipeIndexKeepingGeneration();
    const blind = await runCli('kvctl', ['reindex', '--nats', nats.url, '--json', '--timeout', '30']);
    const blindReport = JSON.parse(blind.stdout) as { caughtUp: boolean; partitions: { snapshotSeq: number | null; lostMessages: boolean }[] };
    expect(blindReport.caughtUp).toBe(true);
    expect(blindReport.partitions.every((p) => p.snapshotSeq === null)).toBe(true);
    expect(blindReport.partitions.some((p) => p.lostMessages)).toBe(true);
    expect((await compare(fleet, indexer)).missing).toBeGreaterThan(0);

    // Events keep flowing into the rebuilt partitions.
    await traffic(fleet, [4]);
    await waitFor(async () => ((await compare(fleet, indexer)).extra === 0 ? true : undefined), { what: 'no stale entries after more traffic', timeoutMs: 30_000 });
  }, 180_000);
});
