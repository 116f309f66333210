/**
 * The GPU block pool of one simulated vLLM engine, with vLLM's prefix-cache semantics
 * (vllm/v1/core/block_pool.py and kv_cache_manager.py, v0.10–v0.2x):
 *
 * - `numBlocks` blocks of `blockSize` tokens. A block is either in use (refCount > 0) or in the
 *   free queue. Free blocks keep their hash, so they stay "cached" until reallocated.
 * - The free queue is an LRU list: allocation takes from its head; a finished request's blocks are
 *   appended to its tail in reverse order, so a sequence's last block is evicted before its first.
 * - A cache hit takes a block out of the free queue (refCount 0 → 1) or shares it (refCount + 1).
 * - Reallocating a block that still has a hash evicts it: one `BlockRemoved` per block.
 * - Caching full blocks emits one `BlockStored` per call, covering consecutive blocks of one
 *   request (hashes, parent hash, their token ids).
 * - Like vLLM, two requests that compute the same prefix at the same time each cache their own
 *   copy: the hash is stored twice and each copy's eviction emits its own `BlockRemoved`. An index
 *   that treats (hash, pod) as a set loses the entry at the first removal while the pod still holds
 *   the other copy; the indexer has to count copies (see libs/sim-engine/README.md).
 */
import { MEDIUM_GPU, type BlockStoredEvent, type KvEvent } from '@kvr/kv-events';
import type { EngineExtraKey, EngineHash } from './engine-hash';

export type HashFormat = 'int' | 'bytes';

/** One KV block. Mutable: owned by the pool, read by the scheduler and the debug dump. */
export interface KvBlock {
  readonly id: number;
  refCount: number;
  /** Set while the block is cached (full and hashed); null for a fresh or partial block. */
  hash: EngineHash | null;
  /** Debug facts of a cached block: its parent hash, its tokens, the LoRA it was computed under. */
  parentHash: EngineHash | null;
  tokenIds: readonly number[] | null;
  loraName: string | null;
  /** Caller-computed label (e.g. the router's request key) kept for the debug dump. */
  requestKey: bigint | null;
  prev: KvBlock | null;
  next: KvBlock | null;
  inFreeQueue: boolean;
}

export interface CacheBlocksInput {
  /** The blocks being cached, in sequence order; each must be in use and not yet hashed. */
  readonly blocks: readonly KvBlock[];
  readonly hashes: readonly EngineHash[];
  /** Hash of the block before `blocks[0]`; null when `blocks[0]` is the sequence's first block. */
  readonly parentHash: EngineHash | null;
  /** All tokens of the cached blocks (blocks.length × blockSize). */
  readonly tokenIds: readonly number[];
  readonly loraId: number | null;
  readonly loraName: string | null;
  /** Per-block extra keys (null entry: none), as vLLM's event `extra_keys` carries them. */
  readonly extraKeys: readonly (readonly EngineExtraKey[] | null)[];
  readonly requestKeys?: readonly bigint[];
}

/** A resident (cached) block, as the debug endpoint reports it. */
export interface ResidentBlock {
  readonly hash: bigint;
  readonly parentHash: bigint | null;
  readonly tokenIds: readonly number[];
  readonly loraName: string | null;
  readonly requestKey: bigint | null;
  readonly refCount: number;
}

export interface BlockPoolOptions {
  readonly numBlocks: number;
  readonly blockSize: number;
  /** Whether events carry hashes as uint64 ints (vLLM default) or the raw digests. */
  readonly hashFormat: HashFormat;
}

/** Doubly linked free queue; O(1) remove from the middle (a cache hit on an idle block). */
class FreeQueue {
  head: KvBlock | null = null;
  tail: KvBlock | null = null;
  size = 0;

  append(block: KvBlock): void {
    block.prev = this.tail;
    block.next = null;
    if (this.tail) this.tail.next = block;
    else this.head = block;
    this.tail = block;
    block.inFreeQueue = true;
    this.size++;
  }

