/**
 * Index snapshots in a NATS Object Store bucket (JetStream-backed, so they survive Redis and
 * indexer restarts and live beside the stream they are positions of). One object per partition,
 * `partition-<N>`; putting a new one replaces the old (the store keeps the newest version only).
 * The body is the snapshot's JSON (`@kvr/kv-index` encodeSnapshot), gzip-compressed: request keys
 * are decimal strings and compress well. The object's metadata repeats the header fields, so
 * listing snapshots does not download them.
 */
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { Objm, type ObjectInfo, type ObjectStore } from '@nats-io/obj';
import type { NatsConnection } from '@nats-io/transport-node';
import { decodeSnapshot, encodeSnapshot, type IndexSnapshot } from '@kvr/kv-index';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

export const DEFAULT_SNAPSHOT_BUCKET = 'kvr_index_snapshots';

/** What `list()` tells of a stored snapshot without reading it. */
export interface SnapshotInfo {
  readonly partition: number;
  readonly partitions: number;
  readonly streamSeq: number;
  readonly takenAt: number;
  readonly pods: number;
  readonly blocks: number;
  /** Stored (compressed) size in bytes. */
  readonly bytes: number;
  readonly blockSize: number;
  readonly hashSeed: string;
}

function objectName(partition: number): string {
  return `partition-${partition}`;
}

function infoOf(object: ObjectInfo): SnapshotInfo | null {
  const m = object.metadata ?? {};
  const num = (key: string): number => Number(m[key]);
  if (!/^partition-\d+$/.test(object.name) || m['streamSeq'] === undefined) return null; // not ours
  return {
    partition: Number(object.name.slice('partition-'.length)),
    partitions: num('partitions'),
    streamSeq: num('streamSeq'),
    takenAt: num('takenAt'),
    pods: num('pods'),
    blocks: num('blocks'),
    bytes: object.size,
    blockSize: num('blockSize'),
    hashSeed: m['hashSeed'] ?? '',
  };
}

export class SnapshotStore {
  private constructor(private readonly store: ObjectStore) {}

  /** Opens the bucket, creating it when missing (file storage: snapshots must outlive a NATS restart). */
  static async open(nc: NatsConnection, options: { bucket?: string; replicas?: number } = {}): Promise<SnapshotStore> {
    const store = await new Objm(nc).create(options.bucket ?? DEFAULT_SNAPSHOT_BUCKET, { storage: 'file', replicas: options.replicas ?? 1, description: 'Block index snapshots, one per partition (kvr indexer)' });
    return new SnapshotStore(store);
  }

  async put(snapshot: IndexSnapshot): Promise<SnapshotInfo> {
    const body = await gzipAsync(Buffer.from(encodeSnapshot(snapshot), 'utf8'));
    const blocks = snapshot.pods.reduce((sum, pod) => sum + pod.blocks.length, 0);
    const metadata: Record<string, string> = {
      partitions: String(snapshot.partitions),
      streamSeq: String(snapshot.streamSeq),
      takenAt: String(snapshot.takenAt),
      pods: String(snapshot.pods.length),
      blocks: String(blocks),
      blockSize: String(snapshot.blockSize),
      hashSeed: snapshot.hashSeed,
    };
    const stored = await this.store.putBlob({ name: objectName(snapshot.partition), description: `index snapshot of partition ${snapshot.partition} up to stream sequence ${snapshot.streamSeq}`, metadata }, new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
    return infoOf(stored) as SnapshotInfo;
  }

  /** The partition's newest snapshot, or null when none was taken. */
  async get(partition: number): Promise<IndexSnapshot | null> {
    const body = await this.store.getBlob(objectName(partition));
    if (body === null) return null;
    return decodeSnapshot((await gunzipAsync(body)).toString('utf8'));
  }

  async info(partition: number): Promise<SnapshotInfo | null> {
    const object = await this.store.info(objectName(partition));
    return object && !object.deleted ? infoOf(object) : null;
  }

  /**
   * One entry per partition, its newest snapshot. The object store lists by reading its metadata
   * stream, so a snapshot replaced while the list is read can arrive twice (old and new): the
   * one covering more of the event stream wins.
   */
  async list(): Promise<SnapshotInfo[]> {
    const newest = new Map<number, SnapshotInfo>();
    for (const object of await this.store.list()) {
      const info = object.deleted ? null : infoOf(object);
      if (info === null) continue;
      const seen = newest.get(info.partition);
      if (!seen || info.streamSeq > seen.streamSeq) newest.set(info.partition, info);
    }
    return [...newest.values()].sort((a, b) => a.partition - b.partition);
  }

  async delete(partition: number): Promise<void> {
    await this.store.delete(objectName(partition));
  }
}
