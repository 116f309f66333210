/**
 * Request keys ("block keys") exactly as llm-d computes them —
 * llm-d/llm-d-kv-cache pkg/kvcache/kvblock/token_processor.go @ 7be76e1 (`TokensToKVBlockKeys`,
 * default "cbor-fnv" path, identical in llm-d/llm-d-router @ ebab6879) plus the router's
 * `foldCacheSalt` (preciseprefixcache/blockkeys.go @ ebab6879):
 *
 *   H(p, toks, x) = FNV-1a-64(canonical CBOR [p, toks, x])
 *   initHash      = FNV-1a-64(utf8(hashSeed))
 *   rootKey       = H(initHash, null, modelName)
 *   keys[0]       = H(parent ≠ 0 ? parent : rootKey, chunk_0, extra_0)
 *   keys[i]       = H(keys[i-1], chunk_i, extra_i)
 *
 * chunks are consecutive blockSize-token slices; the trailing partial chunk is dropped.
 */
import { type BlockEncoder, checkTokens, encodeExtra, sharedEncoder, type BlockExtra, type HashExtra } from './cbor-block';
import { BlockKeyError } from './errors';
import { fnv1a64, fnv1a64Words, HI, LO, splitUint64 } from './fnv1a64';
import { assertUint64 } from './uint64';

/** Our product's canonical block size (tokens per request key). llm-d's library default is 16. */
export const DEFAULT_BLOCK_SIZE = 64;
/** Upper bound on blockSize: far above any vLLM block size, low enough that the scratch buffer stays small. */
export const MAX_BLOCK_SIZE = 1 << 20;

export interface BlockKeyerOptions {
  /** Model (or LoRA adapter) name mixed into the root key; must equal on the event and request side. */
  modelName: string;
  /** Tokens per request key. @default 64 */
  blockSize?: number;
  /** llm-d `hashSeed`; only changes `initHash`. @default '' */
  hashSeed?: string;
}

export interface KeysForTokensOptions {
  /**
   * Request key of the block just before `tokens` (e.g. the resolved parent of a BlockStored event).
   * Absent or 0n starts from `rootKey`: llm-d uses 0 as "no parent" (`EmptyBlockHash`).
   */
  parent?: bigint;
  /**
   * Per-block extras, one entry per full block (length must equal `blockCount(tokens.length)` unless
   * that is 0). null/undefined/[] = plain text (CBOR null, like a nil Go slice).
   */
  extras?: readonly (BlockExtra | null | undefined)[];
  /**
   * vLLM `cache_salt`: appended as `{Hash: salt}` after block 0's MM entries. '' = no salt.
   * Only for chains that start at the root — combining it with a non-zero `parent` throws.
   */
  cacheSalt?: string;
}

/** Request-key function bound to one model name, block size and hash seed. */
export interface BlockKeyer {
  readonly modelName: string;
  readonly blockSize: number;
  readonly hashSeed: string;
  /** FNV-1a-64(utf8(hashSeed)). */
  readonly initHash: bigint;
  /** H(initHash, null, modelName): the parent of a prompt's first block. */
  readonly rootKey: bigint;
  /** One request key per full block of `tokens`, in order; [] when there is no full block. */
  keysForTokens(tokens: ArrayLike<number>, options?: KeysForTokensOptions): bigint[];
  /** Number of full blocks in `tokenCount` tokens (= number of keys `keysForTokens` returns). */
  blockCount(tokenCount: number): number;
  /** Same block size and seed, another model (e.g. the LoRA adapter named by an event). */
  forModel(modelName: string): BlockKeyer;
}

/** Cold path: the uint64 bigint H(parent, tokens, extra) through the shared encoder. */
function hashWith(encoder: BlockEncoder, parent: bigint, tokens: ArrayLike<number> | null, extra: HashExtra): bigint {
  const bytes = encodeBlockWith(encoder, parent, tokens, extra);
  return fnv1a64(bytes);
}

