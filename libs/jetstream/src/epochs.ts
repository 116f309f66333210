/**
 * Engine epochs shared by collector replicas, in a NATS KV bucket (one key per pod, updated by
 * compare-and-set). A pod's epoch increases each time a collector sees its engine restart; every
 * message id carries it, so a replica that was away during a restart cannot publish the new
 * engine's batches under the old epoch — where JetStream would drop them as duplicates of old ids,
 * or the indexer would skip them as already applied.
 *
 * Agreement: on a restart, a replica reads the key. If the stored epoch is already above the one
 * it was publishing under, another replica saw this restart first: adopt it. Otherwise bump with
 * compare-and-set at the revision read; if that fails, someone else bumped in between: re-read and
 * adopt. So one restart moves the epoch by one however many replicas see it.
 */
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';

export const DEFAULT_EPOCH_BUCKET = 'kvr_pod_epochs';

interface EpochRecord {
  epoch: number;
  /** Who wrote it and when, for operators. */
  by: string;
  at: string;
}

/** KV keys allow `[-/=.\w]`; a pod id (`10.0.0.1:8000`, `[fd00::1]:8000`) does not fit, so hex it. */
export function epochKey(podId: string): string {
  return `pod.${Buffer.from(podId, 'utf8').toString('hex')}`;
}

export class EpochStore {
  private constructor(
    private readonly kv: KV,
    private readonly writer: string,
  ) {}

  static async open(nc: NatsConnection, options: { bucket?: string; writer: string; replicas?: number }): Promise<EpochStore> {
    const kv = await new Kvm(nc).create(options.bucket ?? DEFAULT_EPOCH_BUCKET, { history: 1, replicas: options.replicas ?? 1 });
    return new EpochStore(kv, options.writer);
  }

  private record(epoch: number): string {
    const value: EpochRecord = { epoch, by: this.writer, at: new Date().toISOString() };
    return JSON.stringify(value);
  }

  private async read(podId: string): Promise<{ epoch: number; revision: number } | null> {
    const entry = await this.kv.get(epochKey(podId));
    if (!entry || entry.operation !== 'PUT') return null;
    const value = JSON.parse(entry.string()) as EpochRecord;
    return { epoch: value.epoch, revision: entry.revision };
  }

  /** The pod's current epoch; 0 (stored) when no collector has seen it before. */
  async current(podId: string): Promise<number> {
    for (;;) {
      const found = await this.read(podId);
      if (found) return found.epoch;
      try {
        await this.kv.create(epochKey(podId), this.record(0));
        return 0;
      } catch (err) {
        if (!isWrongSequence(err)) throw err; // created concurrently: read again
      }
    }
  }

  /** The epoch after a restart seen while publishing under `seenEpoch` (see the file comment). */
  async bump(podId: string, seenEpoch: number): Promise<number> {
    for (;;) {
      const found = await this.read(podId);
      if (!found) {
        try {
          await this.kv.create(epochKey(podId), this.record(seenEpoch + 1));
          return seenEpoch + 1;
        } catch (err) {
          if (!isWrongSequence(err)) throw err;
          continue;
        }
      }
      if (found.epoch > seenEpoch) return found.epoch;
      try {
        await this.kv.update(epochKey(podId), this.record(found.epoch + 1), found.revision);
        return found.epoch + 1;
      } catch (err) {
        if (!isWrongSequence(err)) throw err;
      }
    }
  }
}

function isWrongSequence(err: unknown): boolean {
  return /wrong last sequence|10071|key exists/i.test(String(err instanceof Error ? err.message : err));
}
