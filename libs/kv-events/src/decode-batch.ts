import { blockHashFromBytes } from './block-hash';
import { captureDecode, DecodeError, type DecodeErrorReason, type DecodeResult } from './errors';
import {
  BLOCK_STORED_OPTIONAL_DEFAULTS,
  BLOCK_REMOVED_WIRE_FIELDS,
  BLOCK_STORED_WIRE_FIELDS,
  MIN_BLOCK_REMOVED_FIELDS,
  MIN_BLOCK_STORED_FIELDS,
  type BlockRemovedEvent,
  type BlockStoredEvent,
  type DecodedKvEventBatch,
  type KvEvent,
  type UnknownKvEvent,
} from './events';
import { MsgpackReader } from './msgpack-reader';

/**
 * Decodes one msgpack payload (frame 2 of a live message, or of a replay response) into a batch.
 *
 * Accepted layouts (see README "Wire format"):
 * - batch: array `[ts, events]` (vLLM v0.9), `[ts, events, data_parallel_rank]` (later; extra
 *   trailing elements ignored), or a map with keys `ts`, `events`, `data_parallel_rank` (other keys
 *   ignored) in case a vLLM build ever drops `array_like` from EventBatch;
 * - each event: a positional array `[tag, field0, field1, ...]` of any length from the minimum on
 *   (BlockStored 1+4, BlockRemoved 1+1; missing trailing fields are null, extra ones ignored), or a
 *   map tagged by `type` (vLLM PR #42892, v0.26+) with keys in any order, missing optional keys
 *   null and unknown keys ignored. Both kinds may be mixed in one batch.
 *
 * Unknown event tags are skipped and listed in `unknownEvents`. Everything else that does not fit
 * fails the WHOLE payload with a DecodeError: a half-applied batch would leave the block index
 * inconsistent in ways that are harder to detect than a dropped (and replayable) message.
 *
 * Never throws; see DecodeResult.
 */
export function decodeKvEventBatch(payload: Uint8Array): DecodeResult<DecodedKvEventBatch> {
  return captureDecode(() => {
    if (!(payload instanceof Uint8Array)) throw new DecodeError('frame_type', `payload must be a Uint8Array or Buffer, got ${describeJsValue(payload)}`);
    return new BatchDecoder(new MsgpackReader(payload)).decode();
  });
}

/**
 * Validates a payload exactly as {@link decodeKvEventBatch} does — it succeeds and fails on the
 * same inputs, with the same error — but keeps only what a relay needs: the timestamp and counts.
 * Token ids and block hashes are checked, not materialised, which makes it about twice as fast
 * and allocation-free for them (the collector validates every batch before it forwards the
 * original bytes).
 */
export function inspectKvEventBatch(payload: Uint8Array): DecodeResult<KvEventBatchSummary> {
  return captureDecode(() => {
    if (!(payload instanceof Uint8Array)) throw new DecodeError('frame_type', `payload must be a Uint8Array or Buffer, got ${describeJsValue(payload)}`);
    return new BatchDecoder(new MsgpackReader(payload), true).summarize();
  });
}

/** What {@link inspectKvEventBatch} reports about a valid payload. */
export interface KvEventBatchSummary {
  readonly ts: number;
  readonly dataParallelRank: number | null;
  readonly blockStoredEvents: number;
  readonly blockRemovedEvents: number;
  readonly allBlocksClearedEvents: number;
  readonly unknownEvents: number;
  /** Block hashes in BlockStored events. */
  readonly storedBlocks: number;
  /** Block hashes in BlockRemoved events. */
  readonly removedBlocks: number;
}

const NO_HASHES: bigint[] = [];
const NO_TOKENS: number[] = [];

/** Wire field name → positional index, for map-encoded events. */
const BLOCK_STORED_FIELD_INDEX: ReadonlyMap<string, number> = new Map(BLOCK_STORED_WIRE_FIELDS.map((name, index) => [name, index]));
const BLOCK_REMOVED_FIELD_INDEX: ReadonlyMap<string, number> = new Map(BLOCK_REMOVED_WIRE_FIELDS.map((name, index) => [name, index]));