function encodeBlockWith(encoder: BlockEncoder, parent: bigint, tokens: ArrayLike<number> | null, extra: HashExtra): Uint8Array {
  assertUint64(parent, 'parent');
  const extraBytes = encodeExtra(extra);
  const count = tokens === null ? 0 : checkedLength(tokens);
  const words = new Uint32Array(2);
  splitUint64(parent, words, 0);
  encoder.reserve(count, extraBytes.length);
  const length = encoder.write(words[HI] as number, words[LO] as number, tokens, 0, count, extraBytes);
  return encoder.bytes.slice(0, length);
}

function checkedLength(tokens: ArrayLike<number>): number {
  const n: unknown = tokens?.length;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw new BlockKeyError('INVALID_TOKEN_COUNT', 'tokens must be an array-like with a non-negative integer length');
  }
  return n;
}

/**
 * Canonical CBOR bytes of `[parent, tokens, extra]` (a fresh copy). `tokens` null encodes as CBOR
 * null; `extra` is written exactly as given (an empty MMHash list stays an empty array).
 */
export function encodeBlock(parent: bigint, tokens: ArrayLike<number> | null, extra: HashExtra): Uint8Array {
  return encodeBlockWith(sharedEncoder, parent, tokens, extra);
}

/** H(parent, tokens, extra) = FNV-1a-64(encodeBlock(parent, tokens, extra)). The spec-level primitive. */
export function hashBlock(parent: bigint, tokens: ArrayLike<number> | null, extra: HashExtra): bigint {
  return hashWith(sharedEncoder, parent, tokens, extra);
}

const utf8 = new TextEncoder();

function validateBlockSize(blockSize: unknown): number {
  if (typeof blockSize !== 'number' || !Number.isInteger(blockSize) || blockSize < 1 || blockSize > MAX_BLOCK_SIZE) {
    throw new BlockKeyError('INVALID_BLOCK_SIZE', `blockSize must be an integer in [1, ${MAX_BLOCK_SIZE}], got ${String(blockSize)}`);
  }
  return blockSize;
}

class RequestKeyer implements BlockKeyer {
  readonly initHash: bigint;
  readonly rootKey: bigint;
  private readonly rootHi: number;
  private readonly rootLo: number;

  constructor(
    readonly modelName: string,
    readonly blockSize: number,
    readonly hashSeed: string,
  ) {
    this.initHash = fnv1a64(utf8.encode(hashSeed));
    this.rootKey = hashWith(sharedEncoder, this.initHash, null, modelName);
    this.rootHi = Number(this.rootKey >> 32n);
    this.rootLo = Number(this.rootKey & 0xffffffffn);
  }

  blockCount(tokenCount: number): number {
    if (!Number.isSafeInteger(tokenCount) || tokenCount < 0) {
      throw new BlockKeyError('INVALID_TOKEN_COUNT', `tokenCount must be a non-negative integer, got ${String(tokenCount)}`);
    }
    return Math.floor(tokenCount / this.blockSize);
  }

  forModel(modelName: string): BlockKeyer {
    return createBlockKeyer({ modelName, blockSize: this.blockSize, hashSeed: this.hashSeed });
  }

