// real: redis-server (spawned by @kvr/testing on a free port), ioredis; mock: nothing.
// The same conformance suite as the in-memory backend, against Redis.
import Redis from 'ioredis';
import { createBlockKeyer } from '@kvr/block-keys';
import { blockRemovedEvent, vllmBlockStoredEvent } from '@kvr/kv-events/testing';
import { describeBlockIndexConformance } from '@kvr/kv-index/testing';
import { startRedis, type RedisServerHandle } from '@kvr/testing';
import { checkServerSettings, RedisBlockIndex } from './index';
import { CLEAR_BUDGET_BLOCKS } from './scripts';

let server: RedisServerHandle;
let redis: Redis;
let prefixCounter = 0;

beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

// Each test gets its own key prefix: the same Redis, isolated indexes.
describeBlockIndexConformance('redis', (keyer) => new RedisBlockIndex({ redis, keyer, prefix: `t${++prefixCounter}` }));

describe('restoring a large pod', () => {
  it('writes it in several script calls and reads back the same state', async () => {
    const keyer = createBlockKeyer({ modelName: 'm', blockSize: 4 });
    const index = new RedisBlockIndex({ redis, keyer, prefix: `big${++prefixCounter}` });
    // More blocks than one restore call carries, so the chunked path (clear, add, set position) runs.
    const blocks = Array.from({ length: 4_500 }, (_, i) => ({ tier: i % 3 === 0 ? 'cpu' : 'gpu', engineKey: BigInt(i) * 7_919n + 2n ** 63n, copies: 1 + (i % 2), requestKeys: [BigInt(i) + 1n] }));
    await index.replacePod({ pod: 'p', model: 'm', position: { epoch: 1, seq: 99n }, blocks: [{ tier: 'gpu', engineKey: 1n, copies: 1, requestKeys: [424242n] }] });
    expect(await index.replacePod({ pod: 'p', model: 'm', position: { epoch: 2, seq: 7n }, blocks })).toBe('applied');
    const back = await index.exportPod('p');
    expect(back).toMatchObject({ pod: 'p', model: 'm', position: { epoch: 2, seq: 7n } });
    const canonical = (list: readonly { tier: string; engineKey: bigint; copies: number; requestKeys: readonly bigint[] }[]): string[] =>
      list.map((b) => `${b.tier}|${b.engineKey}|${b.copies}|${b.requestKeys.join(',')}`).sort();
    expect(canonical(back!.blocks)).toEqual(canonical(blocks));
    expect((await index.blockHolders([424242n]))[0]).toEqual([]);
    expect(await index.stats()).toMatchObject({ requestKeys: 4_500, entries: 4_500, engineKeys: 4_500 });

    // Restoring it again clears the 4,500 first, in bounded calls too, then writes them back.
    expect(await index.replacePod({ pod: 'p', model: 'm', position: { epoch: 2, seq: 8n }, blocks })).toBe('applied');
    expect(canonical((await index.exportPod('p'))!.blocks)).toEqual(canonical(blocks));
    expect(await index.stats()).toMatchObject({ requestKeys: 4_500, entries: 4_500, engineKeys: 4_500 });

    // A reset clears those 4,500 blocks in bounded script calls (lookups wait for one call at a
    // time, not for the whole pod), and a pod sharing their keys keeps its own bits.
    await index.replacePod({ pod: 'q', model: 'm', position: { epoch: 0, seq: 1n }, blocks: blocks.slice(0, 10) });
    const calls = async (): Promise<number> => Number(/cmdstat_evalsha:calls=(\d+)/.exec(await redis.info('commandstats'))?.[1] ?? 0);
    const before = await calls();
    const reset = await index.apply({ kind: 'reset', pod: 'p', epoch: 3, reason: 'engine_restart' });
    expect(reset).toMatchObject({ outcome: 'applied', evicted: 4_500 });
    expect((await calls()) - before).toBeGreaterThanOrEqual(Math.ceil(4_500 / CLEAR_BUDGET_BLOCKS));
    expect(await index.stats()).toMatchObject({ requestKeys: 10, entries: 10, engineKeys: 10 });
    expect(await index.position('p')).toEqual({ epoch: 3, seq: null });
  });
});

