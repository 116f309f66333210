/**
 * Partition leases in a NATS KV bucket whose entries expire (bucket TTL): a replica owns
 * partition N while it keeps renewing key `p<N>` by compare-and-set. The entry's revision is the
 * fence: it only grows (it is the bucket stream's sequence, which survives a Redis restart, unlike
 * a Redis counter), every write to the index carries it, and the index refuses writes with a
 * fence lower than one it has seen — so a replica that lost its lease cannot write any more.
 */
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';

/** KV keys allow `[-/=.\w]`; replica names may hold anything. */
function memberKey(owner: string): string {
  return Buffer.from(owner, 'utf8').toString('hex');
}

export interface Lease {
  readonly partition: number;
  /** Current fence (the entry revision); grows at every renewal. */
  fence: number;
}

export class PartitionLeases {
  private constructor(
    private readonly kv: KV,
    private readonly owner: string,
  ) {}

  static async open(nc: NatsConnection, bucket: string, ttlSeconds: number, owner: string): Promise<PartitionLeases> {
    const kv = await new Kvm(nc).create(bucket, { history: 1, ttl: ttlSeconds * 1000 });
    return new PartitionLeases(kv, owner);
  }

  /**
   * Membership for a fair share: every replica refreshes `m.<owner>` each round (the bucket TTL
   * removes the dead); the share is ceil(partitions ÷ live replicas).
   */
  async heartbeat(): Promise<void> {
    await this.kv.put(`m.${memberKey(this.owner)}`, this.owner);
  }

  async members(): Promise<number> {
    let count = 0;
    for await (const key of await this.kv.keys('m.>')) if (key) count++;
    return Math.max(1, count);
  }

  async leave(): Promise<void> {
    await this.kv.delete(`m.${memberKey(this.owner)}`).catch(() => undefined);
  }

  /** Takes the partition if nobody holds it; null when another replica does. */
  async acquire(partition: number): Promise<Lease | null> {
    try {
      const fence = await this.kv.create(`p${partition}`, this.owner);
      return { partition, fence };
    } catch (err) {
      if (/wrong last sequence|key exists|10071/i.test(String(err))) return null;
      throw err;
    }
  }

  /** Renews by compare-and-set; false when the lease was lost (expired and taken, or deleted). */
  async renew(lease: Lease): Promise<boolean> {
    try {
      lease.fence = await this.kv.update(`p${lease.partition}`, this.owner, lease.fence);
      return true;
    } catch (err) {
      if (/wrong last sequence|10071/i.test(String(err))) return false;
      throw err;
    }
  }

  /** Gives the partition up now (graceful stop), so another replica need not wait for the TTL. */
  async release(lease: Lease): Promise<void> {
    try {
      await this.kv.delete(`p${lease.partition}`, { previousSeq: lease.fence });
    } catch {
      // already expired or taken: nothing to release
    }
  }

  /** Who holds each partition now (for stats and tests). */
  async holders(partitions: number): Promise<(string | null)[]> {
    const out: (string | null)[] = [];
    for (let p = 0; p < partitions; p++) {
      const entry = await this.kv.get(`p${p}`);
      out.push(entry && entry.operation === 'PUT' ? entry.string() : null);
    }
    return out;
  }
}
