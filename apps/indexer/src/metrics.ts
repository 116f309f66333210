import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { semconv } from '@kvr/telemetry';

export type IndexerMetrics = ReturnType<typeof createIndexerMetrics>;

export function createIndexerMetrics(registry: Registry) {
  const registers = [registry];
  return {
    messages: new Counter({ name: semconv.METRIC_INDEXER_MESSAGES_TOTAL, help: 'Stream messages handled, by outcome.', labelNames: ['partition', 'kind', 'outcome'] as const, registers }),
    admissions: new Counter({ name: semconv.METRIC_INDEXER_ADMISSIONS_TOTAL, help: '(request key, pod, tier) entries the index gained.', registers }),
    evictions: new Counter({ name: semconv.METRIC_INDEXER_EVICTIONS_TOTAL, help: '(request key, pod, tier) entries the index lost.', registers }),
    unknownParents: new Counter({ name: semconv.METRIC_INDEXER_UNKNOWN_PARENTS_TOTAL, help: 'BlockStored events skipped: parent engine key unknown.', registers }),
    blockSizeMismatches: new Counter({ name: semconv.METRIC_INDEXER_BLOCK_SIZE_MISMATCHES_TOTAL, help: 'BlockStored events with another block size than configured.', registers }),
    acceptedGaps: new Counter({ name: semconv.METRIC_INDEXER_ACCEPTED_GAPS_TOTAL, help: 'Early batches applied after the redelivery limit (pod cleared).', registers }),
    rememberedWrites: new Counter({ name: semconv.METRIC_INDEXER_REMEMBERED_WRITES_TOTAL, help: 'Writes planned from what this replica wrote last instead of a read, by outcome (stale: refused and read again).', labelNames: ['outcome'] as const, registers }),
    applySeconds: new Histogram({ name: semconv.METRIC_INDEXER_APPLY_SECONDS, help: 'Applying one message to the index.', buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers }),
    eventAge: new Histogram({ name: semconv.METRIC_INDEXER_EVENT_AGE_SECONDS, help: 'Age of a batch when the index holds it (now minus the engine batch timestamp).', buckets: [0.001, 0.002, 0.005, 0.0075, 0.01, 0.0125, 0.015, 0.0175, 0.02, 0.025, 0.03, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], registers }),
    lag: new Gauge({ name: semconv.METRIC_INDEXER_CONSUMER_LAG, help: 'Messages of the partition not yet acknowledged.', labelNames: ['partition'] as const, registers }),
    leases: new Gauge({ name: semconv.METRIC_INDEXER_LEASES_HELD, help: 'Partitions this replica holds.', registers }),
    snapshots: new Counter({ name: semconv.METRIC_INDEXER_SNAPSHOTS_TOTAL, help: 'Partition snapshots, by outcome.', labelNames: ['partition', 'outcome'] as const, registers }),
    snapshotSeconds: new Histogram({ name: semconv.METRIC_INDEXER_SNAPSHOT_SECONDS, help: 'Taking and storing one partition snapshot.', buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers }),
    snapshotStreamSeq: new Gauge({ name: semconv.METRIC_INDEXER_SNAPSHOT_STREAM_SEQ, help: 'Stream sequence the newest snapshot of the partition covers.', labelNames: ['partition'] as const, registers }),
    rebuilds: new Counter({ name: semconv.METRIC_INDEXER_REBUILDS_TOTAL, help: 'Partition rebuilds (snapshot restore + stream replay).', labelNames: ['trigger', 'source'] as const, registers }),
    rebuildLostMessages: new Counter({ name: semconv.METRIC_INDEXER_REBUILD_LOST_MESSAGES_TOTAL, help: 'Rebuilds that could not cover messages the stream had already trimmed.', registers }),
    scores: new Counter({ name: semconv.METRIC_INDEXER_SCORE_TOTAL, help: 'Score calls served.', labelNames: ['outcome'] as const, registers }),
  };
}
