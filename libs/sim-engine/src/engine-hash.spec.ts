/**
 * Engine hashes against vLLM's algorithm: the upstream-spec test vector, and an independent Python
 * implementation with cbor2 (fixtures/engine_hash.py, system interpreter with python3-cbor2).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createPrng } from '@kvr/testing';
import { createEngineHasher, type EngineExtraKey, type EngineHash } from './index';

const PYTHON = '/usr/bin/python3';
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

function chain(seed: string, blockSize: number, tokens: number[], extraKeys?: (EngineExtraKey[] | null)[]): EngineHash[] {
  const hasher = createEngineHasher('sha256_cbor', seed);
  const out: EngineHash[] = [];
  for (let i = 0; i < Math.floor(tokens.length / blockSize); i++) {
    out.push(hasher.hashBlock(out[i - 1] ?? null, tokens.slice(i * blockSize, (i + 1) * blockSize), extraKeys?.[i] ?? null));
  }
  return out;
}

describe('sha256_cbor engine hashes', () => {
  it('matches the PYTHONHASHSEED=42 vector (NONE_HASH, two chained 16-token blocks)', () => {
    const hasher = createEngineHasher('sha256_cbor', '42');
    expect(hex(hasher.noneHash.digest)).toBe('9fa6eb003f14425eb9c8e6baacfbcaab26257357b829c7bfa74ffcc4f31c1780');
    const [b1, b2] = chain('42', 16, range(1, 32));
    expect(hex(b1!.digest)).toBe('476e88fb0c175c0b4ef0343e158b5157c2ac537d37d97830e235fcc84bc5706d');
    expect(b1!.value).toBe(16300212363532267629n);
    expect(hex(b2!.digest)).toBe('9c89b9f2af12de95c90eb76195371e73760b4df4aa7617587856ae50e4ba5af8');
    expect(b2!.value).toBe(8671309795006503672n);
  });

  it('equals Python cbor2 + hashlib on random chains with LoRA, salt and multimodal extra keys', () => {
    if (!existsSync(PYTHON)) throw new Error(`${PYTHON} not found: install python3 and python3-cbor2`);
    const prng = createPrng(7);
    const cases = Array.from({ length: 12 }, (_, c) => {
      const blockSize = [1, 16, 64][c % 3]!;
      const tokens = Array.from({ length: blockSize * (1 + prng.int(5)) + prng.int(blockSize) }, () => (c === 0 ? prng.int(24) : prng.int(2 ** 32)));
      const blocks = Math.floor(tokens.length / blockSize);
      const extraKeys = Array.from({ length: blocks }, (_, i): EngineExtraKey[] | null => {
        if (c % 4 === 0) return null;
        const keys: EngineExtraKey[] = [];
        if (c % 4 >= 2) keys.push('adapter-é');
        if (c % 4 === 3 && i === 0) keys.push(['mm-hash-' + c, prng.int(300)]);
        if (i === 0) keys.push('salt' + c);
        return keys;
      });
      return { seed: `seed-${c}`, blockSize, tokens, extraKeys };
    });
    const run = spawnSync(PYTHON, [join(__dirname, '..', 'fixtures', 'engine_hash.py')], { input: JSON.stringify(cases), encoding: 'utf8' });
    expect(run.stderr).toBe('');
    const expected = JSON.parse(run.stdout) as { noneHash: string; blocks: { hex: string; value: string }[] }[];
    cases.forEach((c, i) => {
      const ours = chain(c.seed, c.blockSize, c.tokens, c.extraKeys);
      expect(hex(createEngineHasher('sha256_cbor', c.seed).noneHash.digest)).toBe(expected[i]!.noneHash);
      expect(ours.map((h) => ({ hex: hex(h.digest), value: h.value.toString() }))).toEqual(expected[i]!.blocks);
    });
  });

  it('gives every engine its own NONE_HASH without a seed (vLLM without PYTHONHASHSEED)', () => {
    const a = createEngineHasher('sha256_cbor', null);
    const b = createEngineHasher('sha256_cbor', null);
    expect(hex(a.noneHash.digest)).not.toBe(hex(b.noneHash.digest));
    expect(a.hashBlock(null, [1, 2], null).value).not.toBe(b.hashBlock(null, [1, 2], null).value);
  });

  it('chains: the same tokens under another parent or extra key hash differently', () => {
    const hasher = createEngineHasher('sha256_cbor', '0');
    const root = hasher.hashBlock(null, [5, 6], null);
    expect(hasher.hashBlock(root, [5, 6], null).value).not.toBe(root.value);
    expect(hasher.hashBlock(null, [5, 6], ['lora-a']).value).not.toBe(root.value);
    expect(hasher.hashBlock(null, [5, 6], null)).toEqual(root);
  });

  it('rejects token ids that are not uint32', () => {
    const hasher = createEngineHasher('sha256_cbor', '0');
    expect(() => hasher.hashBlock(null, [1, -1], null)).toThrow(RangeError);
    expect(() => hasher.hashBlock(null, [2 ** 32], null)).toThrow(RangeError);
  });
});

describe('fnv64_cbor engine hashes', () => {
  it('are 8-byte digests whose value is the digest, deterministic per seed', () => {
    const a = createEngineHasher('fnv64_cbor', 's');
    const h = a.hashBlock(null, [1, 2, 3], null);
    expect(h.digest).toHaveLength(8);
    expect(BigInt('0x' + hex(h.digest))).toBe(h.value);
    expect(createEngineHasher('fnv64_cbor', 's').hashBlock(null, [1, 2, 3], null)).toEqual(h);
    expect(createEngineHasher('sha256_cbor', 's').hashBlock(null, [1, 2, 3], null).value).not.toBe(h.value);
  });
});
