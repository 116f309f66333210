import { BlockKeyError } from './errors';

/** 2^64 - 1, the largest request key / engine hash. */
export const UINT64_MAX = 0xffffffffffffffffn;

const DECIMAL = /^(0|[1-9][0-9]*)$/;

/** True when `value` is a bigint in [0, 2^64). */
export function isUint64(value: bigint): boolean {
  return value >= 0n && value <= UINT64_MAX;
}

/** Throws `INVALID_UINT64` unless `value` is a bigint in [0, 2^64). `what` names the value in the message. */
export function assertUint64(value: bigint, what: string): void {
  if (typeof value !== 'bigint' || !isUint64(value)) {
    throw new BlockKeyError('INVALID_UINT64', `${what} must be a bigint in [0, 2^64), got ${String(value)}`);
  }
}

/**
 * Canonical text form of a key: unsigned decimal, no sign, no leading zeros — the form llm-d writes
 * to Redis and logs (Go `strconv.FormatUint(k, 10)`), so two processes agree on the string too.
 */
export function toUint64Decimal(value: bigint): string {
  assertUint64(value, 'key');
  return value.toString(10);
}

/** Fixed-width lowercase hex (16 digits) for debugging output and docs; not a storage format. */
export function toUint64Hex(value: bigint): string {
  assertUint64(value, 'key');
  return value.toString(16).padStart(16, '0');
}

/**
 * Reads a key back from its decimal string (see `toUint64Decimal`), a bigint, or a safe-integer
 * number (msgpack decoders hand small uint64 values over as numbers). Anything else — negative,
 * fractional, unsafe numbers, non-canonical strings, values ≥ 2^64 — throws `INVALID_UINT64`;
 * an unsafe number has already lost precision, so accepting it would alias another key.
 */
export function parseUint64(value: string | bigint | number): bigint {
  if (typeof value === 'bigint') {
    assertUint64(value, 'value');
    return value;
  }
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new BlockKeyError('INVALID_UINT64', `number ${value} is not a safe unsigned integer; pass uint64 values as bigint or decimal string`);
    }
    return BigInt(value);
  }
  if (typeof value !== 'string' || value.length > 20 || !DECIMAL.test(value)) {
    throw new BlockKeyError('INVALID_UINT64', `"${String(value)}" is not a canonical unsigned decimal`);
  }
  const parsed = BigInt(value);
  assertUint64(parsed, `"${value}"`);
  return parsed;
}
