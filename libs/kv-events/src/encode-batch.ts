import { blockHashFromBytes, UINT64_MAX } from './block-hash';
import {
  BLOCK_REMOVED_WIRE_FIELDS,
  BLOCK_STORED_WIRE_FIELDS,
  MIN_BLOCK_REMOVED_FIELDS,
  MIN_BLOCK_STORED_FIELDS,
  type BlockRemovedEvent,
  type BlockStoredEvent,
  type KvEvent,
  type KvEventBatch,
} from './events';
import { MsgpackWriter } from './msgpack-writer';

/**
 * How a batch is laid out on the wire: which vLLM generation to imitate. The presets in
 * {@link WIRE_LAYOUTS} cover the known eras; the field counts also allow the intermediate
 * positional lengths that vLLM releases between v0.9 and PR #42892 emitted.
 */
export interface WireLayout {
  /** Events as positional arrays (`[tag, ...fields]`, before vLLM PR #42892) or as maps tagged by `type` (after). */
  readonly events: 'array' | 'map';
  /** Array events: fields written after the tag, 4..11 (msgspec writes every declared field, nil included). */
  readonly blockStoredFields: number;
  /** Array events: fields written after the tag, 1..3. */
  readonly blockRemovedFields: number;
  /** The batch as `[ts, events, data_parallel_rank]` (every vLLM seen) or as a map (tolerated by the decoder). */
  readonly batch: 'array' | 'map';
  /** Whether the batch has the `data_parallel_rank` field (not in vLLM v0.9). */
  readonly batchDataParallelRank: boolean;
  /** Write int hashes ≥ 2^63 as negative int64, as Python's signed `hash()` did (vLLM v0.9, "builtin" hash algo). */
  readonly signedHashes: boolean;
}

/** The wire layouts of the vLLM generations this library was checked against (see README). */
export const WIRE_LAYOUTS = {
  /** vLLM v0.9 (`vllm/distributed/kv_events.py@b4e69e0a`): short arrays, batch `[ts, events]`. */
  v0_9: { events: 'array', blockStoredFields: 5, blockRemovedFields: 1, batch: 'array', batchDataParallelRank: false, signedHashes: false },
  /** Positional with every field (`kv_events.py@0181ea31` field list, before PR #42892). */
  positional: { events: 'array', blockStoredFields: 11, blockRemovedFields: 3, batch: 'array', batchDataParallelRank: true, signedHashes: false },
  /** vLLM PR #42892 / v0.26+: map events (defaults omitted), positional batch. */
  map: { events: 'map', blockStoredFields: 11, blockRemovedFields: 3, batch: 'array', batchDataParallelRank: true, signedHashes: false },
} as const satisfies Record<string, WireLayout>;

/**
 * Encodes a batch exactly as msgspec does for the given layout (the default is current vLLM's,
 * {@link WIRE_LAYOUTS}.map). Map events omit fields whose value is their default (`extra_keys`,
 * `group_idx`, `kv_cache_spec_kind`, `kv_cache_spec_sliding_window` when null; msgspec
 * `omit_defaults`) and always carry the fields without defaults, nil included; array events carry
 * exactly `layout.block*Fields` fields, nil included (msgspec ignores `omit_defaults` for array-like
 * structs, jcrist/msgspec#720).
 *
 * Hashes are written as bytes where the event carries `blockHashBytes`/`parentBlockHashBytes`, as
 * ints otherwise. Throws RangeError/TypeError for a batch the layout cannot represent (e.g. a
 * `medium` with a v0.9 layout, a dp rank without the field, a hash beyond uint64, bytes that do not
 * match their hash value): silently dropping data would make simulated pods lie.
 */
export function encodeKvEventBatch(batch: KvEventBatch, layout: WireLayout = WIRE_LAYOUTS.map): Buffer {
  checkLayout(layout);
  if (!layout.batchDataParallelRank && batch.dataParallelRank !== null) {
    throw new RangeError(`dataParallelRank ${batch.dataParallelRank} cannot be written: the layout has no data_parallel_rank field`);
  }
  const writer = new MsgpackWriter(4096);
  if (layout.batch === 'array') {
    writer.writeArrayHeader(layout.batchDataParallelRank ? 3 : 2);
    writer.writeFloat64(batch.ts);
    writeEvents(writer, batch.events, layout);
    if (layout.batchDataParallelRank) writeOptionalInteger(writer, batch.dataParallelRank);
  } else {
    const withRank = layout.batchDataParallelRank && batch.dataParallelRank !== null;
    writer.writeMapHeader(withRank ? 3 : 2);
    writer.writeString('ts');
    writer.writeFloat64(batch.ts);
    writer.writeString('events');
    writeEvents(writer, batch.events, layout);
    if (withRank) {
      writer.writeString('data_parallel_rank');
      writer.writeInteger(batch.dataParallelRank!);
    }
  }
  return writer.toBuffer();
}