const MAP_TAG_KEY = 'type';

/** Mutable accumulator for one BlockStored while its fields arrive (positionally or by key). */
interface BlockStoredDraft {
  blockHashes: bigint[] | undefined;
  blockHashBytes: (Uint8Array | null)[] | undefined;
  parentBlockHash: bigint | null;
  parentBlockHashBytes: Uint8Array | undefined;
  tokenIds: number[] | undefined;
  blockSize: number | undefined;
  loraId: number | null;
  medium: string | null;
  loraName: string | null;
  extraKeys: unknown[] | null;
  groupIdx: number | null;
  kvCacheSpecKind: string | null;
  kvCacheSpecSlidingWindow: number | null;
}

interface BlockRemovedDraft {
  blockHashes: bigint[] | undefined;
  blockHashBytes: (Uint8Array | null)[] | undefined;
  medium: string | null;
  groupIdx: number | null;
}

interface HashList {
  values: bigint[];
  bytes: (Uint8Array | null)[] | undefined;
  count: number;
}

class BatchDecoder {
  private readonly events: KvEvent[] = [];
  private readonly unknownEvents: UnknownKvEvent[] = [];
  /** Index of the event being decoded, for error paths; -1 outside the events list. */
  private eventIndex = -1;

  /** Inspect mode: validate everything, keep counts instead of token ids and hashes. */
  private storedBlocks = 0;
  private removedBlocks = 0;
  private storedCount = 0;
  private removedCount = 0;
  private clearedCount = 0;
  private pendingHashCount = 0;

  constructor(
    private readonly reader: MsgpackReader,
    private readonly countOnly = false,
  ) {}

  summarize(): KvEventBatchSummary {
    const batch = this.decode();
    return {
      ts: batch.ts,
      dataParallelRank: batch.dataParallelRank,
      blockStoredEvents: this.storedCount,
      blockRemovedEvents: this.removedCount,
      allBlocksClearedEvents: this.clearedCount,
      unknownEvents: batch.unknownEvents.length,
      storedBlocks: this.storedBlocks,
      removedBlocks: this.removedBlocks,
    };
  }

  /** Appends a decoded event, or only counts it in inspect mode. */
  private emit(event: KvEvent, hashes: number): void {
    if (!this.countOnly) {
      this.events.push(event);
      return;
    }
    if (event.type === 'BlockStored') {
      this.storedCount++;
      this.storedBlocks += hashes;
    } else if (event.type === 'BlockRemoved') {
      this.removedCount++;
      this.removedBlocks += hashes;
    } else this.clearedCount++;
  }

  decode(): DecodedKvEventBatch {
    const reader = this.reader;
    let ts: number | undefined;
    let sawEvents = false;
    let dataParallelRank: number | null = null;

    const arrayLength = reader.tryReadArrayHeader();
    if (arrayLength >= 0) {
      if (arrayLength < 2) {
        throw new DecodeError('batch_shape', `batch array has ${arrayLength} element(s); expected [ts, events] or [ts, events, data_parallel_rank]`);
      }
      ts = this.readTs();
      this.readEvents();
      sawEvents = true;
      if (arrayLength >= 3) dataParallelRank = this.readDataParallelRank();
      for (let i = 3; i < arrayLength; i++) reader.skipValue();
    } else {
      const mapSize = reader.tryReadMapHeader();
      if (mapSize < 0) throw new DecodeError('batch_shape', `batch must be an array or a map, found ${reader.describeNext()}`);
      for (let i = 0; i < mapSize; i++) {
        const key = reader.tryReadString();
        if (key === undefined) throw new DecodeError('batch_shape', `batch map key must be a string, found ${reader.describeNext()}`);
        if (key === 'ts') ts = this.readTs();
        else if (key === 'events') {
          if (sawEvents) throw new DecodeError('batch_shape', `batch map has the key 'events' twice`);
          this.readEvents();
          sawEvents = true;
        } else if (key === 'data_parallel_rank') dataParallelRank = this.readDataParallelRank();
        else reader.skipValue();
      }
      if (ts === undefined) throw new DecodeError('batch_shape', `batch map lacks the key 'ts'`);
      if (!sawEvents) throw new DecodeError('batch_shape', `batch map lacks the key 'events'`);
    }
    reader.expectEnd();
    return { ts, events: this.events, dataParallelRank, unknownEvents: this.unknownEvents };
  }

