/**
 * Test helpers for @kvr/block-keys (not part of the runtime surface; tests and benches only).
 *
 * `referenceRequestKeys` is the slow, obviously-correct oracle: cborg (canonical by default in
 * 1.10.2) for the CBOR and a BigInt FNV-1a-64, sharing no code with the fast path. The fast path
 * must equal it bit for bit; the Python fixture (fixtures/request_keys.py) checks both against cbor2.
 */
import { encode } from 'cborg';
import { BlockKeyError } from './errors';

const MASK64 = 0xffffffffffffffffn;

/** FNV-1a-64 the textbook way (BigInt per byte). */
export function referenceFnv1a64(bytes: Uint8Array): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & MASK64;
  }
  return h;
}

type RefExtra = null | string | readonly { readonly Hash: string }[];

/** cborg's canonical encoding of `[parent, tokens, extra]`; typed-array tokens are copied to a plain array first (cborg would write a byte string). */
export function referenceEncodeBlock(parent: bigint, tokens: ArrayLike<number> | null, extra: RefExtra): Uint8Array {
  const toks = tokens === null ? null : Array.from(tokens);
  const ext = extra === null || typeof extra === 'string' ? extra : extra.map((e) => ({ Hash: e.Hash }));
  return encode([parent, toks, ext]);
}

export interface ReferenceKeysInput {
  modelName: string;
  blockSize: number;
  hashSeed?: string;
  tokens: ArrayLike<number>;
  parent?: bigint;
  extras?: readonly (readonly { readonly Hash: string }[] | null | undefined)[];
  cacheSalt?: string;
}

/** Request keys per llm-d-kv-cache@7be76e1 + llm-d-router foldCacheSalt, via cborg + BigInt FNV. */
export function referenceRequestKeys(input: ReferenceKeysInput): { initHash: bigint; rootKey: bigint; keys: bigint[] } {
  const initHash = referenceFnv1a64(new TextEncoder().encode(input.hashSeed ?? ''));
  const rootKey = referenceFnv1a64(referenceEncodeBlock(initHash, null, input.modelName));
  const tokens = Array.from(input.tokens);
  const blocks = Math.floor(tokens.length / input.blockSize);
  const perBlock: ({ Hash: string }[] | null)[] = [];
  for (let b = 0; b < blocks; b++) {
    const e = input.extras?.[b];
    perBlock.push(e ? e.map((x) => ({ Hash: x.Hash })) : null);
  }
  if (input.cacheSalt && blocks > 0) perBlock[0] = [...(perBlock[0] ?? []), { Hash: input.cacheSalt }];
  let prev = input.parent !== undefined && input.parent !== 0n ? input.parent : rootKey;
  const keys: bigint[] = [];
  for (let b = 0; b < blocks; b++) {
    const chunk = tokens.slice(b * input.blockSize, (b + 1) * input.blockSize);
    const e = perBlock[b] ?? null;
    prev = referenceFnv1a64(referenceEncodeBlock(prev, chunk, e && e.length > 0 ? e : null));
    keys.push(prev);
  }
  return { initHash, rootKey, keys };
}

export { seededRandom } from '@kvr/testing';

/** Integer in [0, n) from `rand`; n ≤ 2^32. */
export function randomInt(rand: () => number, n: number): number {
  return Math.floor(rand() * n);
}

/**
 * Token ids spread over every CBOR width class (1, 2, 3 and 5 bytes) and their boundaries, so a
 * random prompt exercises each branch of the encoder; `vocab` caps the range when given.
 */
export function randomTokens(rand: () => number, count: number, vocab?: number): number[] {
  const edges = [0, 23, 24, 255, 256, 65535, 65536, 151643, 0xffffffff];
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    let t: number;
    if (vocab !== undefined) {
      t = randomInt(rand, vocab);
    } else {
      const k = randomInt(rand, 6);
      if (k === 0) t = edges[randomInt(rand, edges.length)] as number;
      else if (k === 1) t = randomInt(rand, 24);
      else if (k === 2) t = randomInt(rand, 256);
      else if (k === 3) t = randomInt(rand, 65536);
      else if (k === 4) t = randomInt(rand, 200_000);
      else t = randomInt(rand, 4294967296);
    }
    out.push(t);
  }
  return out;
}

/** A uint64 biased toward CBOR width boundaries and the top of the range (2^63, 2^64-1). */
export function randomUint64(rand: () => number): bigint {
  const edges = [1n, 23n, 24n, 255n, 256n, 65535n, 65536n, 0xffffffffn, 0x100000000n, 1n << 63n, (1n << 64n) - 1n, (1n << 64n) - (1n << 32n)];
  if (rand() < 0.3) return edges[randomInt(rand, edges.length)] as bigint;
  return (BigInt(randomInt(rand, 4294967296)) << 32n) | BigInt(randomInt(rand, 4294967296));
}

/** Strings whose UTF-8 lengths cross the CBOR text-head boundaries (23/24, 255/256), ASCII and not. */
export function randomText(rand: () => number): string {
  const alphabet = ['a', 'Z', '0', '/', '-', 'é', '✓', '漢', '😀'];
  const lengths = [0, 1, 22, 23, 24, 64, 255, 256, 300];
  const n = lengths[randomInt(rand, lengths.length)] as number;
  let s = '';
  while (new TextEncoder().encode(s).length < n) s += alphabet[randomInt(rand, alphabet.length)] as string;
  return s;
}

/**
 * Runs `fn` and returns the `code` of the BlockKeyError it throws; `undefined` when it returns
 * normally and a descriptive string for any other throw, so an assertion on the code fails loudly.
 */
export function thrownCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof BlockKeyError ? err.code : `not a BlockKeyError: ${String(err)}`;
  }
  return undefined;
}