function checkLayout(layout: WireLayout): void {
  if (!Number.isInteger(layout.blockStoredFields) || layout.blockStoredFields < MIN_BLOCK_STORED_FIELDS || layout.blockStoredFields > BLOCK_STORED_WIRE_FIELDS.length) {
    throw new RangeError(`layout.blockStoredFields must be ${MIN_BLOCK_STORED_FIELDS}..${BLOCK_STORED_WIRE_FIELDS.length}, got ${layout.blockStoredFields}`);
  }
  if (!Number.isInteger(layout.blockRemovedFields) || layout.blockRemovedFields < MIN_BLOCK_REMOVED_FIELDS || layout.blockRemovedFields > BLOCK_REMOVED_WIRE_FIELDS.length) {
    throw new RangeError(`layout.blockRemovedFields must be ${MIN_BLOCK_REMOVED_FIELDS}..${BLOCK_REMOVED_WIRE_FIELDS.length}, got ${layout.blockRemovedFields}`);
  }
}

function writeEvents(writer: MsgpackWriter, events: readonly KvEvent[], layout: WireLayout): void {
  writer.writeArrayHeader(events.length);
  events.forEach((event, index) => {
    switch (event.type) {
      case 'BlockStored':
        if (layout.events === 'array') writeBlockStoredArray(writer, event, layout, index);
        else writeBlockStoredMap(writer, event, layout);
        return;
      case 'BlockRemoved':
        if (layout.events === 'array') writeBlockRemovedArray(writer, event, layout, index);
        else writeBlockRemovedMap(writer, event, layout);
        return;
      case 'AllBlocksCleared':
        if (layout.events === 'array') writer.writeArrayHeader(1);
        else {
          writer.writeMapHeader(1);
          writer.writeString('type');
        }
        writer.writeString('AllBlocksCleared');
        return;
    }
  });
}

/** BlockStored field values in BLOCK_STORED_WIRE_FIELDS order, hashes excluded (written separately). */
function blockStoredScalars(event: BlockStoredEvent): readonly unknown[] {
  return [
    undefined, // block_hashes
    undefined, // parent_block_hash
    event.tokenIds,
    event.blockSize,
    event.loraId,
    event.medium,
    event.loraName,
    event.extraKeys,
    event.groupIdx,
    event.kvCacheSpecKind,
    event.kvCacheSpecSlidingWindow,
  ];
}

function writeBlockStoredArray(writer: MsgpackWriter, event: BlockStoredEvent, layout: WireLayout, index: number): void {
  const values = blockStoredScalars(event);
  for (let field = layout.blockStoredFields; field < BLOCK_STORED_WIRE_FIELDS.length; field++) {
    if (values[field] !== null) {
      throw new RangeError(`events[${index}] (BlockStored) sets ${BLOCK_STORED_WIRE_FIELDS[field]}, which a ${layout.blockStoredFields}-field layout cannot carry`);
    }
  }
  writer.writeArrayHeader(1 + layout.blockStoredFields);
  writer.writeString('BlockStored');
  for (let field = 0; field < layout.blockStoredFields; field++) writeBlockStoredField(writer, event, field, layout);
}

/** Fields with a default in vLLM's BlockStored (omitted from map events when null). */
const BLOCK_STORED_DEFAULTED_FROM = BLOCK_STORED_WIRE_FIELDS.indexOf('extra_keys');

function writeBlockStoredMap(writer: MsgpackWriter, event: BlockStoredEvent, layout: WireLayout): void {
  const values = blockStoredScalars(event);
  const written: number[] = [];
  for (let field = 0; field < BLOCK_STORED_WIRE_FIELDS.length; field++) {
    if (field < BLOCK_STORED_DEFAULTED_FROM || values[field] !== null) written.push(field);
  }
  writer.writeMapHeader(1 + written.length);
  writer.writeString('type');
  writer.writeString('BlockStored');
  for (const field of written) {
    writer.writeString(BLOCK_STORED_WIRE_FIELDS[field]!);
    writeBlockStoredField(writer, event, field, layout);
  }
}

