/**
 * The standalone indexer (`kvr indexer --standalone`): collector and indexer in one process for
 * machines without nats-server and redis-server. Pods' ZMQ streams go through the collector's own
 * per-pod ingest (ordering, gap replay, restart detection: the same code as `kvr collector`) into
 * an in-process bus, and from there, in order, into the in-memory index, served on the same gRPC
 * services as the product. What it gives up: sharing (one replica), durability (the index is
 * rebuilt from the pods' replay buffers at start), rebuilds and snapshots.
 */
import type { Registry } from 'prom-client';
import { createBlockKeyer, type BlockKeyer } from '@kvr/block-keys';
import { Collector, createCollectorMetrics, ingestSettings, InProcessBus, type BusMessage } from '@kvr/collector';
import type { IndexerConfig } from '@kvr/config';
import { podSourceFromSettings, type PodSource } from '@kvr/discovery';
import { MemoryBlockIndex } from '@kvr/kv-index';
import type { Logger } from '@kvr/telemetry';
import { recordApplied } from './applied';
import { startGrpcServer } from './grpc-services';
import { parseStreamMessage } from './messages';
import { createIndexerMetrics, type IndexerMetrics } from './metrics';

/** Partition label of the standalone index's series (it has no partitions). */
const ALL = { partition: 'all' };

export class StandaloneIndexer {
  private constructor(
    readonly index: MemoryBlockIndex,
    readonly keyer: BlockKeyer,
    private readonly bus: InProcessBus,
    private readonly collector: Collector,
    readonly grpcAddress: string,
    private readonly stopGrpc: () => Promise<void>,
  ) {}

  static async start(config: IndexerConfig, logger: Logger, registry: Registry, source: PodSource = podSourceFromSettings(config.discovery, logger.child({ component: 'discovery' }))): Promise<StandaloneIndexer> {
    const metrics = createIndexerMetrics(registry);
    const keyer = createBlockKeyer({ modelName: 'unused', blockSize: config.blockSize, hashSeed: config.hashSeed });
    const index = new MemoryBlockIndex({ keyer });
    const bus = new InProcessBus({
      onConsumerError: (err, message) => logger.error({ err, subject: message.subject, seq: message.seq }, 'applying a message to the in-memory index failed'),
    });
    bus.consume((message) => applyMessage(message, index, metrics, logger, bus));
    const collector = new Collector({
      settings: ingestSettings(config.partitions, config.zmq, true),
      sink: bus,
      source,
      metrics: createCollectorMetrics(registry, () => bus.bufferedBytes),
      logger,
    });
    const every = Array.from({ length: config.partitions }, (_, i) => i);
    const grpc = await startGrpcServer({ address: config.grpc, index, keyer, metrics, logger, ownedPartitions: () => every });
    try {
      await collector.start();
    } catch (err) {
      await grpc.stop();
      throw err;
    }
    logger.info({ grpc: grpc.address }, 'standalone: events from the pods into an in-memory index (no NATS, no Redis; one replica)');
    return new StandaloneIndexer(index, keyer, bus, collector, grpc.address, grpc.stop);
  }

  get podCount(): number {
    return this.collector.podCount;
  }

  /** Resolves when every message received so far is in the index. */
  settled(): Promise<void> {
    return this.bus.drained();
  }

  async stop(): Promise<void> {
    await this.collector.stop();
    await this.bus.drained();
    await this.stopGrpc();
  }
}

async function applyMessage(message: BusMessage, index: MemoryBlockIndex, metrics: IndexerMetrics, logger: Logger, bus: InProcessBus): Promise<void> {
  const parsed = parseStreamMessage(message.subject, message.headers, message.data);
  if (!parsed.ok) {
    // The ingest validated it: a message the index cannot read is a contract break, loudly.
    metrics.messages.inc({ partition: ALL.partition, kind: parsed.kind, outcome: 'invalid' });
    logger.error({ subject: message.subject, seq: message.seq, reason: parsed.reason }, 'unreadable bus message skipped');
    return;
  }
  if (!parsed.message) return;
  const started = performance.now();
  let result = await index.apply(parsed.message);
  // The bus never reorders, so an early batch means its predecessor was lost on the way: apply it
  // as a gap (pod cleared first), as the JetStream consumer does after its redeliveries.
  const afterGap = result.outcome === 'early';
  if (afterGap) result = await index.apply(parsed.message, { acceptGap: true });
  metrics.applySeconds.observe((performance.now() - started) / 1000);
  metrics.messages.inc({ partition: ALL.partition, kind: parsed.kind, outcome: result.outcome });
  metrics.lag.set(ALL, bus.pending);
  if (result.outcome === 'applied') recordApplied(metrics, logger, parsed.message, result, afterGap);
}
