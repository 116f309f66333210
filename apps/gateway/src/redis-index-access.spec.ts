import type { LookupResult } from '@kvr/kv-index';
import { SCORERS } from '@kvr/scoring';
import type Redis from 'ioredis';
import { RedisPrefixScorer, RedisSpeculativeWriter } from './redis-index-access';
import { grpcFailureReason } from './remote';

const POD_A = '10.0.0.1:8000';
const POD_B = '10.0.0.2:8000';

/** A stand-in for RedisBlockIndex: answers what the test says, records what it was asked. */
function fakeIndex(lookup: (keys: readonly bigint[], pods: readonly string[]) => Promise<LookupResult>) {
  const calls: { keys: readonly bigint[]; pods: readonly string[] }[] = [];
  const inserts: { keys: readonly bigint[]; pod: string; ttlMs: number }[] = [];
  return {
    calls,
    inserts,
    index: {
      lookup: (keys: readonly bigint[], pods: readonly string[]) => {
        calls.push({ keys, pods });
        return lookup(keys, pods);
      },
      speculativeInsert: async (keys: readonly bigint[], pod: string, ttlMs: number) => {
        inserts.push({ keys, pod, ttlMs });
      },
    },
  };
}

const noRedis = {} as Redis;

describe('RedisPrefixScorer', () => {
  it('answers as the indexer does: request blocks, tier-weighted score, matched and speculative blocks in the detail', async () => {
    const fake = fakeIndex(async (keys, pods) => ({
      totalBlocks: keys.length,
      pods: pods.map((pod) => (pod === POD_A ? { pod, matchedBlocks: 3, weightedScore: 2.8, speculativeBlocks: 1 } : { pod, matchedBlocks: 0, weightedScore: 0, speculativeBlocks: 0 })),
    }));
    const scorer = new RedisPrefixScorer(fake.index, noRedis);
    const response = await scorer.score({ model: 'm', pods: [POD_A, POD_B], request_keys: ['1', '18446744073709551615', '3', '4'] }, 50);
    expect(fake.calls).toEqual([{ keys: [1n, 18446744073709551615n, 3n, 4n], pods: [POD_A, POD_B] }]);
    expect(response.scorer).toBe(SCORERS.precisePrefix);
    expect(response.request_blocks).toBe(4);
    expect(response.scores.map((s) => [s.pod, s.score, s.matched_blocks])).toEqual([
      [POD_A, 0.7, 3],
      [POD_B, 0, 0],
    ]);
    expect(JSON.parse(response.scores[0]?.detail ?? '')).toEqual({ matchedBlocks: 3, speculativeBlocks: 1, weighted: 2.8 });
  });

  it('fails a lookup past its deadline as DEADLINE_EXCEEDED, like a remote call', async () => {
    const scorer = new RedisPrefixScorer(fakeIndex(() => new Promise<never>(() => undefined)).index, noRedis);
    const err = await scorer.score({ pods: [POD_A], request_keys: ['1'] }, 5).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(grpcFailureReason(err)).toBe('deadline_exceeded');
  });

  it('fails a lookup Redis refuses as UNAVAILABLE, with Redis\'s message', async () => {
    const scorer = new RedisPrefixScorer(fakeIndex(() => Promise.reject(new Error("Stream isn't writeable and enableOfflineQueue options is false"))).index, noRedis);
    const err = await scorer.score({ pods: [POD_A], request_keys: ['1'] }, 50).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(grpcFailureReason(err)).toBe('unavailable');
    expect((err as Error).message).toContain('enableOfflineQueue');
  });

  it('rejects a request key that is not a uint64 before asking Redis', async () => {
    const fake = fakeIndex(async () => ({ totalBlocks: 0, pods: [] }));
    await expect(new RedisPrefixScorer(fake.index, noRedis).score({ pods: [POD_A], request_keys: ['-1'] }, 50)).rejects.toThrow();
    expect(fake.calls).toHaveLength(0);
  });
});

describe('RedisSpeculativeWriter', () => {
  it('writes the keys for the chosen pod with the TTL and answers the key count', async () => {
    const fake = fakeIndex(async () => ({ totalBlocks: 0, pods: [] }));
    const written = await new RedisSpeculativeWriter(fake.index).speculativeInsert({ model: 'm', loraName: '', pod: POD_B, requestKeys: [5n, 6n], ttlMs: 2_000 }, 50);
    expect(written).toBe(2);
    expect(fake.inserts).toEqual([{ keys: [5n, 6n], pod: POD_B, ttlMs: 2_000 }]);
  });
});
