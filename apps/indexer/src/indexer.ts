/**
 * The indexer: leases partitions (NATS KV), consumes each owned partition into the Redis block
 * index, and serves the Scorer over gRPC from any replica whatever it owns.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection, type Msg, type Subscription } from '@nats-io/transport-node';
import Redis from 'ioredis';
import type { Registry } from 'prom-client';
import { createBlockKeyer, type BlockKeyer } from '@kvr/block-keys';
import { redactUrlPassword, type IndexerConfig } from '@kvr/config';
import { redisKeys, reindexSubject, type PartitionRebuildReport, type ReindexReply, type ReindexRequest } from '@kvr/contracts';
import { isNotFound, SnapshotStore } from '@kvr/jetstream';
import { checkServerSettings, RedisBlockIndex } from '@kvr/kv-index-redis';
import type { Logger } from '@kvr/telemetry';
import { PartitionLeases } from './leases';
import { createIndexerMetrics, type IndexerMetrics } from './metrics';
import { PartitionWorker } from './partition-worker';
import { startGrpcServer } from './grpc-services';

/**
 * The collectors create the events stream; an indexer started first waits for it (logged once,
 * then polled with back-off) instead of failing.
 */
async function waitForStream(nc: NatsConnection, stream: string, logger: Logger): Promise<void> {
  const jsm = await jetstreamManager(nc);
  let delayMs = 200;
  for (let attempt = 0; ; attempt++) {
    try {
      await jsm.streams.info(stream);
      return;
    } catch (err) {
      if (!isNotFound(err)) throw err;
      if (attempt === 0) logger.warn({ stream }, 'waiting for the events stream (a collector creates it)');
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      delayMs = Math.min(delayMs * 2, 5_000);
    }
  }
}

export class Indexer {
  private readonly workers = new Map<number, PartitionWorker>();
  private timer: NodeJS.Timeout | null = null;
  private snapshotTimer: NodeJS.Timeout | null = null;
  private snapshotting: Promise<void> = Promise.resolve();
  private control: Subscription | null = null;
  private balancing: Promise<void> = Promise.resolve();
  private stopping = false;
  /** The index generation this replica has been writing to (see `checkGeneration`). */
  private generation: string | null = null;

  private constructor(
    private readonly config: IndexerConfig,
    private readonly nc: NatsConnection,
    private readonly redis: Redis,
    private readonly readRedis: Redis,
    readonly index: RedisBlockIndex,
    readonly keyer: BlockKeyer,
    private readonly leases: PartitionLeases,
    private readonly snapshots: SnapshotStore,
    private readonly metrics: IndexerMetrics,
    private readonly logger: Logger,
    readonly grpcAddress: string,
    private readonly stopGrpc: () => Promise<void>,
    private readonly instance: string,
  ) {}

