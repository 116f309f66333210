import { createBlockKeyer, DEFAULT_BLOCK_SIZE, toUint64Hex, type BlockExtra } from './index';
import { randomInt, randomText, randomTokens, randomUint64, referenceRequestKeys, seededRandom, thrownCode } from './testing';

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const hexes = (keys: bigint[]): string[] => keys.map(toUint64Hex);
/** The 16 Qwen3 token ids of the vLLM v0.26 BlockStored sample (upstream-spec §1.4, kthena #1535). */
const KTHENA_TOKENS = [151644, 872, 198, 9064, 374, 279, 6722, 315, 5616, 30, 151645, 198, 151644, 77091, 198, 151667];

describe('createBlockKeyer: upstream-spec §3.4 vectors (re-verified with Python cbor2)', () => {
  it('A: test-model, block 16, tokens 1..16', () => {
    const k = createBlockKeyer({ modelName: 'test-model', blockSize: 16 });
    expect(toUint64Hex(k.initHash)).toBe('cbf29ce484222325');
    expect(toUint64Hex(k.rootKey)).toBe('f31309635ef2add0');
    expect(k.keysForTokens(range(1, 16))).toEqual([9540012594951042066n]);
  });

  it('B: test-model, block 4, tokens 1..8', () => {
    const k = createBlockKeyer({ modelName: 'test-model', blockSize: 4 });
    expect(hexes(k.keysForTokens(range(1, 8)))).toEqual(['b33ea88fa99c8f52', 'e171fe1c78a71471']);
  });

  it('C: Qwen/Qwen3-32B, seed "42", block 16', () => {
    const k = createBlockKeyer({ modelName: 'Qwen/Qwen3-32B', blockSize: 16, hashSeed: '42' });
    expect(toUint64Hex(k.initHash)).toBe('07ee7e07b4b19223');
    expect(toUint64Hex(k.rootKey)).toBe('7fdf8ea5c9b70121');
    expect(hexes(k.keysForTokens(range(1, 16)))).toEqual(['65c853ba8ac40d68']);
  });

  it('D: Qwen/Qwen3-8B, kthena tokens, block 16', () => {
    const k = createBlockKeyer({ modelName: 'Qwen/Qwen3-8B', blockSize: 16 });
    expect(toUint64Hex(k.rootKey)).toBe('0951e7a4e202ae46');
    expect(hexes(k.keysForTokens(KTHENA_TOKENS))).toEqual(['0d6563dca824e7c6']);
  });
});