describe('pod ids with glob characters', () => {
  it('dumps an IPv6 pod by id (its brackets are not a SCAN pattern)', async () => {
    const keyer = createBlockKeyer({ modelName: 'm', blockSize: 4 });
    const index = new RedisBlockIndex({ redis, keyer, prefix: `v6${++prefixCounter}` });
    const state = { model: 'm', position: { epoch: 0, seq: 1n }, blocks: [{ tier: 'gpu', engineKey: 7n, copies: 1, requestKeys: [11n, 12n] }] };
    await index.replacePod({ pod: '[fd00::1]:8000', ...state });
    await index.replacePod({ pod: 'f:8000', ...state });
    expect((await index.dump({ pod: '[fd00::1]:8000' })).map((e) => `${e.pod} ${e.requestKey}`).sort()).toEqual(['[fd00::1]:8000 11', '[fd00::1]:8000 12']);
    expect(await index.blockHolders([11n])).toEqual([['[fd00::1]:8000', 'f:8000']]);
  });
});

describe('holder bitmaps', () => {
  const keyer = createBlockKeyer({ modelName: 'm', blockSize: 4 });
  const chain = (first: number, blocks: number): number[] => Array.from({ length: 4 * blocks }, (_, i) => first + i);
  const stored = (pod: string, seq: bigint, hashes: bigint[], tokens: number[]) =>
    ({ kind: 'batch', pod, model: 'm', epoch: 0, seq, batch: { ts: 1, events: [vllmBlockStoredEvent({ blockHashes: hashes, tokenIds: tokens, blockSize: 4 })], dataParallelRank: 0 } }) as const;

  it('tells 20 pods apart (slots past the first byte), frees a forgotten pod\'s slot and hands it on clean', async () => {
    const prefix = `bits${++prefixCounter}`;
    const index = new RedisBlockIndex({ redis, keyer, prefix });
    const pods = Array.from({ length: 20 }, (_, p) => `10.0.0.${p}:8000`);
    const shared = chain(1, 2);
    // Pod p holds the shared two blocks plus p + 1 blocks of its own.
    for (const [p, pod] of pods.entries()) {
      const own = chain(10_000 * (p + 1), p + 1);
      await index.apply(stored(pod, 0n, Array.from({ length: p + 3 }, (_, b) => BigInt(1_000 * (p + 1) + b)), [...shared, ...own]));
    }
    const lookupOf = async (p: number): Promise<number[]> => (await index.lookup(keyer.keysForTokens([...shared, ...chain(10_000 * (p + 1), p + 1)]), pods)).pods.map((x) => x.matchedBlocks);
    for (const p of [0, 7, 8, 15, 19]) expect(await lookupOf(p)).toEqual(pods.map((_, q) => (q === p ? p + 3 : 2)));
    expect(await redis.hlen(`${prefix}:slot`)).toBe(20);

    // Pod 7 leaves: its bits go, its slot is free; the next new pod takes that slot and holds
    // exactly its own blocks (nothing of pod 7's).
    await index.apply({ kind: 'removed', pod: pods[7]!, epoch: 0 });
    expect(await redis.zrange(`${prefix}:freeslots`, 0, -1)).toEqual(['7']);
    expect(await lookupOf(8)).toEqual(pods.map((_, q) => (q === 8 ? 11 : q === 7 ? 0 : 2)));
    await index.apply(stored('10.0.1.1:8000', 0n, [424_242n], chain(77_777, 1)));
    expect(await redis.hget(`${prefix}:slot`, '10.0.1.1:8000')).toBe('7');
    const newcomer = await index.lookup(keyer.keysForTokens([...shared, ...chain(10_000 * 8, 8)]), ['10.0.1.1:8000']);
    expect(newcomer.pods[0]!.matchedBlocks).toBe(0);
    expect((await index.dump({ pod: '10.0.1.1:8000' })).length).toBe(1);
    // 2 shared keys, 1 + 2 + … + 20 own keys less pod 7's 8, and the newcomer's 1.
    expect(await index.stats()).toMatchObject({ requestKeys: 2 + 210 - 8 + 1, pods: 20 });

    // Clearing every pod empties the holder hash entirely (no stray bits of any slot remain).
    for (const pod of [...pods.filter((_, p) => p !== 7), '10.0.1.1:8000']) await index.apply({ kind: 'removed', pod, epoch: 0 });
    expect(await redis.exists(`${prefix}:hold:gpu`)).toBe(0);
    expect(await index.stats()).toEqual({ requestKeys: 0, entries: 0, pods: 0, engineKeys: 0, speculativeEntries: 0 });
  });

  it('counts a request key held through two engine blocks of one pod until both are gone', async () => {
    const prefix = `multi${++prefixCounter}`;
    const index = new RedisBlockIndex({ redis, keyer, prefix });
    const tokens = chain(1, 1);
    // Two engine blocks with the same tokens (say, two LoRA-free copies vLLM hashed apart): one request key.
    await index.apply(stored('p', 0n, [11n], tokens));
    await index.apply(stored('p', 1n, [12n], tokens));
    expect(await index.dump({ pod: 'p' })).toEqual([{ requestKey: keyer.keysForTokens(tokens)[0], pod: 'p', tier: 'gpu', blocks: 2, speculative: false }]);
    const removal = (seq: bigint, hash: bigint) => ({ kind: 'batch', pod: 'p', model: 'm', epoch: 0, seq, batch: { ts: 1, events: [blockRemovedEvent([hash])], dataParallelRank: 0 } }) as const;
    expect(await index.apply(removal(2n, 11n))).toMatchObject({ evicted: 0 });
    expect((await index.lookup(keyer.keysForTokens(tokens), ['p'])).pods[0]!.matchedBlocks).toBe(1);
    expect(await index.apply(removal(3n, 12n))).toMatchObject({ evicted: 1 });
    expect((await index.lookup(keyer.keysForTokens(tokens), ['p'])).pods[0]!.matchedBlocks).toBe(0);
    expect(await redis.exists(`${prefix}:multi:{p}:gpu`)).toBe(0);
  });
});