  private readTs(): number {
    const ts = this.reader.tryReadNumber();
    if (ts === undefined) throw new DecodeError('field_type', `expected a number, found ${this.reader.describeNext()}`, { path: 'ts' });
    return ts;
  }

  private readDataParallelRank(): number | null {
    if (this.reader.tryReadNil()) return null;
    const rank = this.reader.tryReadInteger();
    if (typeof rank !== 'number') {
      throw new DecodeError('field_type', `expected an integer or nil, found ${rank === undefined ? this.reader.describeNext() : String(rank)}`, { path: 'data_parallel_rank' });
    }
    return rank;
  }

  private readEvents(): void {
    const count = this.reader.tryReadArrayHeader();
    if (count < 0) throw new DecodeError('batch_shape', `expected an array of events, found ${this.reader.describeNext()}`, { path: 'events' });
    for (let i = 0; i < count; i++) {
      this.eventIndex = i;
      this.readEvent();
    }
    this.eventIndex = -1;
  }

  private readEvent(): void {
    const reader = this.reader;
    const arrayLength = reader.tryReadArrayHeader();
    if (arrayLength >= 0) {
      this.readPositionalEvent(arrayLength);
      return;
    }
    const mapSize = reader.tryReadMapHeader();
    if (mapSize >= 0) {
      this.readMapEvent(mapSize);
      return;
    }
    throw this.eventError('event_shape', `expected an event array or map, found ${reader.describeNext()}`);
  }

  /** `[tag, field0, field1, ...]`: vLLM before PR #42892 (msgspec `array_like=True, tag=True`). */
  private readPositionalEvent(length: number): void {
    const reader = this.reader;
    if (length === 0) throw this.eventError('event_shape', 'empty event array (no tag)');
    const tag = reader.tryReadString();
    if (tag === undefined) throw this.eventError('event_shape', `element 0 (the event tag) must be a string, found ${reader.describeNext()}`);
    const fieldCount = length - 1;
    switch (tag) {
      case 'BlockStored': {
        if (fieldCount < MIN_BLOCK_STORED_FIELDS) {
          throw this.eventError('event_shape', `BlockStored array has ${length} elements; at least ${MIN_BLOCK_STORED_FIELDS + 1} required`);
        }
        const draft = newBlockStoredDraft();
        const known = Math.min(fieldCount, BLOCK_STORED_WIRE_FIELDS.length);
        for (let field = 0; field < known; field++) this.readBlockStoredField(draft, field);
        for (let extra = known; extra < fieldCount; extra++) reader.skipValue();
        this.emit(this.finishBlockStored(draft), this.pendingHashCount);
        return;
      }
      case 'BlockRemoved': {
        if (fieldCount < MIN_BLOCK_REMOVED_FIELDS) {
          throw this.eventError('event_shape', `BlockRemoved array has ${length} element(s); at least ${MIN_BLOCK_REMOVED_FIELDS + 1} required`);
        }
        const draft = newBlockRemovedDraft();
        const known = Math.min(fieldCount, BLOCK_REMOVED_WIRE_FIELDS.length);
        for (let field = 0; field < known; field++) this.readBlockRemovedField(draft, field);
        for (let extra = known; extra < fieldCount; extra++) reader.skipValue();
        this.emit(this.finishBlockRemoved(draft), this.pendingHashCount);
        return;
      }
      case 'AllBlocksCleared':
        for (let extra = 0; extra < fieldCount; extra++) reader.skipValue();
        this.emit({ type: 'AllBlocksCleared' }, 0);
        return;
      default:
        for (let extra = 0; extra < fieldCount; extra++) reader.skipValue();
        this.unknownEvents.push({ type: tag, index: this.eventIndex });
    }
  }

