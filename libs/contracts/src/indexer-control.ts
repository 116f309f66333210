/**
 * The operator protocol of the indexers over core NATS (JSON bodies), used by `kvctl reindex`.
 * A request on `reindexSubject(stream)` reaches every indexer replica; each one rebuilds the
 * partitions it owns and answers once. The caller knows it is done when the answers cover every
 * partition (each answer carries the partition count).
 */

/** Names of the durable consumers: one per partition, shared by whichever replica owns it. */
export function indexerConsumerName(partition: number): string {
  return `kvr-indexer-p${partition}`;
}

export interface ReindexRequest {
  /** Only pods whose last batch named this model are restored (the others keep their entries). */
  readonly model?: string;
}

/** What rebuilding one partition did. */
export interface PartitionRebuildReport {
  readonly partition: number;
  /** Stream sequence the restored snapshot covers; null when no usable snapshot existed. */
  readonly snapshotSeq: number | null;
  /** Why a stored snapshot was not used (other block size, hash seed or partition count; unreadable). */
  readonly snapshotSkipped?: string;
  readonly restoredPods: number;
  readonly restoredBlocks: number;
  /** Pods of the partition the index held but the snapshot did not: forgotten, then rebuilt by the replay. */
  readonly forgottenPods: number;
  /** First stream sequence replayed. */
  readonly replayFrom: number;
  /** The stream's first sequence at that moment: above `replayFrom` means messages were trimmed in between. */
  readonly streamFirstSeq: number;
  /** True when trimmed messages were not covered by the snapshot: pods with a gap are cleared at their next batch. */
  readonly lostMessages: boolean;
  readonly error?: string;
}

export interface ReindexReply {
  readonly instance: string;
  /** The replica's partition count (the caller's stop condition). */
  readonly partitions: number;
  readonly rebuilt: readonly PartitionRebuildReport[];
  readonly error?: string;
}

/**
 * What carries the events and holds the index: the product's NATS JetStream and Redis, or the
 * standalone indexer's in-process bus and memory. Named by the indexer's `/ready` details and by
 * the demo's report.
 */
export interface IndexerBackends {
  readonly bus: 'nats-jetstream' | 'in-process';
  readonly index: 'redis' | 'memory';
}

export function indexerBackends(standalone: boolean): IndexerBackends {
  return standalone ? { bus: 'in-process', index: 'memory' } : { bus: 'nats-jetstream', index: 'redis' };
}