  keysForTokens(tokens: ArrayLike<number>, options?: KeysForTokensOptions): bigint[] {
    const length = checkedLength(tokens);
    const size = this.blockSize;
    const blocks = Math.floor(length / size);
    const parent = options?.parent;
    const salt = options?.cacheSalt;
    const extras = options?.extras;

    let parentHi = this.rootHi;
    let parentLo = this.rootLo;
    if (parent !== undefined) {
      assertUint64(parent, 'parent');
      if (parent !== 0n) {
        parentHi = Number(parent >> 32n);
        parentLo = Number(parent & 0xffffffffn);
      }
    }
    if (salt !== undefined && typeof salt !== 'string') {
      throw new BlockKeyError('INVALID_EXTRA', 'cacheSalt must be a string');
    }
    if (salt && parent !== undefined && parent !== 0n) {
      // The salt belongs to the prompt's first block; a chain resumed from a parent has already passed it.
      throw new BlockKeyError('CACHE_SALT_WITH_PARENT', 'cacheSalt only applies to a chain that starts at the root key (no parent)');
    }
    if (extras !== undefined && extras !== null && !Array.isArray(extras)) {
      throw new BlockKeyError('INVALID_EXTRA', 'extras must be an array with one entry per full block');
    }
    checkTokens(tokens, blocks * size, length);
    // Upstream returns before checking extras when there is no full block; so do we.
    if (blocks === 0) return [];
    if (extras && extras.length !== blocks) {
      throw new BlockKeyError(
        'EXTRAS_LENGTH_MISMATCH',
        `extras has ${extras.length} entries but ${length} tokens make ${blocks} blocks of ${size}`,
      );
    }

    const encoded = extras || salt ? encodeExtras(extras, salt, blocks) : null;
    let extraLength = 0;
    if (encoded) for (const e of encoded) if (e && e.length > extraLength) extraLength = e.length;

    const encoder = sharedEncoder;
    encoder.reserve(size, extraLength);
    const words = new Uint32Array(2 * blocks);
    for (let b = 0, start = 0; b < blocks; b++, start += size) {
      const n = encoder.write(parentHi, parentLo, tokens, start, start + size, encoded ? (encoded[b] ?? null) : null);
      fnv1a64Words(encoder.bytes, n, words, 2 * b);
      parentLo = words[2 * b + LO] as number;
      parentHi = words[2 * b + HI] as number;
    }
    // Aliasing the words as uint64s turns each key into a bigint without shift/or allocations.
    return Array.from(new BigUint64Array(words.buffer));
  }
}

/** Per-block encoded extras (null = CBOR null), with the cache salt folded into block 0. */
function encodeExtras(extras: KeysForTokensOptions['extras'], salt: string | undefined, blocks: number): (Uint8Array | null)[] {
  const out: (Uint8Array | null)[] = new Array<Uint8Array | null>(blocks).fill(null);
  for (let b = 0; b < blocks; b++) {
    let entries: BlockExtra | null | undefined = extras?.[b];
    if (entries !== null && entries !== undefined && !Array.isArray(entries)) {
      throw new BlockKeyError('INVALID_EXTRA', `extras[${b}] must be null or an array of {Hash: string}`);
    }
    if (b === 0 && salt) entries = [...(entries ?? []), { Hash: salt }];
    // A nil/empty Go []MMHash marshals to null (fxamacker NilContainerAsNull); upstream never sends a non-nil empty one.
    out[b] = entries && entries.length > 0 ? encodeExtra(entries) : null;
  }
  return out;
}

/**
 * Builds the request-key function for one model. Throws `INVALID_BLOCK_SIZE` (not an integer in
 * [1, MAX_BLOCK_SIZE]; a config layer may map llm-d's "0 = default" before calling),
 * `INVALID_MODEL_NAME` (not a non-empty string) or `INVALID_HASH_SEED` (not a string).
 */
export function createBlockKeyer(options: BlockKeyerOptions): BlockKeyer {
  const { modelName, blockSize = DEFAULT_BLOCK_SIZE, hashSeed = '' } = options;
  if (typeof modelName !== 'string' || modelName.length === 0) {
    // Upstream would hash "" happily; here an empty model is always a wiring bug that yields zero hits.
    throw new BlockKeyError('INVALID_MODEL_NAME', 'modelName must be a non-empty string');
  }
  if (typeof hashSeed !== 'string') throw new BlockKeyError('INVALID_HASH_SEED', 'hashSeed must be a string');
  return new RequestKeyer(modelName, validateBlockSize(blockSize), hashSeed);
}

