// real: redis-server (spawned by @kvr/testing on a free port), ioredis; mock: nothing.
// The same conformance suite as the in-memory backend, against Redis.
import Redis from 'ioredis';
import { createBlockKeyer } from '@kvr/block-keys';
import { vllmBlockStoredEvent } from '@kvr/kv-events/testing';
import { describeBlockIndexConformance } from '@kvr/kv-index/testing';
import { startRedis, type RedisServerHandle } from '@kvr/testing';
import { checkServerSettings, RedisBlockIndex } from './index';

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

describe('held hash encoding', () => {
  it('keeps a small pod\'s held hash a hashtable (a listpack would make wide lookups scan), hidden from dump and stats', async () => {
    const keyer = createBlockKeyer({ modelName: 'm', blockSize: 4 });
    const prefix = `enc${++prefixCounter}`;
    const index = new RedisBlockIndex({ redis, keyer, prefix });
    const tokens = Array.from({ length: 4 * 300 }, (_, i) => i + 1);
    await index.apply({ kind: 'batch', pod: 'p:1', model: 'm', epoch: 0, seq: 0n, batch: { ts: 1, events: [vllmBlockStoredEvent({ blockHashes: Array.from({ length: 300 }, (_, i) => BigInt(i + 1)), tokenIds: tokens, blockSize: 4 })], dataParallelRank: 0 } });
    expect(await redis.object('ENCODING', `${prefix}:held:{p:1}:gpu`)).toBe('hashtable');
    expect(await index.stats()).toMatchObject({ requestKeys: 300, entries: 300 });
    expect((await index.dump()).length).toBe(300);
    expect((await index.lookup(keyer.keysForTokens(tokens), ['p:1'])).pods[0]!.matchedBlocks).toBe(300);
    const cleared = await index.apply({ kind: 'batch', pod: 'p:1', model: 'm', epoch: 0, seq: 1n, batch: { ts: 1, events: [{ type: 'AllBlocksCleared' }], dataParallelRank: 0 } });
    expect(cleared.evicted).toBe(300);
  });
});

describe('server settings', () => {
  it('warns when hash-max-listpack-value would defeat the encoding sentinel', async () => {
    const [, original] = (await redis.config('GET', 'hash-max-listpack-value')) as string[];
    try {
      expect(await checkServerSettings(redis)).toBeNull();
      await redis.config('SET', 'hash-max-listpack-value', '300');
      expect(await checkServerSettings(redis)).toMatch(/hash-max-listpack-value is 300/);
    } finally {
      await redis.config('SET', 'hash-max-listpack-value', original ?? '64');
    }
  });
});
