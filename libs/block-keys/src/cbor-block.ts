/**
 * Hand-written canonical CBOR (RFC 8949 §4.2.1 core deterministic encoding, = Python
 * `cbor2.dumps(x, canonical=True)` = Go fxamacker/cbor `CanonicalEncOptions()` for these shapes)
 * for the one payload llm-d hashes:
 *
 *   [parent: uint64, tokens: [uint32...] | null, extra: null | text | [{"Hash": text}, ...]]
 *
 *   0x83                      array(3)
 *   parent                    major 0, shortest form: 0x00-0x17 | 0x18 b | 0x19 bb | 0x1a b×4 | 0x1b b×8
 *   tokens                    0x80+n | 0x98 n | 0x99 nn | 0x9a n×4, then each id as a major-0 uint
 *                             (shortest form); a nil Go slice is 0xf6 (null) — only the root hash uses that
 *   extra                     0xf6 (null, plain text) | major-3 text (the model name, root hash only)
 *                             | array of one-key maps: 0xa1 0x64 "Hash" (48 61 73 68) then the id as text
 *
 * A one-key map needs no key sorting, so no shape here depends on a map-ordering rule.
 * Why not call cborg per block: see README "Performance"; cborg stays the oracle in the tests.
 */
import { BlockKeyError } from './errors';

/** One multimodal (or cache-salt) entry of a block's extra: Go `kvblock.MMHash{Hash string}` at llm-d-kv-cache@7be76e1. */
export interface MMHash {
  readonly Hash: string;
}

/** A block's extra as llm-d hashes it: the block's MMHash entries in order. Only `Hash` is read. */
export type BlockExtra = readonly MMHash[];

/** The third element of the hashed triple: null (text), a text string (root hash: model name), or MMHashes. */
export type HashExtra = null | string | BlockExtra;

const MAJOR_UINT = 0x00;
const MAJOR_TEXT = 0x60;
const MAJOR_ARRAY = 0x80;
const CBOR_NULL = 0xf6;
const ARRAY_OF_3 = 0x83;
/** 0xa1 map(1), 0x64 text(4), "Hash". */
const MMHASH_PREFIX = [0xa1, 0x64, 0x48, 0x61, 0x73, 0x68] as const;
/** Worst-case bytes outside the token ids: array(3) + uint64 parent + array head (≤ 5). */
const FIXED_OVERHEAD = 1 + 9 + 5;

const utf8 = new TextEncoder();

/** Writes a CBOR head (major type | argument) for 0 ≤ value < 2^32; returns the next position. */
function writeHead(b: Uint8Array, p: number, major: number, value: number): number {
  if (value < 24) {
    b[p] = major | value;
    return p + 1;
  }
  if (value < 0x100) {
    b[p] = major | 24;
    b[p + 1] = value;
    return p + 2;
  }
  if (value < 0x10000) {
    b[p] = major | 25;
    b[p + 1] = value >>> 8;
    b[p + 2] = value;
    return p + 3;
  }
  b[p] = major | 26;
  b[p + 1] = value >>> 24;
  b[p + 2] = value >>> 16;
  b[p + 3] = value >>> 8;
  b[p + 4] = value;
  return p + 5;
}

/** Writes uint64 hi·2^32+lo (both uint32) in shortest form; returns the next position. */
function writeUint64(b: Uint8Array, p: number, hi: number, lo: number): number {
  if (hi === 0) return writeHead(b, p, MAJOR_UINT, lo);
  b[p] = 0x1b;
  b[p + 1] = hi >>> 24;
  b[p + 2] = hi >>> 16;
  b[p + 3] = hi >>> 8;
  b[p + 4] = hi;
  b[p + 5] = lo >>> 24;
  b[p + 6] = lo >>> 16;
  b[p + 7] = lo >>> 8;
  b[p + 8] = lo;
  return p + 9;
}

function textBytes(s: string): Uint8Array {
  const body = utf8.encode(s);
  const out = new Uint8Array(5 + body.length);
  const p = writeHead(out, 0, MAJOR_TEXT, body.length);
  out.set(body, p);
  return out.subarray(0, p + body.length);
}

