/**
 * A partition's index snapshot: the state of every pod of one partition (see `PodState`) and the
 * stream sequence it covers. Restoring it and replaying the stream from `streamSeq + 1` rebuilds
 * the partition even when the bounded stream has already trimmed the `BlockStored` events of the
 * blocks still resident. Replaying messages the snapshot already reflects is harmless: each
 * pod's position is part of the snapshot, so they are skipped as duplicates.
 *
 * Wire format (format 1): UTF-8 JSON, 64-bit keys as decimal strings (they exceed 2^53):
 *
 *   {"format":1,"partition":P,"partitions":N,"streamSeq":S,"takenAt":ms,
 *    "blockSize":64,"hashSeed":"",
 *    "pods":[{"pod":"10.0.0.1:8000","model":"m"|null,"epoch":0,"seq":"41"|null,
 *             "blocks":[["gpu","<engine key>",<copies>,"<R1>,<R2>"],…]},…]}
 *
 * The storage (NATS Object Store, compressed) is the indexer's business; this module is pure.
 */
import type { EngineBlockState, PodState } from './api';

export const SNAPSHOT_FORMAT = 1;

export interface IndexSnapshot {
  readonly partition: number;
  /** Partition count the snapshot was taken under (pod → partition depends on it). */
  readonly partitions: number;
  /** Every message of the partition up to this stream sequence is reflected (the consumer's ack floor when taken). */
  readonly streamSeq: number;
  /** When it was taken, ms since the Unix epoch. */
  readonly takenAt: number;
  /** Request keys depend on these: a snapshot taken under other values cannot be restored. */
  readonly blockSize: number;
  readonly hashSeed: string;
  readonly pods: readonly PodState[];
}

export class SnapshotFormatError extends Error {
  override readonly name = 'SnapshotFormatError';
}

type WireBlock = [string, string, number, string];

export function encodeSnapshot(snapshot: IndexSnapshot): string {
  return JSON.stringify({
    format: SNAPSHOT_FORMAT,
    partition: snapshot.partition,
    partitions: snapshot.partitions,
    streamSeq: snapshot.streamSeq,
    takenAt: snapshot.takenAt,
    blockSize: snapshot.blockSize,
    hashSeed: snapshot.hashSeed,
    pods: snapshot.pods.map((pod) => ({
      pod: pod.pod,
      model: pod.model,
      epoch: pod.position.epoch,
      seq: pod.position.seq === null ? null : pod.position.seq.toString(),
      blocks: pod.blocks.map((b): WireBlock => [b.tier, b.engineKey.toString(), b.copies, b.requestKeys.join(',')]),
    })),
  });
}

const DECIMAL = /^\d{1,20}$/;
const U64_MAX = 2n ** 64n - 1n;

function u64(value: unknown, where: string): bigint {
  if (typeof value !== 'string' || !DECIMAL.test(value)) throw new SnapshotFormatError(`${where}: expected an unsigned 64-bit decimal string, got ${JSON.stringify(value)}`);
  const n = BigInt(value);
  if (n > U64_MAX) throw new SnapshotFormatError(`${where}: ${value} exceeds 2^64-1`);
  return n;
}

function count(value: unknown, where: string, min = 0): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) throw new SnapshotFormatError(`${where}: expected an integer ≥ ${min}, got ${JSON.stringify(value)}`);
  return value;
}

function record(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SnapshotFormatError(`${where}: expected an object`);
  return value as Record<string, unknown>;
}

function decodeBlock(value: unknown, where: string): EngineBlockState {
  if (!Array.isArray(value) || value.length !== 4) throw new SnapshotFormatError(`${where}: expected [tier, engineKey, copies, requestKeys]`);
  const [tier, engineKey, copies, keys] = value as unknown[];
  if (typeof tier !== 'string' || tier === '') throw new SnapshotFormatError(`${where}: tier must be a non-empty string`);
  if (typeof keys !== 'string') throw new SnapshotFormatError(`${where}: request keys must be a comma-separated string`);
  return {
    tier,
    engineKey: u64(engineKey, `${where} engine key`),
    copies: count(copies, `${where} copies`, 1),
    requestKeys: keys === '' ? [] : keys.split(',').map((k, i) => u64(k, `${where} request key ${i}`)),
  };
}

function decodePod(value: unknown, where: string): PodState {
  const pod = record(value, where);
  if (typeof pod['pod'] !== 'string' || pod['pod'] === '') throw new SnapshotFormatError(`${where}: pod must be a non-empty string`);
  if (pod['model'] !== null && typeof pod['model'] !== 'string') throw new SnapshotFormatError(`${where}: model must be a string or null`);
  if (!Array.isArray(pod['blocks'])) throw new SnapshotFormatError(`${where}: blocks must be an array`);
  const at = `${where} (${pod['pod']})`;
  return {
    pod: pod['pod'],
    model: pod['model'],
    position: { epoch: count(pod['epoch'], `${at} epoch`), seq: pod['seq'] === null ? null : u64(pod['seq'], `${at} seq`) },
    blocks: pod['blocks'].map((b, i) => decodeBlock(b, `${at} block ${i}`)),
  };
}

/** Parses and checks a snapshot; a `SnapshotFormatError` names the first problem and where it is. */
export function decodeSnapshot(text: string): IndexSnapshot {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new SnapshotFormatError(`not JSON: ${(err as Error).message}`);
  }
  const root = record(parsed, 'snapshot');
  if (root['format'] !== SNAPSHOT_FORMAT) throw new SnapshotFormatError(`snapshot format ${JSON.stringify(root['format'])} is not supported (this build reads ${SNAPSHOT_FORMAT})`);
  if (typeof root['hashSeed'] !== 'string') throw new SnapshotFormatError('hashSeed must be a string');
  if (!Array.isArray(root['pods'])) throw new SnapshotFormatError('pods must be an array');
  const partitions = count(root['partitions'], 'partitions', 1);
  const partition = count(root['partition'], 'partition');
  if (partition >= partitions) throw new SnapshotFormatError(`partition ${partition} is not below the partition count ${partitions}`);
  return {
    partition,
    partitions,
    streamSeq: count(root['streamSeq'], 'streamSeq'),
    takenAt: count(root['takenAt'], 'takenAt'),
    blockSize: count(root['blockSize'], 'blockSize', 1),
    hashSeed: root['hashSeed'],
    pods: root['pods'].map((p, i) => decodePod(p, `pod ${i}`)),
  };
}