describe('keysForTokens semantics', () => {
  const keyer = createBlockKeyer({ modelName: 'test-model', blockSize: 4 });

  it('defaults to block size 64 and empty seed', () => {
    const k = createBlockKeyer({ modelName: 'm' });
    expect(DEFAULT_BLOCK_SIZE).toBe(64);
    expect(k.blockSize).toBe(64);
    expect(k.hashSeed).toBe('');
    expect(k.keysForTokens(range(1, 127))).toHaveLength(1);
    expect(k.keysForTokens(range(1, 128))).toHaveLength(2);
  });

  it('returns [] for no tokens and for fewer tokens than a block', () => {
    expect(keyer.keysForTokens([])).toEqual([]);
    expect(keyer.keysForTokens([1, 2, 3])).toEqual([]);
  });

  it('hashes exactly one block and drops the trailing partial block', () => {
    const one = keyer.keysForTokens([1, 2, 3, 4]);
    expect(one).toHaveLength(1);
    expect(keyer.keysForTokens([1, 2, 3, 4, 5, 6, 7])).toEqual(one);
    expect(hexes(keyer.keysForTokens(range(1, 9)))).toEqual(['b33ea88fa99c8f52', 'e171fe1c78a71471']);
  });

  it('accepts Uint32Array input and token ids up to 2^32-1', () => {
    const ids = [0, 0xffffffff, 65536, 0xfffffffe];
    const keys = keyer.keysForTokens(Uint32Array.from(ids));
    expect(keys).toEqual(keyer.keysForTokens(ids));
    expect(keys).toEqual(referenceRequestKeys({ modelName: 'test-model', blockSize: 4, tokens: ids }).keys);
  });

  it('chains: keys of a prompt = keys of its first part, then the rest with parent = last key', () => {
    const tokens = randomTokens(seededRandom(1), 40);
    const whole = keyer.keysForTokens(tokens);
    const head = keyer.keysForTokens(tokens.slice(0, 12));
    const tail = keyer.keysForTokens(tokens.slice(12), { parent: head[head.length - 1] });
    expect([...head, ...tail]).toEqual(whole);
  });

  it('treats parent 0n like no parent (llm-d EmptyBlockHash)', () => {
    expect(keyer.keysForTokens(range(1, 8), { parent: 0n })).toEqual(keyer.keysForTokens(range(1, 8)));
  });

  it('starts from a given parent, including values ≥ 2^63', () => {
    const parent = 0xfffffffffffffffen;
    const keys = keyer.keysForTokens(range(1, 8), { parent });
    expect(keys).toEqual(referenceRequestKeys({ modelName: 'test-model', blockSize: 4, tokens: range(1, 8), parent }).keys);
    expect(keys).not.toEqual(keyer.keysForTokens(range(1, 8)));
  });

  it('mixes the model name into every key through the root', () => {
    const other = keyer.forModel('other-model');
    expect(other.blockSize).toBe(4);
    expect(other.rootKey).not.toBe(keyer.rootKey);
    expect(other.keysForTokens(range(1, 4))).not.toEqual(keyer.keysForTokens(range(1, 4)));
    expect(other.keysForTokens(range(1, 4))).toEqual(createBlockKeyer({ modelName: 'other-model', blockSize: 4 }).keysForTokens(range(1, 4)));
  });

  it('changes every key with the hash seed', () => {
    const seeded = createBlockKeyer({ modelName: 'test-model', blockSize: 4, hashSeed: 'x' });
    expect(seeded.keysForTokens(range(1, 4))).not.toEqual(keyer.keysForTokens(range(1, 4)));
  });

  it('folds the cache salt into block 0 only, after its MM hashes', () => {
    const tokens = range(1, 12);
    const plain = keyer.keysForTokens(tokens);
    const salted = keyer.keysForTokens(tokens, { cacheSalt: 'tenant-a' });
    expect(salted[0]).not.toBe(plain[0]);
    expect(salted).toEqual(keyer.keysForTokens(tokens, { extras: [[{ Hash: 'tenant-a' }], null, null] }));
    const mm: BlockExtra[] = [[{ Hash: 'img-1' }], [], [{ Hash: 'img-2' }]];
    expect(keyer.keysForTokens(tokens, { extras: mm, cacheSalt: 's' })).toEqual(
      keyer.keysForTokens(tokens, { extras: [[{ Hash: 'img-1' }, { Hash: 's' }], null, [{ Hash: 'img-2' }]] }),
    );
    expect(mm[0]).toEqual([{ Hash: 'img-1' }]); // caller's extras are not mutated
  });

  it("ignores an empty cache salt ('' = no salt, as upstream)", () => {
    expect(keyer.keysForTokens(range(1, 8), { cacheSalt: '' })).toEqual(keyer.keysForTokens(range(1, 8)));
  });

  it('treats null, undefined and [] extras as plain text', () => {
    const plain = keyer.keysForTokens(range(1, 12));
    expect(keyer.keysForTokens(range(1, 12), { extras: [null, undefined, []] })).toEqual(plain);
  });

  it('makes a multimodal block and all later keys differ, but not earlier ones', () => {
    const plain = keyer.keysForTokens(range(1, 12));
    const mm = keyer.keysForTokens(range(1, 12), { extras: [null, [{ Hash: 'img' }], null] });
    expect(mm[0]).toBe(plain[0]);
    expect(mm[1]).not.toBe(plain[1]);
    expect(mm[2]).not.toBe(plain[2]);
  });

  it('ignores extras when there is no full block (as upstream, which returns before checking)', () => {
    expect(keyer.keysForTokens([1, 2], { extras: [null, null, null] })).toEqual([]);
  });

  it('blockCount floors tokenCount / blockSize', () => {
    expect([0, 3, 4, 7, 8, 9].map((n) => keyer.blockCount(n))).toEqual([0, 0, 1, 1, 2, 2]);
    expect(createBlockKeyer({ modelName: 'm' }).blockCount(7000)).toBe(109);
  });
});