  /**
   * `{type: tag, field: value, ...}`: vLLM PR #42892 / v0.26+ (msgspec `tag=True, omit_defaults=True`,
   * no `array_like`). msgspec writes `type` first; other producers may not, so when it is not first
   * the map is scanned once for it and then read again.
   */
  private readMapEvent(size: number): void {
    const reader = this.reader;
    const entriesStart = reader.position;
    let tag: string | undefined;
    // Entries left to read after the tag: msgspec's `type` comes first, so normally we just go on.
    let remaining = size - 1;
    if (size > 0 && this.readMapEventKey() === MAP_TAG_KEY) {
      tag = this.readMapEventTag();
    } else {
      reader.seek(entriesStart);
      for (let i = 0; i < size; i++) {
        if (this.readMapEventKey() === MAP_TAG_KEY) tag = this.readMapEventTag();
        else reader.skipValue();
      }
      reader.seek(entriesStart);
      remaining = size; // second pass over every entry; the `type` entry is skipped as an unknown key
    }
    if (tag === undefined) throw this.eventError('event_shape', `event map has no '${MAP_TAG_KEY}' key`);

    switch (tag) {
      case 'BlockStored': {
        const draft = newBlockStoredDraft();
        for (let i = 0; i < remaining; i++) {
          const field = BLOCK_STORED_FIELD_INDEX.get(this.readMapEventKey());
          if (field === undefined) reader.skipValue();
          else this.readBlockStoredField(draft, field);
        }
        this.emit(this.finishBlockStored(draft), this.pendingHashCount);
        return;
      }
      case 'BlockRemoved': {
        const draft = newBlockRemovedDraft();
        for (let i = 0; i < remaining; i++) {
          const field = BLOCK_REMOVED_FIELD_INDEX.get(this.readMapEventKey());
          if (field === undefined) reader.skipValue();
          else this.readBlockRemovedField(draft, field);
        }
        this.emit(this.finishBlockRemoved(draft), this.pendingHashCount);
        return;
      }
      case 'AllBlocksCleared':
        for (let i = 0; i < remaining * 2; i++) reader.skipValue();
        this.emit({ type: 'AllBlocksCleared' }, 0);
        return;
      default:
        for (let i = 0; i < remaining * 2; i++) reader.skipValue();
        this.unknownEvents.push({ type: tag, index: this.eventIndex });
    }
  }

  private readMapEventKey(): string {
    const key = this.reader.tryReadString();
    if (key === undefined) throw this.eventError('event_shape', `event map key must be a string, found ${this.reader.describeNext()}`);
    return key;
  }

  private readMapEventTag(): string {
    const tag = this.reader.tryReadString();
    if (tag === undefined) throw this.eventError('event_shape', `the '${MAP_TAG_KEY}' value must be a string, found ${this.reader.describeNext()}`);
    return tag;
  }

  /** Reads BLOCK_STORED_WIRE_FIELDS[field] into the draft. */
  private readBlockStoredField(draft: BlockStoredDraft, field: number): void {
    switch (field) {
      case 0: {
        const hashes = this.readHashList('block_hashes');
        draft.blockHashes = hashes.values;
        draft.blockHashBytes = hashes.bytes;
        return;
      }
      case 1: {
        if (this.reader.tryReadNil()) {
          draft.parentBlockHash = null;
          draft.parentBlockHashBytes = undefined;
          return;
        }
        const hash = this.readHash('parent_block_hash', -1);
        if (typeof hash === 'bigint') {
          draft.parentBlockHash = hash;
          draft.parentBlockHashBytes = undefined;
        } else {
          draft.parentBlockHash = blockHashFromBytes(hash);
          draft.parentBlockHashBytes = hash;
        }
        return;
      }
      case 2: {
        const onBad = (index: number, found: string): Error => this.eventError('field_type', `expected an integer token id, found ${found}`, `token_ids[${index}]`);
        if (this.countOnly) {
          if (this.reader.trySkipSafeIntegerArray(onBad) < 0) throw this.fieldTypeError('token_ids', 'an array of integers');
          draft.tokenIds = NO_TOKENS;
          return;
        }
        const tokens = this.reader.tryReadSafeIntegerArray(onBad);
        if (tokens === undefined) throw this.fieldTypeError('token_ids', 'an array of integers');
        draft.tokenIds = tokens;
        return;
      }
      case 3:
        draft.blockSize = this.readInteger('block_size');
        return;
      case 4:
        draft.loraId = this.readOptionalInteger('lora_id');
        return;
      case 5:
        draft.medium = this.readOptionalString('medium');
        return;
      case 6:
        draft.loraName = this.readOptionalString('lora_name');
        return;
      case 7:
        draft.extraKeys = this.readOptionalArrayValue('extra_keys');
        return;
      case 8:
        draft.groupIdx = this.readOptionalInteger('group_idx');
        return;
      case 9:
        draft.kvCacheSpecKind = this.readOptionalString('kv_cache_spec_kind');
        return;
      default:
        draft.kvCacheSpecSlidingWindow = this.readOptionalInteger('kv_cache_spec_sliding_window');
    }
  }

