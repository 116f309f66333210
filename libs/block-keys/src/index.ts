// Public surface of @kvr/block-keys: THE request-key function of the repo (see README.md).
export { createBlockKeyer, hashBlock, encodeBlock, DEFAULT_BLOCK_SIZE, MAX_BLOCK_SIZE } from './block-keyer';
export type { BlockKeyer, BlockKeyerOptions, KeysForTokensOptions } from './block-keyer';
export type { MMHash, BlockExtra, HashExtra } from './cbor-block';
export { fnv1a64, FNV1A64_OFFSET_BASIS, FNV1A64_PRIME } from './fnv1a64';
export { toUint64Decimal, toUint64Hex, parseUint64, isUint64, UINT64_MAX } from './uint64';
export { BlockKeyError } from './errors';
export type { BlockKeyErrorCode } from './errors';