  remove(block: KvBlock): void {
    if (block.prev) block.prev.next = block.next;
    else this.head = block.next;
    if (block.next) block.next.prev = block.prev;
    else this.tail = block.prev;
    block.prev = block.next = null;
    block.inFreeQueue = false;
    this.size--;
  }

  popLeft(): KvBlock {
    const block = this.head;
    if (!block) throw new Error('free queue is empty');
    this.remove(block);
    return block;
  }
}

/** Drops what made a block cached (it stays allocated or free as it is). */
function forget(block: KvBlock): void {
  block.hash = null;
  block.parentHash = null;
  block.tokenIds = null;
  block.loraName = null;
  block.requestKey = null;
}

export class BlockPool {
  readonly numBlocks: number;
  readonly blockSize: number;
  readonly hashFormat: HashFormat;
  private readonly blocks: KvBlock[];
  private readonly freeQueue = new FreeQueue();
  /** Engine hash value → cached blocks holding it (normally one; see the file comment). */
  private readonly cached = new Map<bigint, Set<KvBlock>>();
  private events: KvEvent[] = [];

  constructor(options: BlockPoolOptions) {
    if (!Number.isInteger(options.numBlocks) || options.numBlocks < 1) throw new RangeError(`numBlocks must be a positive integer, got ${options.numBlocks}`);
    if (!Number.isInteger(options.blockSize) || options.blockSize < 1) throw new RangeError(`blockSize must be a positive integer, got ${options.blockSize}`);
    this.numBlocks = options.numBlocks;
    this.blockSize = options.blockSize;
    this.hashFormat = options.hashFormat;
    this.blocks = [];
    for (let id = 0; id < options.numBlocks; id++) {
      const block: KvBlock = { id, refCount: 0, hash: null, parentHash: null, tokenIds: null, loraName: null, requestKey: null, prev: null, next: null, inFreeQueue: false };
      this.blocks.push(block);
      this.freeQueue.append(block);
    }
  }

  get freeBlocks(): number {
    return this.freeQueue.size;
  }

  /** vLLM's `kv_cache_usage_perc`: share of blocks in use (idle cached blocks count as free). */
  get usage(): number {
    return 1 - this.freeQueue.size / this.numBlocks;
  }

  /** Distinct cached hashes (resident prefix-cache entries). */
  get cachedHashes(): number {
    return this.cached.size;
  }

  /** The longest prefix of `hashes` that is cached, as blocks (not yet referenced). */
  longestCachedPrefix(hashes: readonly EngineHash[]): KvBlock[] {
    const hit: KvBlock[] = [];
    for (const hash of hashes) {
      const copies = this.cached.get(hash.value);
      if (!copies) break;
      const first = copies.values().next().value as KvBlock;
      hit.push(first);
    }
    return hit;
  }

  /** Takes a reference on each block; idle blocks leave the free queue (they are no longer evictable). */
  touch(blocks: readonly KvBlock[]): void {
    for (const block of blocks) {
      if (block.refCount === 0 && block.inFreeQueue) this.freeQueue.remove(block);
      block.refCount++;
    }
  }

  /**
   * `count` fresh blocks from the head of the free queue, evicting any that are still cached;
   * null (and nothing changed) when fewer than `count` are free.
   */
  allocate(count: number): KvBlock[] | null {
    if (count > this.freeQueue.size) return null;
    const out: KvBlock[] = [];
    for (let i = 0; i < count; i++) {
      const block = this.freeQueue.popLeft();
      if (block.hash) this.evict(block);
      block.refCount = 1;
      out.push(block);
    }
    return out;
  }

  private evict(block: KvBlock): void {
    const hash = block.hash as EngineHash;
    const copies = this.cached.get(hash.value);
    if (copies) {
      copies.delete(block);
      if (copies.size === 0) this.cached.delete(hash.value);
    }
    this.events.push({
      type: 'BlockRemoved',
      blockHashes: [hash.value],
      ...(this.hashFormat === 'bytes' ? { blockHashBytes: [hash.digest] } : {}),
      medium: MEDIUM_GPU,
      groupIdx: 0,
    });
    forget(block);
  }