  static async start(config: IndexerConfig, logger: Logger, registry: Registry): Promise<Indexer> {
    const instance = config.instance || `${hostname()}-${process.pid}`;
    const redis = new Redis(config.redis, { lazyConnect: true, maxRetriesPerRequest: 3 });
    await redis.connect();
    // Reads (Score, Lookup, Explain, speculative inserts) on a connection of their own, so that a
    // routing lookup never waits in the client's queue behind the partition workers' pipelined
    // reads and apply scripts.
    const readRedis = new Redis(config.redis, { lazyConnect: true, maxRetriesPerRequest: 3 });
    await readRedis.connect().catch((err: unknown) => {
      redis.disconnect();
      throw err;
    });
    const settingsProblem = await checkServerSettings(redis);
    if (settingsProblem) logger.warn({ redis: redactUrlPassword(config.redis) }, settingsProblem);
    const nc = await connect({ servers: config.nats.split(',').map((s) => s.trim()), name: `indexer ${instance}`, maxReconnectAttempts: -1, reconnectTimeWait: 250, waitOnFirstConnect: true, noAsyncTraces: true });
    try {
      const metrics = createIndexerMetrics(registry);
      const keyer = createBlockKeyer({ modelName: 'unused', blockSize: config.blockSize, hashSeed: config.hashSeed });
      const index = new RedisBlockIndex({ redis, keyer, prefix: config.redisPrefix, onRemembered: (outcome) => metrics.rememberedWrites.inc({ outcome }) });
      const readIndex = new RedisBlockIndex({ redis: readRedis, keyer, prefix: config.redisPrefix });
      await waitForStream(nc, config.stream, logger);
      const leases = await PartitionLeases.open(nc, config.leaseBucket, config.leaseTtlSeconds, instance);
      const snapshots = await SnapshotStore.open(nc, { bucket: config.snapshotBucket });
      let owned: () => number[] = () => [];
      const grpc = await startGrpcServer({ address: config.grpc, index: readIndex, keyer, metrics, logger, ownedPartitions: () => owned() });
      const indexer = new Indexer(config, nc, redis, readRedis, index, keyer, leases, snapshots, metrics, logger, grpc.address, grpc.stop, instance);
      owned = () => indexer.ownedPartitions;
      await indexer.balance();
      indexer.timer = setInterval(() => {
        indexer.balancing = indexer.balancing.then(() => indexer.balance()).catch((err: unknown) => logger.warn({ err }, 'lease round failed'));
      }, Math.max(500, (config.leaseTtlSeconds * 1000) / 3));
      if (config.snapshotIntervalSeconds > 0) {
        indexer.snapshotTimer = setInterval(() => {
          indexer.snapshotting = indexer.snapshotting.then(() => indexer.snapshotAll());
        }, config.snapshotIntervalSeconds * 1000);
      }
      indexer.control = nc.subscribe(reindexSubject(config.stream), { callback: (err, msg) => (err ? logger.warn({ err }, 'control subscription failed') : void indexer.answerReindex(msg)) });
      return indexer;
    } catch (err) {
      redis.disconnect();
      readRedis.disconnect();
      await nc.close();
      throw err;
    }
  }

  get ownedPartitions(): number[] {
    return [...this.workers.keys()].sort((a, b) => a - b);
  }

  /**
   * One lease round: announce ourselves, renew what we hold (drop what we lost), give back what is
   * above our fair share (ceil(partitions ÷ live replicas)), then take free partitions up to it.
   * A released partition is free at once; a dead replica's partitions when their leases expire.
   */
  private async balance(): Promise<void> {
    if (this.stopping) return;
    const rebuild = await this.checkGeneration();
    if (rebuild) {
      for (const worker of this.workers.values()) await worker.rebuild('index_lost');
    }
    await this.leases.heartbeat();
    for (const [partition, worker] of this.workers) {
      if (!(await this.leases.renew(worker.lease))) await this.lose(partition);
    }
    const share = Math.ceil(this.config.partitions / (await this.leases.members()));
    const cap = Math.min(share, this.config.maxPartitions === 0 ? this.config.partitions : this.config.maxPartitions);
    for (const partition of [...this.workers.keys()].sort((a, b) => b - a)) {
      if (this.workers.size <= cap) break;
      const worker = this.workers.get(partition) as PartitionWorker;
      this.workers.delete(partition);
      await worker.stop();
      await this.leases.release(worker.lease);
      this.logger.info({ partition, share }, 'partition handed back for balance');
    }
    for (let partition = 0; partition < this.config.partitions && this.workers.size < cap; partition++) {
      if (this.workers.has(partition) || this.stopping) continue;
      const lease = await this.leases.acquire(partition);
      if (!lease) continue;
      const { stream, maxEarlyDeliveries, earlyRedeliveryMs, partitions, blockSize, hashSeed } = this.config;
      const worker = new PartitionWorker(lease, {
        js: jetstream(this.nc),
        jsm: await jetstreamManager(this.nc),
        index: this.index,
        snapshots: this.snapshots,
        metrics: this.metrics,
        logger: this.logger,
        settings: { stream, maxEarlyDeliveries, earlyRedeliveryMs, partitions, blockSize, hashSeed },
        onLost: (p) => void this.lose(p),
        generation: () => this.generation,
        redisGeneration: () => this.redis.get(redisKeys(this.config.redisPrefix).generation()),
      }, rebuild);
      this.workers.set(partition, worker);
      await worker.start();
      if (rebuild) await worker.rebuild('index_lost');
    }
    this.metrics.leases.set(this.workers.size);
  }

