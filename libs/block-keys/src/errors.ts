/** Why a block-key call was refused. Stable strings: callers may switch on them and count them in metrics. */
export type BlockKeyErrorCode =
  | 'INVALID_BLOCK_SIZE'
  | 'INVALID_MODEL_NAME'
  | 'INVALID_HASH_SEED'
  | 'INVALID_TOKEN'
  | 'INVALID_TOKEN_COUNT'
  | 'INVALID_UINT64'
  | 'INVALID_EXTRA'
  | 'EXTRAS_LENGTH_MISMATCH'
  | 'CACHE_SALT_WITH_PARENT';

/**
 * The only error this library throws on bad input. Invalid input is a caller bug (or a malformed
 * event) and must never be hashed "somehow": a wrong key silently scores zero hits, so we refuse loudly.
 */
export class BlockKeyError extends Error {
  override readonly name = 'BlockKeyError';

  constructor(
    readonly code: BlockKeyErrorCode,
    message: string,
  ) {
    super(message);
  }
}
