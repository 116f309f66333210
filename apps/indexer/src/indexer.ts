/**
 * The indexer: leases partitions (NATS KV), consumes each owned partition into the Redis block
 * index, and serves the Scorer over gRPC from any replica whatever it owns.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import Redis from 'ioredis';
import type { Registry } from 'prom-client';
import { createBlockKeyer, type BlockKeyer } from '@kvr/block-keys';
import type { IndexerConfig } from '@kvr/config';
import { redisKeys } from '@kvr/contracts';
import { isNotFound } from '@kvr/jetstream';
import { RedisBlockIndex } from '@kvr/kv-index-redis';
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
  private balancing: Promise<void> = Promise.resolve();
  private stopping = false;
  /** The index generation this replica has been writing to (see `checkGeneration`). */
  private generation: string | null = null;

  private constructor(
    private readonly config: IndexerConfig,
    private readonly nc: NatsConnection,
    private readonly redis: Redis,
    readonly index: RedisBlockIndex,
    readonly keyer: BlockKeyer,
    private readonly leases: PartitionLeases,
    private readonly metrics: IndexerMetrics,
    private readonly logger: Logger,
    readonly grpcAddress: string,
    private readonly stopGrpc: () => Promise<void>,
  ) {}

  static async start(config: IndexerConfig, logger: Logger, registry: Registry): Promise<Indexer> {
    const instance = config.instance || `${hostname()}-${process.pid}`;
    const redis = new Redis(config.redis, { lazyConnect: true, maxRetriesPerRequest: 3 });
    await redis.connect();
    const nc = await connect({ servers: config.nats.split(',').map((s) => s.trim()), name: `indexer ${instance}`, maxReconnectAttempts: -1, reconnectTimeWait: 250, waitOnFirstConnect: true, noAsyncTraces: true });
    try {
      const metrics = createIndexerMetrics(registry);
      const keyer = createBlockKeyer({ modelName: 'unused', blockSize: config.blockSize, hashSeed: config.hashSeed });
      const index = new RedisBlockIndex({ redis, keyer, prefix: config.redisPrefix });
      await waitForStream(nc, config.stream, logger);
      const leases = await PartitionLeases.open(nc, config.leaseBucket, config.leaseTtlSeconds, instance);
      let owned: () => number[] = () => [];
      const grpc = await startGrpcServer({ address: config.grpc, index, keyer, metrics, logger, ownedPartitions: () => owned() });
      const indexer = new Indexer(config, nc, redis, index, keyer, leases, metrics, logger, grpc.address, grpc.stop);
      owned = () => indexer.ownedPartitions;
      await indexer.balance();
      indexer.timer = setInterval(() => {
        indexer.balancing = indexer.balancing.then(() => indexer.balance()).catch((err: unknown) => logger.warn({ err }, 'lease round failed'));
      }, Math.max(500, (config.leaseTtlSeconds * 1000) / 3));
      return indexer;
    } catch (err) {
      redis.disconnect();
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
    const replay = await this.checkGeneration();
    if (replay) {
      for (const worker of this.workers.values()) await worker.replayFromStart();
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
      const worker = new PartitionWorker(lease, {
        js: jetstream(this.nc),
        jsm: await jetstreamManager(this.nc),
        index: this.index,
        metrics: this.metrics,
        logger: this.logger,
        settings: { stream: this.config.stream, maxEarlyDeliveries: this.config.maxEarlyDeliveries, earlyRedeliveryMs: this.config.earlyRedeliveryMs },
        onLost: (p) => void this.lose(p),
      });
      this.workers.set(partition, worker);
      if (replay) await worker.replayFromStart();
      else await worker.start();
    }
    this.metrics.leases.set(this.workers.size);
  }

  /**
   * Redis lost the index if its generation key is missing (a restart without persistence, a
   * flush) or differs from the one this replica wrote to (another replica saw the loss first).
   * Then every owned partition is replayed from the start of the stream. True when that is due.
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
    await this.balancing.catch(() => undefined);
    for (const worker of this.workers.values()) {
      await worker.stop();
      await this.leases.release(worker.lease);
    }
    this.workers.clear();
    await this.leases.leave();
    await this.stopGrpc();
    await this.nc.drain().catch(() => this.nc.close());
    this.redis.disconnect();
  }
}
