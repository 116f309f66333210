/**
 * Engine block hashes as a vLLM pod computes them (vllm/v1/core/kv_cache_utils.py
 * `hash_block_tokens`, checked against vLLM v0.10–v0.2x sources; see upstream-spec §2):
 *
 *   NONE_HASH   = sha256(cbor(PYTHONHASHSEED as text))      (random 32 bytes when no seed is set)
 *   block hash  = sha256(cbor([parent or NONE_HASH, [token ids], extra_keys or null]))
 *
 * `cbor` is canonical CBOR (cbor2.dumps(x, canonical=True)); tuples are CBOR arrays, the parent is
 * a byte string (major 2), token ids unsigned ints (major 0), extra keys text strings (LoRA name,
 * cache salt) or [identifier, offset] pairs (multimodal items). Events carry the digest's last 8
 * bytes as a big-endian uint64 (vLLM's default `VLLM_KV_EVENTS_USE_INT_BLOCK_HASHES=1`) or the
 * raw 32 bytes.
 *
 * A second algorithm, `fnv64_cbor`, hashes like llm-d's request keys (FNV-1a-64 over canonical
 * CBOR with a uint64 parent). It exists so that tests can run pods whose engine keys happen to
 * equal request keys, and prove the router does not depend on that (peers that assume it break
 * when the engine's algorithm changes).
 */
import { createHash, randomBytes as cryptoRandomBytes } from 'node:crypto';
import { fnv1a64 } from '@kvr/block-keys';

export const ENGINE_HASH_ALGOS = ['sha256_cbor', 'fnv64_cbor'] as const;
export type EngineHashAlgo = (typeof ENGINE_HASH_ALGOS)[number];

/** One entry of a block's extra keys, as vLLM's `generate_block_hash_extra_keys` produces it. */
export type EngineExtraKey = string | number | readonly [string, number];

/** A computed engine block hash: the digest, and the uint64 events carry. */
export interface EngineHash {
  /** 32 bytes (sha256_cbor) or 8 bytes (fnv64_cbor, big-endian). */
  readonly digest: Uint8Array;
  /** The last 8 digest bytes as an unsigned big-endian integer: what vLLM puts in events. */
  readonly value: bigint;
}

export interface EngineHasher {
  readonly algo: EngineHashAlgo;
  /** Parent hash of a sequence's first block (vLLM NONE_HASH). */
  readonly noneHash: EngineHash;
  /** Hash of one full block given its parent (null: first block) and extra keys (null: none). */
  hashBlock(parent: EngineHash | null, tokens: ArrayLike<number>, extraKeys: readonly EngineExtraKey[] | null): EngineHash;
}

const MAJOR_UINT = 0x00;
const MAJOR_BYTES = 0x40;
const MAJOR_TEXT = 0x60;
const MAJOR_ARRAY = 0x80;
const CBOR_NULL = 0xf6;
const utf8 = new TextEncoder();

/** Growable byte buffer for canonical CBOR; one instance is reused (no method yields). */
class CborWriter {
  private bytes = new Uint8Array(1024);
  length = 0;

  reset(): this {
    this.length = 0;
    return this;
  }

  private reserve(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    const next = new Uint8Array(Math.max(this.bytes.length * 2, this.length + extra));
    next.set(this.bytes.subarray(0, this.length));
    this.bytes = next;
  }

  /** Major type head with the shortest argument encoding (0 ≤ value < 2^53). */
  head(major: number, value: number): this {
    this.reserve(9);
    const b = this.bytes;
    let p = this.length;
    if (value < 24) b[p++] = major | value;
    else if (value < 0x100) {
      b[p++] = major | 24;
      b[p++] = value;
    } else if (value < 0x10000) {
      b[p++] = major | 25;
      b[p++] = value >>> 8;
      b[p++] = value & 0xff;
    } else if (value < 0x100000000) {
      b[p++] = major | 26;
      b[p++] = value >>> 24;
      b[p++] = (value >>> 16) & 0xff;
      b[p++] = (value >>> 8) & 0xff;
      b[p++] = value & 0xff;
    } else {
      const hi = Math.floor(value / 0x100000000);
      const lo = value >>> 0;
      b[p++] = major | 27;
      b[p++] = hi >>> 24;
      b[p++] = (hi >>> 16) & 0xff;
      b[p++] = (hi >>> 8) & 0xff;
      b[p++] = hi & 0xff;
      b[p++] = lo >>> 24;
      b[p++] = (lo >>> 16) & 0xff;
      b[p++] = (lo >>> 8) & 0xff;
      b[p++] = lo & 0xff;
    }
    this.length = p;
    return this;
  }

