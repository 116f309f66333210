/**
 * Block-hash conversion rules (vLLM `ExternalBlockHash = bytes | int`,
 * `vllm/v1/core/kv_cache_utils.py@001cabc1`):
 *
 * - int (msgpack uint, any width): the value itself, a uint64.
 * - negative int (vLLM v0.9 with `prefix_caching_hash_algo="builtin"`: Python `hash()` is signed):
 *   reinterpreted as two's complement, i.e. `value mod 2^64` (llm-d casts int64 → uint64 the same way).
 * - bytes (vLLM with `VLLM_KV_EVENTS_USE_INT_BLOCK_HASHES=0`: the raw 32-byte sha256 or 16-byte
 *   xxh3-128 digest): the LAST 8 bytes read as an unsigned big-endian integer. This is what vLLM
 *   itself does in int mode (`int.from_bytes(digest, "big") & (2**64 - 1)`), so both modes give the
 *   same uint64 for the same block. Shorter byte strings are left-padded with zeros (llm-d's
 *   `getHashAsUint64`; vLLM never sends them).
 */

export const UINT64_MAX = (1n << 64n) - 1n;
const INT64_MIN = -(1n << 63n);

/** The uint64 hash vLLM would publish in int mode for a digest (last 8 bytes, big-endian). */
export function blockHashFromBytes(bytes: Uint8Array): bigint {
  const length = bytes.length;
  if (length >= 8) {
    // Two 32-bit halves: faster than a DataView for the tiny, unaligned views msgpack yields.
    const hi = ((bytes[length - 8]! << 24) | (bytes[length - 7]! << 16) | (bytes[length - 6]! << 8) | bytes[length - 5]!) >>> 0;
    const lo = ((bytes[length - 4]! << 24) | (bytes[length - 3]! << 16) | (bytes[length - 2]! << 8) | bytes[length - 1]!) >>> 0;
    return (BigInt(hi) << 32n) | BigInt(lo);
  }
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

/**
 * The uint64 for an int-form hash: non-negative values as they are, negative ones as two's
 * complement. Throws RangeError for non-integers and values outside int64 ∪ uint64, which no
 * msgpack integer can hold (the decoder checks before calling).
 */
export function blockHashFromInt(value: bigint | number): bigint {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new RangeError(`block hash ${value} is not a safe integer; pass a bigint`);
  }
  const big = BigInt(value);
  if (big < INT64_MIN || big > UINT64_MAX) throw new RangeError(`block hash ${big} is outside the int64/uint64 range`);
  return big < 0n ? BigInt.asUintN(64, big) : big;
}

/** The value Python's signed `hash()` had for a uint64 (inverse of the negative-int rule), for emulating vLLM v0.9. */
export function signedBlockHash(value: bigint): bigint {
  return BigInt.asIntN(64, value);
}
