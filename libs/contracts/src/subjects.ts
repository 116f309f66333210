import { decodeSubjectToken, encodeSubjectToken } from './subject-token';

/**
 * NATS subject grammar of the product. One place builds and parses subjects; nothing else
 * concatenates them.
 *
 *   kv.events.<partition>.<model>.<pod>   one pod's event batches and pod-reset markers, in order
 *   kv.dlq.<pod>                          payloads the collector could not decode (raw bytes kept)
 *   kvr.indexer.<stream>.reindex          operator request (kvctl reindex) every indexer replica
 *                                         answers for the partitions it owns (core NATS request)
 *
 * Index snapshots are objects in a NATS Object Store bucket, not subjects (see @kvr/jetstream).
 *
 * `<partition>` is a decimal index in [0, partitions); `<model>` and `<pod>` are encoded with
 * `encodeSubjectToken`. Partitioning by pod keeps every pod's events on one subject, so one
 * JetStream consumer sees them in publish order; a partition's consumer filter is
 * `kv.events.<partition>.>`.
 */
export const EVENTS_PREFIX = 'kv.events';
export const DEAD_LETTER_PREFIX = 'kv.dlq';
export const INDEXER_CONTROL_PREFIX = 'kvr.indexer';

/** Stream that stores `kv.events.>`. */
export const EVENTS_STREAM = 'KV_EVENTS';
/** Stream that stores `kv.dlq.>`. */
export const DEAD_LETTER_STREAM = 'KV_DLQ';

export interface EventsSubject {
  partition: number;
  model: string;
  podId: string;
}

export class SubjectError extends Error {
  override readonly name = 'SubjectError';
}

export function eventsSubject({ partition, model, podId }: EventsSubject): string {
  assertPartition(partition);
  return `${EVENTS_PREFIX}.${partition}.${encodeSubjectToken(model)}.${encodeSubjectToken(podId)}`;
}

/** Filter for one partition's consumer. */
export function partitionFilter(partition: number): string {
  assertPartition(partition);
  return `${EVENTS_PREFIX}.${partition}.>`;
}

/** Filter for every events subject (the stream's subject list). */
export const ALL_EVENTS_FILTER = `${EVENTS_PREFIX}.>`;

export function parseEventsSubject(subject: string): EventsSubject {
  const parts = subject.split('.');
  if (parts.length !== 5 || `${parts[0]}.${parts[1]}` !== EVENTS_PREFIX) {
    throw new SubjectError(`not an events subject: "${subject}" (want ${EVENTS_PREFIX}.<partition>.<model>.<pod>)`);
  }
  const partition = Number(parts[2]);
  if (!/^\d+$/.test(parts[2] ?? '') || !Number.isSafeInteger(partition)) throw new SubjectError(`bad partition in subject "${subject}"`);
  return { partition, model: decodeSubjectToken(parts[3] as string), podId: decodeSubjectToken(parts[4] as string) };
}

export function deadLetterSubject(podId: string): string {
  return `${DEAD_LETTER_PREFIX}.${encodeSubjectToken(podId)}`;
}

/** Where `kvctl reindex` asks the indexers consuming `stream` to rebuild their partitions. */
export function reindexSubject(stream: string = EVENTS_STREAM): string {
  return `${INDEXER_CONTROL_PREFIX}.${encodeSubjectToken(stream)}.reindex`;
}

/**
 * The partition a pod's events go to: FNV-1a 32-bit of the pod id's UTF-8 bytes, modulo the
 * partition count. Every collector replica and every indexer must agree, so this is the only
 * place it is computed, and it depends on nothing but the pod id and the count.
 */
export function partitionForPod(podId: string, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1) throw new SubjectError(`partition count must be a positive integer, got ${partitions}`);
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(podId, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % partitions;
}

function assertPartition(partition: number): void {
  if (!Number.isSafeInteger(partition) || partition < 0) throw new SubjectError(`partition must be a non-negative integer, got ${partition}`);
}