  /** Reads BLOCK_REMOVED_WIRE_FIELDS[field] into the draft. */
  private readBlockRemovedField(draft: BlockRemovedDraft, field: number): void {
    switch (field) {
      case 0: {
        const hashes = this.readHashList('block_hashes');
        draft.blockHashes = hashes.values;
        draft.blockHashBytes = hashes.bytes;
        return;
      }
      case 1:
        draft.medium = this.readOptionalString('medium');
        return;
      default:
        draft.groupIdx = this.readOptionalInteger('group_idx');
    }
  }

  private finishBlockStored(draft: BlockStoredDraft): BlockStoredEvent {
    // Only reachable without these in map form (the positional minimum guarantees them).
    if (draft.blockHashes === undefined) throw this.missingKey('BlockStored', 'block_hashes');
    if (draft.tokenIds === undefined) throw this.missingKey('BlockStored', 'token_ids');
    if (draft.blockSize === undefined) throw this.missingKey('BlockStored', 'block_size');
    const event: { -readonly [K in keyof BlockStoredEvent]: BlockStoredEvent[K] } = {
      type: 'BlockStored',
      blockHashes: draft.blockHashes,
      parentBlockHash: draft.parentBlockHash,
      tokenIds: draft.tokenIds,
      blockSize: draft.blockSize,
      loraId: draft.loraId,
      medium: draft.medium,
      loraName: draft.loraName,
      extraKeys: draft.extraKeys,
      groupIdx: draft.groupIdx,
      kvCacheSpecKind: draft.kvCacheSpecKind,
      kvCacheSpecSlidingWindow: draft.kvCacheSpecSlidingWindow,
    };
    // Present only when some hash arrived as bytes (see events.ts).
    if (draft.blockHashBytes !== undefined) event.blockHashBytes = draft.blockHashBytes;
    if (draft.parentBlockHashBytes !== undefined) event.parentBlockHashBytes = draft.parentBlockHashBytes;
    return event;
  }

  private finishBlockRemoved(draft: BlockRemovedDraft): BlockRemovedEvent {
    if (draft.blockHashes === undefined) throw this.missingKey('BlockRemoved', 'block_hashes');
    const event: { -readonly [K in keyof BlockRemovedEvent]: BlockRemovedEvent[K] } = {
      type: 'BlockRemoved',
      blockHashes: draft.blockHashes,
      medium: draft.medium,
      groupIdx: draft.groupIdx,
    };
    if (draft.blockHashBytes !== undefined) event.blockHashBytes = draft.blockHashBytes;
    return event;
  }

