/**
 * FNV-1a, 64-bit (Go `hash/fnv.New64a`) without BigInt, on two 32-bit halves h = hi·2^32 + lo.
 *
 * Why: FNV is byte-serial and a 7k-token prompt is ~30 KB of CBOR per request. A BigInt
 * multiply-and-mask per byte measured ~35× slower than this loop (README "Performance").
 *
 * One step is h' = (h ^ byte)·P mod 2^64 with P = 2^40 + 0x1b3 (= 435):
 *   h·2^40 mod 2^64 = ((lo << 8) mod 2^32)·2^32        only lo reaches hi; hi·2^40 overflows away
 *   h·435           = hi·435·2^32 + lo·435
 *   lo'             = lo·435 mod 2^32                      Math.imul
 *   hi'             = hi·435 + ⌊lo·435 / 2^32⌋ + (lo << 8)  mod 2^32
 * lo·435 < 2^41, so the carry ⌊lo·435 / 2^32⌋ (< 435) is exact in a double, and `| 0` on a value
 * that small is V8's fast truncation. (Truncating a ≥ 2^32 double with `>>> 0` is a slow runtime
 * path: a version doing `(lo * 435) >>> 0` for lo' measured ~3× slower.) The loop-carried chain
 * per byte is xor + imul on lo and imul + add on hi; the carry is off that chain.
 */

/** FNV-64 offset basis 0xcbf29ce484222325 — also `initHash` for the default (empty) hash seed. */
export const FNV1A64_OFFSET_BASIS = 0xcbf29ce484222325n;
/** FNV-64 prime 0x100000001b3. */
export const FNV1A64_PRIME = 0x100000001b3n;

const OFFSET_HI = 0xcbf29ce4;
const OFFSET_LO = 0x84222325;
const PRIME_LOW = 0x1b3;
const INV_TWO_POW_32 = 1 / 4294967296; // a power of two: multiplying by it is exact

/** Little-endian hosts store the low uint32 of a uint64 first; used to build bigints without shifts. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** Index of the low / high half of element i in a Uint32Array that aliases a BigUint64Array: [2i+LO, 2i+HI]. */
export const LO = LITTLE_ENDIAN ? 0 : 1;
export const HI = LITTLE_ENDIAN ? 1 : 0;

/**
 * Hashes `bytes[0, length)` and stores the result as two uint32 words: `out[at + LO]` (low) and
 * `out[at + HI]` (high), so `new BigUint64Array(out.buffer)[at / 2]` is the hash as a bigint.
 */
export function fnv1a64Words(bytes: Uint8Array, length: number, out: Uint32Array, at: number): void {
  let lo = OFFSET_LO | 0;
  let hi = OFFSET_HI | 0;
  for (let i = 0; i < length; i++) {
    lo ^= bytes[i] as number;
    const carry = ((lo >>> 0) * PRIME_LOW * INV_TWO_POW_32) | 0;
    hi = (Math.imul(hi, PRIME_LOW) + carry + (lo << 8)) | 0;
    lo = Math.imul(lo, PRIME_LOW);
  }
  out[at + LO] = lo >>> 0;
  out[at + HI] = hi >>> 0;
}

const scratchWords = new Uint32Array(2);
const scratchBig = new BigUint64Array(scratchWords.buffer);

/** FNV-1a-64 of `bytes`, as an unsigned bigint in [0, 2^64). */
export function fnv1a64(bytes: Uint8Array): bigint {
  fnv1a64Words(bytes, bytes.length, scratchWords, 0);
  return scratchBig[0] as bigint;
}

/** Splits a uint64 bigint (caller validated the range) into `out[at + LO]`, `out[at + HI]`. */
export function splitUint64(value: bigint, out: Uint32Array, at: number): void {
  out[at + LO] = Number(value & 0xffffffffn);
  out[at + HI] = Number(value >> 32n);
}