describe('server settings', () => {
  it('warns when listpack limits below the defaults would keep the engine-map buckets from staying compact', async () => {
    const [, original] = (await redis.config('GET', 'hash-max-listpack-entries')) as string[];
    try {
      expect(await checkServerSettings(redis)).toBeNull();
      await redis.config('SET', 'hash-max-listpack-entries', '16');
      expect(await checkServerSettings(redis)).toMatch(/hash-max-listpack-entries is 16/);
    } finally {
      await redis.config('SET', 'hash-max-listpack-entries', original ?? '128');
    }
  });

  it('warns when Redis may evict index keys under memory pressure', async () => {
    const [, original] = (await redis.config('GET', 'maxmemory-policy')) as string[];
    try {
      await redis.config('SET', 'maxmemory-policy', 'volatile-lru');
      expect(await checkServerSettings(redis)).toBeNull();
      await redis.config('SET', 'maxmemory-policy', 'allkeys-lru');
      expect(await checkServerSettings(redis)).toMatch(/maxmemory-policy is allkeys-lru/);
    } finally {
      await redis.config('SET', 'maxmemory-policy', original ?? 'noeviction');
    }
  });
});

describe('writing without the read', () => {
  it('skips the planning read when it wrote the pod\'s previous batch, and falls back when another writer moved the pod', async () => {
    const keyer = createBlockKeyer({ modelName: 'm', blockSize: 4 });
    const prefix = `memo${++prefixCounter}`;
    const remembered: string[] = [];
    const a = new RedisBlockIndex({ redis, keyer, prefix, onRemembered: (outcome) => remembered.push(outcome) });
    const b = new RedisBlockIndex({ redis, keyer, prefix });
    const tokens = Array.from({ length: 4 * 6 }, (_, i) => i + 1);
    const batch = (seq: bigint, hashes: bigint[], parent: bigint | null, part: number[]) =>
      ({ kind: 'batch', pod: 'p', model: 'm', epoch: 0, seq, batch: { ts: 1, events: [vllmBlockStoredEvent({ blockHashes: hashes, parentBlockHash: parent, tokenIds: part, blockSize: 4 })], dataParallelRank: 0 } }) as const;
    // A chain written in three batches, each continuing from the previous batch's last block.
    expect((await a.apply(batch(0n, [1n, 2n], null, tokens.slice(0, 8)))).outcome).toBe('applied');
    expect((await a.apply(batch(1n, [3n, 4n], 2n, tokens.slice(8, 16)))).outcome).toBe('applied');
    expect(remembered).toEqual(['current']);
    expect((await a.lookup(keyer.keysForTokens(tokens.slice(0, 16)), ['p'])).pods[0]!.matchedBlocks).toBe(4);

    // Another writer (say, the partition's next owner) applies the next batch; `a` still remembers
    // position 1, plans batch 2 from memory, is refused by the compare-and-set and re-reads: the
    // batch is a duplicate, nothing is written twice.
    expect((await b.apply(batch(2n, [5n, 6n], 4n, tokens.slice(16, 24)))).outcome).toBe('applied');
    expect((await a.apply(batch(2n, [5n, 6n], 4n, tokens.slice(16, 24)))).outcome).toBe('duplicate');
    expect(remembered).toEqual(['current', 'stale']);
    expect((await a.lookup(keyer.keysForTokens(tokens), ['p'])).pods[0]!.matchedBlocks).toBe(6);
    expect(await a.stats()).toMatchObject({ entries: 6, engineKeys: 6 });

    // The refused memo is gone: the next batch is planned from a read again.
    expect((await a.apply(batch(3n, [7n], 2n, tokens.slice(8, 12).map((t) => t + 100)))).outcome).toBe('applied');
    expect(remembered).toEqual(['current', 'stale']);
  });
});