  /** Marks full blocks as cached and records one BlockStored for them. */
  cacheBlocks(input: CacheBlocksInput): void {
    const n = input.blocks.length;
    if (n === 0) return;
    if (input.hashes.length !== n || input.extraKeys.length !== n || input.tokenIds.length !== n * this.blockSize) {
      throw new RangeError(`cacheBlocks: ${n} blocks need ${n} hashes, ${n} extra keys and ${n * this.blockSize} tokens`);
    }
    let parent = input.parentHash;
    for (let i = 0; i < n; i++) {
      const block = input.blocks[i] as KvBlock;
      const hash = input.hashes[i] as EngineHash;
      if (block.hash) throw new Error(`block ${block.id} is already cached`);
      block.hash = hash;
      block.parentHash = parent;
      block.tokenIds = input.tokenIds.slice(i * this.blockSize, (i + 1) * this.blockSize);
      block.loraName = input.loraName;
      block.requestKey = input.requestKeys?.[i] ?? null;
      let copies = this.cached.get(hash.value);
      if (!copies) this.cached.set(hash.value, (copies = new Set()));
      copies.add(block);
      parent = hash;
    }
    const bytes = this.hashFormat === 'bytes';
    const event: BlockStoredEvent = {
      type: 'BlockStored',
      blockHashes: input.hashes.map((h) => h.value),
      ...(bytes ? { blockHashBytes: input.hashes.map((h) => h.digest) } : {}),
      parentBlockHash: input.parentHash ? input.parentHash.value : null,
      ...(bytes && input.parentHash ? { parentBlockHashBytes: input.parentHash.digest } : {}),
      tokenIds: input.tokenIds,
      blockSize: this.blockSize,
      loraId: input.loraId,
      medium: MEDIUM_GPU,
      loraName: input.loraName,
      extraKeys: input.extraKeys.map((keys) => (keys === null ? null : keys.map((k) => (typeof k === 'object' ? [...k] : k)))),
      groupIdx: 0,
      kvCacheSpecKind: 'full_attention',
      kvCacheSpecSlidingWindow: null,
    };
    this.events.push(event);
  }

  /** Drops one reference per block; blocks that become idle join the free queue tail in reverse order (vLLM). */
  free(blocks: readonly KvBlock[]): void {
    for (let i = blocks.length - 1; i >= 0; i--) {
      const block = blocks[i] as KvBlock;
      if (block.refCount <= 0) throw new Error(`block ${block.id} freed more often than referenced`);
      block.refCount--;
      if (block.refCount === 0) this.freeQueue.append(block);
    }
  }

  /**
   * vLLM `reset_prefix_cache`: only when no block is in use; drops every hash and records
   * `AllBlocksCleared`. Returns false (and changes nothing) while requests hold blocks.
   */
  reset(): boolean {
    if (this.freeQueue.size !== this.numBlocks) return false;
    for (const block of this.blocks) forget(block);
    this.cached.clear();
    this.events.push({ type: 'AllBlocksCleared' });
    return true;
  }

  /** Forgets everything without events: the state of a freshly started engine. */
  wipe(): void {
    for (const block of this.blocks) {
      if (block.refCount !== 0) throw new Error('wipe() with blocks in use');
      forget(block);
    }
    this.cached.clear();
    this.events = [];
  }

  /** Events recorded since the last call, in order (one vLLM `take_events()`). */
  takeEvents(): KvEvent[] {
    const out = this.events;
    this.events = [];
    return out;
  }

  /** Every cached block (each copy), for the debug endpoint. */
  residentBlocks(): ResidentBlock[] {
    const out: ResidentBlock[] = [];
    for (const copies of this.cached.values()) {
      for (const block of copies) {
        out.push({
          hash: (block.hash as EngineHash).value,
          parentHash: block.parentHash ? block.parentHash.value : null,
          tokenIds: block.tokenIds ?? [],
          loraName: block.loraName,
          requestKey: block.requestKey,
          refCount: block.refCount,
        });
      }
    }
    return out;
  }
}