  uint64(value: bigint): this {
    if (value < 0x20000000000000n) return this.head(MAJOR_UINT, Number(value));
    this.reserve(9);
    this.bytes[this.length] = MAJOR_UINT | 27;
    new DataView(this.bytes.buffer, this.bytes.byteOffset).setBigUint64(this.length + 1, value);
    this.length += 9;
    return this;
  }

  raw(bytes: Uint8Array): this {
    this.reserve(bytes.length);
    this.bytes.set(bytes, this.length);
    this.length += bytes.length;
    return this;
  }

  byteString(bytes: Uint8Array): this {
    return this.head(MAJOR_BYTES, bytes.length).raw(bytes);
  }

  text(value: string): this {
    const body = utf8.encode(value);
    return this.head(MAJOR_TEXT, body.length).raw(body);
  }

  null(): this {
    this.reserve(1);
    this.bytes[this.length++] = CBOR_NULL;
    return this;
  }

  tokens(tokens: ArrayLike<number>): this {
    this.head(MAJOR_ARRAY, tokens.length);
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i] as number;
      if (!Number.isInteger(t) || t < 0 || t > 0xffffffff) throw new RangeError(`token id ${String(t)} at ${i} is not a uint32`);
      this.head(MAJOR_UINT, t);
    }
    return this;
  }

  extraKeys(keys: readonly EngineExtraKey[] | null): this {
    if (keys === null) return this.null();
    this.head(MAJOR_ARRAY, keys.length);
    for (const key of keys) this.extraKey(key);
    return this;
  }

  private extraKey(key: EngineExtraKey): void {
    if (typeof key === 'string') this.text(key);
    else if (typeof key === 'number') {
      if (!Number.isSafeInteger(key) || key < 0) throw new RangeError(`extra key ${key} is not a non-negative integer`);
      this.head(MAJOR_UINT, key);
    } else {
      this.head(MAJOR_ARRAY, 2).text(key[0]).head(MAJOR_UINT, key[1]);
    }
  }

  view(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
}

const writer = new CborWriter();

function lastEightBytes(digest: Uint8Array): bigint {
  return new DataView(digest.buffer, digest.byteOffset, digest.byteLength).getBigUint64(digest.byteLength - 8);
}

function sha256(bytes: Uint8Array): EngineHash {
  const digest = new Uint8Array(createHash('sha256').update(bytes).digest());
  return { digest, value: lastEightBytes(digest) };
}

function fnvHash(bytes: Uint8Array): EngineHash {
  const value = fnv1a64(bytes);
  const digest = new Uint8Array(8);
  new DataView(digest.buffer).setBigUint64(0, value);
  return { digest, value };
}

/**
 * `seed` plays PYTHONHASHSEED: the same seed on two pods gives the same hashes for the same
 * tokens; null gives a random NONE_HASH (vLLM's behaviour when PYTHONHASHSEED is unset), so
 * two pods then disagree on every hash — as real pods do.
 */
export function createEngineHasher(
  algo: EngineHashAlgo,
  seed: string | null,
  randomBytes: (n: number) => Uint8Array = (n) => new Uint8Array(cryptoRandomBytes(n)),
): EngineHasher {
  if (algo === 'sha256_cbor') {
    const noneHash = seed === null ? fromDigest(randomBytes(32)) : sha256(writer.reset().text(seed).view());
    return {
      algo,
      noneHash,
      hashBlock(parent, tokens, extraKeys) {
        writer.reset().head(MAJOR_ARRAY, 3).byteString((parent ?? noneHash).digest).tokens(tokens).extraKeys(extraKeys);
        return sha256(writer.view());
      },
    };
  }
  const noneHash = seed === null ? fromDigest(randomBytes(8)) : fnvHash(writer.reset().text(seed).view());
  return {
    algo,
    noneHash,
    hashBlock(parent, tokens, extraKeys) {
      writer.reset().head(MAJOR_ARRAY, 3).uint64((parent ?? noneHash).value).tokens(tokens).extraKeys(extraKeys);
      return fnvHash(writer.view());
    },
  };
}

function fromDigest(digest: Uint8Array): EngineHash {
  return { digest, value: lastEightBytes(digest) };
}