/**
 * CBOR of an extra value. Not the hot path: text blocks use the single byte 0xf6 and never get
 * here. An MMHash list is written exactly as given ([] stays an empty array 0x80); the
 * nil-slice-means-null rule lives in the keyer, which maps empty lists to null before this.
 */
export function encodeExtra(extra: HashExtra): Uint8Array {
  if (extra === null) return Uint8Array.of(CBOR_NULL);
  if (typeof extra === 'string') return textBytes(extra);
  if (!Array.isArray(extra)) {
    throw new BlockKeyError('INVALID_EXTRA', 'a block extra must be null, a string, or an array of {Hash: string}');
  }
  const parts: Uint8Array[] = [];
  const head = new Uint8Array(5);
  const headLength = writeHead(head, 0, MAJOR_ARRAY, extra.length);
  parts.push(head.subarray(0, headLength));
  let total = headLength;
  for (let i = 0; i < extra.length; i++) {
    const entry: unknown = extra[i];
    const hash = typeof entry === 'object' && entry !== null ? (entry as { Hash?: unknown }).Hash : undefined;
    if (typeof hash !== 'string') {
      throw new BlockKeyError('INVALID_EXTRA', `extra entry ${i} must be an object {Hash: string}`);
    }
    const text = textBytes(hash);
    parts.push(Uint8Array.from(MMHASH_PREFIX), text);
    total += MMHASH_PREFIX.length + text.length;
  }
  const out = new Uint8Array(total);
  let p = 0;
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}

function invalidToken(index: number, value: unknown): BlockKeyError {
  return new BlockKeyError('INVALID_TOKEN', `token ${index} must be an integer in [0, 2^32), got ${String(value)}`);
}

/**
 * Throws `INVALID_TOKEN` if any of `tokens[start, end)` is not an integer in [0, 2^32). Used for
 * the trailing partial block, which is never hashed but is still the caller's data.
 */
export function checkTokens(tokens: ArrayLike<number>, start: number, end: number): void {
  for (let i = start; i < end; i++) {
    const t = tokens[i] as number;
    if (t >>> 0 !== t) throw invalidToken(i, t);
  }
}

/**
 * Reused output buffer for one block payload. JS is single-threaded and no method here yields,
 * so one module-wide instance is safe and saves an allocation per block.
 */
export class BlockEncoder {
  bytes = new Uint8Array(4096);

  /** Grows `bytes` so a block of `tokenCount` ids plus `extraLength` extra bytes fits. */
  reserve(tokenCount: number, extraLength: number): void {
    const need = FIXED_OVERHEAD + 5 * tokenCount + extraLength;
    if (this.bytes.length < need) this.bytes = new Uint8Array(Math.max(need, this.bytes.length * 2));
  }

  /**
   * Writes `[parent, tokens[start, end), extra]` into `bytes` and returns its length. `extra` is the
   * pre-encoded extra (see `encodeExtra`), or null for CBOR null. `tokens === null` writes 0xf6.
   * Call `reserve` first. Throws `INVALID_TOKEN` (with the index into `tokens`) on a bad id.
   */
  write(parentHi: number, parentLo: number, tokens: ArrayLike<number> | null, start: number, end: number, extra: Uint8Array | null): number {
    const b = this.bytes;
    b[0] = ARRAY_OF_3;
    let p = writeUint64(b, 1, parentHi, parentLo);
    if (tokens === null) {
      b[p++] = CBOR_NULL;
    } else {
      p = writeHead(b, p, MAJOR_ARRAY, end - start);
      for (let i = start; i < end; i++) {
        const t = tokens[i] as number;
        if (t >>> 0 !== t) throw invalidToken(i, t);
        if (t < 24) {
          b[p++] = t;
        } else if (t < 0x100) {
          b[p++] = 0x18;
          b[p++] = t;
        } else if (t < 0x10000) {
          b[p++] = 0x19;
          b[p++] = t >>> 8;
          b[p++] = t;
        } else {
          b[p++] = 0x1a;
          b[p++] = t >>> 24;
          b[p++] = t >>> 16;
          b[p++] = t >>> 8;
          b[p++] = t;
        }
      }
    }
    if (extra === null) {
      b[p++] = CBOR_NULL;
    } else {
      b.set(extra, p);
      p += extra.length;
    }
    return p;
  }
}

export const sharedEncoder = new BlockEncoder();
