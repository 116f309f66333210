import type { BlockRemovedEvent, BlockStoredEvent } from '@kvr/kv-events';
import { BlockPool, createEngineHasher, type EngineHash, type KvBlock } from './index';

const BS = 4;
const hasher = createEngineHasher('sha256_cbor', '0');

function chainOf(tokens: number[]): EngineHash[] {
  const out: EngineHash[] = [];
  for (let i = 0; i < tokens.length / BS; i++) out.push(hasher.hashBlock(out[i - 1] ?? null, tokens.slice(i * BS, (i + 1) * BS), null));
  return out;
}

function cache(pool: BlockPool, blocks: KvBlock[], tokens: number[]): EngineHash[] {
  const hashes = chainOf(tokens);
  pool.cacheBlocks({ blocks, hashes, parentHash: null, tokenIds: tokens, loraId: null, loraName: null, extraKeys: blocks.map(() => null) });
  return hashes;
}

const seq = (start: number, n: number): number[] => Array.from({ length: n }, (_, i) => start + i);

describe('BlockPool', () => {
  it('records one BlockStored per call with parent, tokens and vLLM v0.26 defaults', () => {
    const pool = new BlockPool({ numBlocks: 8, blockSize: BS, hashFormat: 'int' });
    const blocks = pool.allocate(2)!;
    const hashes = cache(pool, blocks, seq(1, 8));
    const [event] = pool.takeEvents() as BlockStoredEvent[];
    expect(event).toMatchObject({
      type: 'BlockStored',
      blockHashes: hashes.map((h) => h.value),
      parentBlockHash: null,
      tokenIds: seq(1, 8),
      blockSize: BS,
      medium: 'GPU',
      extraKeys: [null, null],
      groupIdx: 0,
      kvCacheSpecKind: 'full_attention',
    });
    expect(event!.blockHashBytes).toBeUndefined();
    expect(pool.takeEvents()).toEqual([]);
  });

  it('carries raw digests in bytes mode', () => {
    const pool = new BlockPool({ numBlocks: 4, blockSize: BS, hashFormat: 'bytes' });
    const hashes = cache(pool, pool.allocate(1)!, seq(1, 4));
    const [event] = pool.takeEvents() as BlockStoredEvent[];
    expect(event!.blockHashBytes).toEqual([hashes[0]!.digest]);
  });

  it('keeps freed blocks cached and finds the longest cached prefix', () => {
    const pool = new BlockPool({ numBlocks: 8, blockSize: BS, hashFormat: 'int' });
    const blocks = pool.allocate(3)!;
    const hashes = cache(pool, blocks, seq(1, 12));
    pool.free(blocks);
    expect(pool.freeBlocks).toBe(8);
    expect(pool.usage).toBe(0);
    expect(pool.longestCachedPrefix(hashes)).toEqual(blocks);
    const other = chainOf([...seq(1, 4), 99, 98, 97, 96]);
    expect(pool.longestCachedPrefix(other)).toEqual([blocks[0]]);
    expect(pool.longestCachedPrefix(chainOf(seq(50, 4)))).toEqual([]);
  });

  it('evicts least recently freed blocks first, a sequence tail before its head, with one BlockRemoved each', () => {
    const pool = new BlockPool({ numBlocks: 4, blockSize: BS, hashFormat: 'int' });
    const a = pool.allocate(2)!;
    const ha = cache(pool, a, seq(1, 8));
    const b = pool.allocate(2)!;
    const hb = cache(pool, b, seq(100, 8));
    pool.takeEvents();
    pool.free(a); // queue: a1, a0
    pool.free(b); // queue: a1, a0, b1, b0
    pool.allocate(3);
    const removed = pool.takeEvents() as BlockRemovedEvent[];
    expect(removed.map((e) => e.blockHashes[0])).toEqual([ha[1]!.value, ha[0]!.value, hb[1]!.value]);
    expect(removed.every((e) => e.type === 'BlockRemoved' && e.medium === 'GPU')).toBe(true);
    expect(pool.longestCachedPrefix(hb)).toEqual([b[0]]);
    expect(pool.residentBlocks().map((r) => r.hash)).toEqual([hb[0]!.value]);
  });

  it('a cache hit on an idle block takes it out of the eviction queue', () => {
    const pool = new BlockPool({ numBlocks: 2, blockSize: BS, hashFormat: 'int' });
    const a = pool.allocate(1)!;
    const h = cache(pool, a, seq(1, 4));
    pool.free(a);
    pool.touch(pool.longestCachedPrefix(h));
    expect(pool.freeBlocks).toBe(1);
    expect(pool.allocate(2)).toBeNull();
    pool.allocate(1);
    expect(pool.takeEvents().filter((e) => e.type === 'BlockRemoved')).toEqual([]);
    expect(pool.usage).toBe(1);
  });

  it('stores a duplicate copy separately, as vLLM does, and removes each copy with its own event', () => {
    const pool = new BlockPool({ numBlocks: 2, blockSize: BS, hashFormat: 'int' });
    const one = pool.allocate(1)!;
    const two = pool.allocate(1)!;
    const [h] = cache(pool, one, seq(1, 4));
    cache(pool, two, seq(1, 4));
    expect(pool.cachedHashes).toBe(1);
    expect(pool.residentBlocks()).toHaveLength(2);
    pool.takeEvents();
    pool.free(one);
    pool.allocate(1);
    expect(pool.takeEvents()).toEqual([expect.objectContaining({ type: 'BlockRemoved', blockHashes: [h!.value] })]);
    expect(pool.longestCachedPrefix([h!])).toEqual(two);
  });

  it('resets only when idle, then reports AllBlocksCleared', () => {
    const pool = new BlockPool({ numBlocks: 2, blockSize: BS, hashFormat: 'int' });
    const a = pool.allocate(1)!;
    const h = cache(pool, a, seq(1, 4));
    pool.takeEvents();
    expect(pool.reset()).toBe(false);
    expect(pool.takeEvents()).toEqual([]);
    pool.free(a);
    expect(pool.reset()).toBe(true);
    expect(pool.takeEvents()).toEqual([{ type: 'AllBlocksCleared' }]);
    expect(pool.longestCachedPrefix(h)).toEqual([]);
  });

  it('refuses impossible states loudly', () => {
    const pool = new BlockPool({ numBlocks: 1, blockSize: BS, hashFormat: 'int' });
    const [block] = pool.allocate(1)!;
    pool.free([block!]);
    expect(() => pool.free([block!])).toThrow(/freed more often/);
    expect(() => new BlockPool({ numBlocks: 0, blockSize: BS, hashFormat: 'int' })).toThrow(RangeError);
  });
});