  /**
   * Redis lost the index if its generation key is missing (a restart without persistence, a
   * flush) or differs from the one this replica wrote to (another replica saw the loss first).
   * Then every owned partition is rebuilt: its newest snapshot restored and the stream replayed
   * after it (from the start without one). True when that is due.
   */
  private async checkGeneration(): Promise<boolean> {
    const key = redisKeys(this.config.redisPrefix).generation();
    let current = await this.redis.get(key);
    let created = false;
    if (current === null) {
      created = (await this.redis.set(key, randomUUID(), 'NX')) === 'OK';
      current = await this.redis.get(key);
    }
    const changed = this.generation !== null && current !== this.generation;
    if ((created && this.generation !== null) || changed) {
      this.logger.warn({ generation: current }, 'the index in Redis was lost: replaying the stream into it');
    }
    this.generation = current;
    return created || changed;
  }

  /** One snapshot per owned partition, in turn; a failure is logged and counted, and the next round retries. */
  private async snapshotAll(): Promise<void> {
    for (const worker of [...this.workers.values()]) {
      if (this.stopping) return;
      try {
        const info = await worker.snapshot();
        if (info) this.logger.debug({ partition: info.partition, streamSeq: info.streamSeq, pods: info.pods, bytes: info.bytes }, 'snapshot stored');
      } catch (err) {
        this.metrics.snapshots.inc({ partition: String(worker.partition), outcome: 'failed' });
        this.logger.warn({ err, partition: worker.partition }, 'snapshot failed');
      }
    }
  }

  /** Snapshots every owned partition now (tests and operators; the timer does the same). */
  snapshotNow(): Promise<void> {
    this.snapshotting = this.snapshotting.then(() => this.snapshotAll());
    return this.snapshotting;
  }

  /** Rebuilds every partition this replica owns (see PartitionWorker.rebuild). */
  async reindex(request: ReindexRequest = {}): Promise<PartitionRebuildReport[]> {
    const reports: PartitionRebuildReport[] = [];
    for (const worker of [...this.workers.values()].sort((a, b) => a.partition - b.partition)) {
      reports.push(await worker.rebuild('operator', request.model === undefined ? {} : { model: request.model }));
    }
    return reports;
  }

  private async answerReindex(msg: Msg): Promise<void> {
    let reply: ReindexReply;
    try {
      const body = msg.data.length > 0 ? (JSON.parse(new TextDecoder().decode(msg.data)) as unknown) : {};
      const model = typeof body === 'object' && body !== null && typeof (body as ReindexRequest).model === 'string' ? (body as ReindexRequest).model : undefined;
      this.logger.info({ model: model ?? '(all)', partitions: this.ownedPartitions }, 'reindex requested');
      reply = { instance: this.instance, partitions: this.config.partitions, rebuilt: await this.reindex(model === undefined ? {} : { model }) };
    } catch (err) {
      this.logger.error({ err }, 'reindex failed');
      reply = { instance: this.instance, partitions: this.config.partitions, rebuilt: [], error: err instanceof Error ? err.message : String(err) };
    }
    if (msg.reply) msg.respond(JSON.stringify(reply));
  }

  private async lose(partition: number): Promise<void> {
    const worker = this.workers.get(partition);
    if (!worker) return;
    this.workers.delete(partition);
    this.logger.warn({ partition }, 'partition lease lost');
    await worker.stop();
    this.metrics.leases.set(this.workers.size);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    if (this.snapshotTimer) clearInterval(this.snapshotTimer);
    this.control?.unsubscribe();
    await this.balancing.catch(() => undefined);
    await this.snapshotting;
    for (const worker of this.workers.values()) {
      await worker.stop();
      await this.leases.release(worker.lease);
    }
    this.workers.clear();
    await this.leases.leave();
    await this.stopGrpc();
    await this.nc.drain().catch(() => this.nc.close());
    this.redis.disconnect();
    this.readRedis.disconnect();
  }
}