describe('invalid input is refused with a typed error', () => {
  const keyer = createBlockKeyer({ modelName: 'm', blockSize: 2 });

  it.each([[0], [-1], [1.5], [Number.NaN], [Infinity], [(1 << 20) + 1], ['64' as unknown as number]])('blockSize %p', (blockSize) => {
    expect(thrownCode(() => createBlockKeyer({ modelName: 'm', blockSize }))).toBe('INVALID_BLOCK_SIZE');
  });

  it('accepts the block-size edges 1 and 2^20', () => {
    expect(createBlockKeyer({ modelName: 'm', blockSize: 1 }).keysForTokens([5, 6])).toHaveLength(2);
    expect(createBlockKeyer({ modelName: 'm', blockSize: 1 << 20 }).blockSize).toBe(1 << 20);
  });

  it('an empty or non-string model name, a non-string seed', () => {
    expect(thrownCode(() => createBlockKeyer({ modelName: '' }))).toBe('INVALID_MODEL_NAME');
    expect(thrownCode(() => createBlockKeyer({ modelName: 1 as unknown as string }))).toBe('INVALID_MODEL_NAME');
    expect(thrownCode(() => createBlockKeyer({ modelName: 'm', hashSeed: 42 as unknown as string }))).toBe('INVALID_HASH_SEED');
  });

  it.each([[-1], [1.5], [2 ** 32], [Number.NaN], ['7' as unknown as number], [undefined as unknown as number]])('token %p', (bad) => {
    expect(thrownCode(() => keyer.keysForTokens([1, 2, 3, bad]))).toBe('INVALID_TOKEN');
  });

  it('a bad token in the dropped partial block too', () => {
    expect(thrownCode(() => keyer.keysForTokens([1, 2, -5]))).toBe('INVALID_TOKEN');
    expect(thrownCode(() => keyer.keysForTokens([-5]))).toBe('INVALID_TOKEN');
  });

  it('a parent outside [0, 2^64)', () => {
    expect(thrownCode(() => keyer.keysForTokens([1, 2], { parent: 1n << 64n }))).toBe('INVALID_UINT64');
    expect(thrownCode(() => keyer.keysForTokens([1, 2], { parent: -1n }))).toBe('INVALID_UINT64');
    expect(thrownCode(() => keyer.keysForTokens([1, 2], { parent: 5 as unknown as bigint }))).toBe('INVALID_UINT64');
  });

  it('extras whose length differs from the block count', () => {
    expect(thrownCode(() => keyer.keysForTokens([1, 2, 3, 4], { extras: [null] }))).toBe('EXTRAS_LENGTH_MISMATCH');
    expect(thrownCode(() => keyer.keysForTokens([1, 2, 3, 4], { extras: [null, null, null] }))).toBe('EXTRAS_LENGTH_MISMATCH');
  });

  it('malformed extras', () => {
    const bad = [[{ Hash: 1 }]] as unknown as BlockExtra[];
    expect(thrownCode(() => keyer.keysForTokens([1, 2], { extras: bad }))).toBe('INVALID_EXTRA');
    expect(thrownCode(() => keyer.keysForTokens([1, 2], { extras: ['img'] as unknown as BlockExtra[] }))).toBe('INVALID_EXTRA');
    expect(thrownCode(() => keyer.keysForTokens([1, 2], { extras: 'x' as unknown as BlockExtra[] }))).toBe('INVALID_EXTRA');
    expect(thrownCode(() => keyer.keysForTokens([1, 2], { cacheSalt: 3 as unknown as string }))).toBe('INVALID_EXTRA');
  });

  it('a cache salt on a chain resumed from a parent', () => {
    expect(thrownCode(() => keyer.keysForTokens([1, 2], { parent: 9n, cacheSalt: 's' }))).toBe('CACHE_SALT_WITH_PARENT');
  });

  it('a tokens value without a usable length', () => {
    expect(thrownCode(() => keyer.keysForTokens({ length: -1 }))).toBe('INVALID_TOKEN_COUNT');
    expect(thrownCode(() => keyer.keysForTokens(null as unknown as number[]))).toBe('INVALID_TOKEN_COUNT');
    expect(thrownCode(() => keyer.blockCount(-1))).toBe('INVALID_TOKEN_COUNT');
    expect(thrownCode(() => keyer.blockCount(2.5))).toBe('INVALID_TOKEN_COUNT');
  });
});

describe('fast path = cborg reference on seeded-random inputs', () => {
  it('agrees on 400 random prompts (block sizes, seeds, parents near 2^64, MM extras, salts)', () => {
    const rand = seededRandom(0x5eed);
    for (let n = 0; n < 400; n++) {
      const blockSize = 1 + randomInt(rand, 80);
      const tokens = randomTokens(rand, randomInt(rand, 400));
      const blocks = Math.floor(tokens.length / blockSize);
      const modelName = rand() < 0.2 ? randomText(rand) || 'm' : 'Qwen/Qwen3-8B';
      const hashSeed = rand() < 0.3 ? String(randomInt(rand, 1000)) : '';
      const parent = rand() < 0.5 ? randomUint64(rand) : undefined;
      const extras =
        rand() < 0.4
          ? Array.from({ length: blocks }, () => (rand() < 0.5 ? null : Array.from({ length: 1 + randomInt(rand, 3) }, () => ({ Hash: randomText(rand) }))))
          : undefined;
      const cacheSalt = parent === undefined && rand() < 0.3 ? randomText(rand) : undefined;

      const keyer = createBlockKeyer({ modelName, blockSize, hashSeed });
      const ours = keyer.keysForTokens(tokens, { parent, extras, cacheSalt });
      const ref = referenceRequestKeys({ modelName, blockSize, hashSeed, tokens, parent, extras, cacheSalt });
      expect(keyer.initHash).toBe(ref.initHash);
      expect(keyer.rootKey).toBe(ref.rootKey);
      expect(ours).toEqual(ref.keys);
    }
  });

  it('agrees on a 7,000-token prompt with block size 64 (109 keys)', () => {
    const tokens = randomTokens(seededRandom(7000), 7000, 151_936);
    const keyer = createBlockKeyer({ modelName: 'Qwen/Qwen3-32B' });
    const ours = keyer.keysForTokens(tokens);
    expect(ours).toHaveLength(109);
    expect(ours).toEqual(referenceRequestKeys({ modelName: 'Qwen/Qwen3-32B', blockSize: 64, tokens }).keys);
  });
});