function writeBlockStoredField(writer: MsgpackWriter, event: BlockStoredEvent, field: number, layout: WireLayout): void {
  switch (field) {
    case 0:
      writeHashList(writer, event.blockHashes, event.blockHashBytes, layout);
      return;
    case 1:
      if (event.parentBlockHash === null) writer.writeNil();
      else writeHash(writer, event.parentBlockHash, event.parentBlockHashBytes, layout);
      return;
    case 2:
      writer.writeArrayHeader(event.tokenIds.length);
      for (const token of event.tokenIds) writer.writeInteger(token);
      return;
    case 3:
      writer.writeInteger(event.blockSize);
      return;
    case 4:
      writeOptionalInteger(writer, event.loraId);
      return;
    case 5:
      writeOptionalString(writer, event.medium);
      return;
    case 6:
      writeOptionalString(writer, event.loraName);
      return;
    case 7:
      writer.writeValue(event.extraKeys);
      return;
    case 8:
      writeOptionalInteger(writer, event.groupIdx);
      return;
    case 9:
      writeOptionalString(writer, event.kvCacheSpecKind);
      return;
    default:
      writeOptionalInteger(writer, event.kvCacheSpecSlidingWindow);
  }
}

function writeBlockRemovedArray(writer: MsgpackWriter, event: BlockRemovedEvent, layout: WireLayout, index: number): void {
  const optional = [undefined, event.medium, event.groupIdx];
  for (let field = layout.blockRemovedFields; field < BLOCK_REMOVED_WIRE_FIELDS.length; field++) {
    if (optional[field] !== null) {
      throw new RangeError(`events[${index}] (BlockRemoved) sets ${BLOCK_REMOVED_WIRE_FIELDS[field]}, which a ${layout.blockRemovedFields}-field layout cannot carry`);
    }
  }
  writer.writeArrayHeader(1 + layout.blockRemovedFields);
  writer.writeString('BlockRemoved');
  writeHashList(writer, event.blockHashes, event.blockHashBytes, layout);
  if (layout.blockRemovedFields >= 2) writeOptionalString(writer, event.medium);
  if (layout.blockRemovedFields >= 3) writeOptionalInteger(writer, event.groupIdx);
}

function writeBlockRemovedMap(writer: MsgpackWriter, event: BlockRemovedEvent, layout: WireLayout): void {
  // `medium` has no default upstream (always written); `group_idx` defaults to None (omitted when null).
  const withGroup = event.groupIdx !== null;
  writer.writeMapHeader(withGroup ? 4 : 3);
  writer.writeString('type');
  writer.writeString('BlockRemoved');
  writer.writeString('block_hashes');
  writeHashList(writer, event.blockHashes, event.blockHashBytes, layout);
  writer.writeString('medium');
  writeOptionalString(writer, event.medium);
  if (withGroup) {
    writer.writeString('group_idx');
    writer.writeInteger(event.groupIdx!);
  }
}

function writeHashList(writer: MsgpackWriter, hashes: readonly bigint[], bytes: readonly (Uint8Array | null)[] | undefined, layout: WireLayout): void {
  if (bytes !== undefined && bytes.length !== hashes.length) {
    throw new RangeError(`blockHashBytes has ${bytes.length} entries for ${hashes.length} hashes`);
  }
  writer.writeArrayHeader(hashes.length);
  for (let i = 0; i < hashes.length; i++) writeHash(writer, hashes[i]!, bytes?.[i] ?? undefined, layout);
}

function writeHash(writer: MsgpackWriter, value: bigint, bytes: Uint8Array | undefined, layout: WireLayout): void {
  if (typeof value !== 'bigint' || value < 0n || value > UINT64_MAX) throw new RangeError(`block hash ${String(value)} is not a uint64 bigint`);
  if (bytes !== undefined) {
    if (blockHashFromBytes(bytes) !== value) throw new RangeError(`block hash bytes do not end in the hash value ${value}`);
    writer.writeBinary(bytes);
    return;
  }
  writer.writeInteger(layout.signedHashes ? BigInt.asIntN(64, value) : value);
}

function writeOptionalInteger(writer: MsgpackWriter, value: number | null): void {
  if (value === null) writer.writeNil();
  else writer.writeInteger(value);
}

function writeOptionalString(writer: MsgpackWriter, value: string | null): void {
  if (value === null) writer.writeNil();
  else writer.writeString(value);
}
