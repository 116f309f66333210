/**
 * The decoded (and encodable) shape of vLLM KV-cache events.
 *
 * One TypeScript shape covers every wire era: fields an older vLLM did not send are `null`, exactly
 * what vLLM itself means by `None`. Field names are camelCase versions of vLLM's
 * (`vllm/distributed/kv_events.py@0181ea31`); {@link BLOCK_STORED_WIRE_FIELDS} and
 * {@link BLOCK_REMOVED_WIRE_FIELDS} give the wire names and positions.
 *
 * Block hashes: `blockHashes` always holds uint64 values as bigint, whatever the wire form (int or
 * bytes, see block-hash.ts). When a hash arrived as a byte string (vLLM with
 * `VLLM_KV_EVENTS_USE_INT_BLOCK_HASHES=0`), the bytes are kept in the parallel array
 * `blockHashBytes` (`null` where that hash arrived as an int); the array is absent when every hash
 * was an int. The encoder reads the same fields, so decode → encode reproduces the wire form.
 */

/** Event tags as vLLM writes them (the msgspec class names). */
export const KV_EVENT_TYPES = ['BlockStored', 'BlockRemoved', 'AllBlocksCleared'] as const;
export type KvEventType = (typeof KV_EVENT_TYPES)[number];

/** `medium` values seen upstream: `GPU` from the block pool, `CPU` from the offloading connector. */
export const MEDIUM_GPU = 'GPU';
export const MEDIUM_CPU = 'CPU';

/** New full blocks entered the prefix cache (vLLM `BlockStored`). */
export interface BlockStoredEvent {
  readonly type: 'BlockStored';
  /** uint64 hashes of the stored blocks, parent-first. */
  readonly blockHashes: readonly bigint[];
  /** Same length as `blockHashes`; the wire bytes of each hash that arrived as bytes, else null. Absent when all were ints. */
  readonly blockHashBytes?: readonly (Uint8Array | null)[];
  /** uint64 hash of the block before the first stored one; null when the chain starts at the prompt's beginning. */
  readonly parentBlockHash: bigint | null;
  /** The wire bytes of the parent hash when it arrived as bytes. */
  readonly parentBlockHashBytes?: Uint8Array;
  /** Tokens of all stored blocks, concatenated (`blockHashes.length * blockSize` in the common single-group case). */
  readonly tokenIds: readonly number[];
  readonly blockSize: number;
  /** Deprecated upstream (`lora_request.adapter_id`); null without LoRA. */
  readonly loraId: number | null;
  /** `GPU`, `CPU`, ...; null for vLLM v0.9 (field not yet sent). */
  readonly medium: string | null;
  readonly loraName: string | null;
  /**
   * Per-block extra hash keys (multimodal hashes, cache salt, LoRA name), opaque here: decoded as
   * plain MessagePack values (arrays, strings, numbers, bigint for 64-bit ints, Uint8Array, plain
   * objects for maps). Consumers that re-hash blocks must interpret them.
   */
  readonly extraKeys: readonly unknown[] | null;
  /** KV-cache group (hybrid memory allocator); null before vLLM sent it. */
  readonly groupIdx: number | null;
  /** e.g. `full_attention`, `sliding_window`, `mamba`. */
  readonly kvCacheSpecKind: string | null;
  readonly kvCacheSpecSlidingWindow: number | null;
}

/** Cached blocks were evicted (vLLM `BlockRemoved`); upstream sends one hash per event. */
export interface BlockRemovedEvent {
  readonly type: 'BlockRemoved';
  readonly blockHashes: readonly bigint[];
  readonly blockHashBytes?: readonly (Uint8Array | null)[];
  readonly medium: string | null;
  readonly groupIdx: number | null;
}

/** The pod's whole prefix cache was reset (vLLM `AllBlocksCleared`, from `reset_prefix_cache()`). */
export interface AllBlocksClearedEvent {
  readonly type: 'AllBlocksCleared';
}

export type KvEvent = BlockStoredEvent | BlockRemovedEvent | AllBlocksClearedEvent;

/** One published message's payload: the events of one vLLM scheduler step. */
export interface KvEventBatch {
  /** Wall-clock seconds (`time.time()` on the pod), as a float. */
  readonly ts: number;
  readonly events: readonly KvEvent[];
  /** Data-parallel rank of the publishing engine; null when absent (vLLM v0.9 batches) or nil. */
  readonly dataParallelRank: number | null;
}

/** An event whose tag this library does not know; skipped, but reported so collectors can count it. */
export interface UnknownKvEvent {
  /** The tag as sent (array element 0 or the map's `type`). */
  readonly type: string;
  /** Position of the event in the wire `events` list (known and unknown events counted alike). */
  readonly index: number;
}

/** A decoded payload: the known events in wire order, plus the unknown ones that were skipped. */
export interface DecodedKvEventBatch extends KvEventBatch {
  readonly unknownEvents: readonly UnknownKvEvent[];
}

/**
 * Wire names of BlockStored fields in positional order; in the array encoding field `i` is at
 * array index `i + 1` (element 0 is the tag). Checked against `vllm/distributed/kv_events.py@0181ea31`
 * and llm-d-router's `blockStoredFieldOrder` (`pkg/kvevents/engineadapter/vllm_adapter.go@ebab6879`).
 * vLLM v0.9 (`kv_events.py@b4e69e0a`) sent the first 5.
 */
export const BLOCK_STORED_WIRE_FIELDS = [
  'block_hashes',
  'parent_block_hash',
  'token_ids',
  'block_size',
  'lora_id',
  'medium',
  'lora_name',
  'extra_keys',
  'group_idx',
  'kv_cache_spec_kind',
  'kv_cache_spec_sliding_window',
] as const;

/** Wire names of BlockRemoved fields in positional order (same sources); vLLM v0.9 sent the first 1. */
export const BLOCK_REMOVED_WIRE_FIELDS = ['block_hashes', 'medium', 'group_idx'] as const;

/**
 * Minimum positional field counts (after the tag) the decoder accepts: BlockStored needs hashes,
 * parent, tokens and block size (array length 5, llm-d's guard); BlockRemoved needs its hashes.
 */
export const MIN_BLOCK_STORED_FIELDS = 4;
export const MIN_BLOCK_REMOVED_FIELDS = 1;

/**
 * Values of the BlockStored fields an older vLLM did not send (and that msgspec leaves at their
 * defaults): what the decoder starts from and what test builders fill in.
 */
export const BLOCK_STORED_OPTIONAL_DEFAULTS = {
  parentBlockHash: null,
  loraId: null,
  medium: null,
  loraName: null,
  extraKeys: null,
  groupIdx: null,
  kvCacheSpecKind: null,
  kvCacheSpecSlidingWindow: null,
} as const;