  private readHashList(field: string): HashList {
    const count = this.reader.tryReadArrayHeader();
    if (count < 0) throw this.fieldTypeError(field, 'an array of block hashes');
    this.pendingHashCount = count;
    if (this.countOnly) {
      for (let i = 0; i < count; i++) {
        if (!this.reader.trySkipHash()) {
          throw this.eventError('hash_type', `expected a block hash (integer or bytes), found ${this.reader.describeNext()}`, `${field}[${i}]`);
        }
      }
      return { values: NO_HASHES, bytes: undefined, count };
    }
    const values = new Array<bigint>(count);
    let bytes: (Uint8Array | null)[] | undefined;
    for (let i = 0; i < count; i++) {
      const hash = this.readHash(field, i);
      if (typeof hash === 'bigint') {
        values[i] = hash;
        if (bytes !== undefined) bytes[i] = null;
      } else {
        values[i] = blockHashFromBytes(hash);
        if (bytes === undefined) bytes = new Array<Uint8Array | null>(i).fill(null);
        bytes[i] = hash;
      }
    }
    return { values, bytes, count };
  }

  /** One hash; `element` is its index in a list, or -1 for a single-valued field. */
  private readHash(field: string, element: number): bigint | Uint8Array {
    const hash = this.reader.tryReadHash();
    if (hash === undefined) {
      // Nothing was consumed, so describeNext still names the offending value.
      throw this.eventError('hash_type', `expected a block hash (integer or bytes), found ${this.reader.describeNext()}`, element < 0 ? field : `${field}[${element}]`);
    }
    return hash;
  }

  private readInteger(field: string): number {
    const value = this.reader.tryReadInteger();
    if (typeof value !== 'number') {
      const found = value === undefined ? this.reader.describeNext() : `${value} (beyond 2^53)`;
      throw this.eventError('field_type', `expected an integer, found ${found}`, field);
    }
    return value;
  }

  private readOptionalInteger(field: string): number | null {
    if (this.reader.tryReadNil()) return null;
    return this.readInteger(field);
  }

  private readOptionalString(field: string): string | null {
    if (this.reader.tryReadNil()) return null;
    const value = this.reader.tryReadString();
    if (value === undefined) throw this.fieldTypeError(field, 'a string or nil');
    return value;
  }

  private readOptionalArrayValue(field: string): unknown[] | null {
    if (this.reader.tryReadNil()) return null;
    if (this.reader.describeNext() !== 'array') throw this.fieldTypeError(field, 'an array or nil');
    return this.reader.readValue() as unknown[];
  }

  private fieldTypeError(field: string, expected: string): DecodeError {
    return this.eventError('field_type', `expected ${expected}, found ${this.reader.describeNext()}`, field);
  }

  private missingKey(type: string, key: string): DecodeError {
    return this.eventError('event_shape', `${type} map lacks the required key '${key}'`);
  }

  private eventError(reason: DecodeErrorReason, message: string, field?: string): DecodeError {
    const eventPath = `events[${this.eventIndex}]`;
    return new DecodeError(reason, message, { path: field === undefined ? eventPath : `${eventPath}.${field}` });
  }
}

/**
 * Every field is present from the start, in one order, in an object literal. A draft spread from
 * BLOCK_STORED_OPTIONAL_DEFAULTS and then given `blockHashes`, `tokenIds`… as they arrive costs V8
 * a map transition it does not cache per property added: it made validating a 64-block event
 * about three times slower than it is with this literal (kv-events inspect bench).
 */
function newBlockStoredDraft(): BlockStoredDraft {
  const defaults = BLOCK_STORED_OPTIONAL_DEFAULTS;
  return {
    blockHashes: undefined,
    blockHashBytes: undefined,
    parentBlockHash: defaults.parentBlockHash,
    parentBlockHashBytes: undefined,
    tokenIds: undefined,
    blockSize: undefined,
    loraId: defaults.loraId,
    medium: defaults.medium,
    loraName: defaults.loraName,
    extraKeys: defaults.extraKeys,
    groupIdx: defaults.groupIdx,
    kvCacheSpecKind: defaults.kvCacheSpecKind,
    kvCacheSpecSlidingWindow: defaults.kvCacheSpecSlidingWindow,
  };
}

function newBlockRemovedDraft(): BlockRemovedDraft {
  return { blockHashes: undefined, blockHashBytes: undefined, medium: null, groupIdx: null };
}

/** For messages about values that are not even bytes (JS callers bypassing the types). */
export function describeJsValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
  return typeof value;
}
