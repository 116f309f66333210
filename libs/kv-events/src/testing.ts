// Test builders for @kvr/kv-events (import path `@kvr/kv-events/testing`): event and batch
// builders, a seeded PRNG, random batches for property tests, and a raw MessagePack packer for
// hand-made (unknown or malformed) payloads. Not for production code paths.

import { blockHashFromBytes } from './block-hash';
import { type WireLayout } from './encode-batch';
import { type DecodeResult } from './errors';
import { BLOCK_STORED_OPTIONAL_DEFAULTS, type AllBlocksClearedEvent, type BlockRemovedEvent, type BlockStoredEvent, type KvEvent, type KvEventBatch } from './events';
import { Float64, MsgpackWriter } from './msgpack-writer';
import type { Prng } from '@kvr/testing';

export { Float64 };

/** A BlockStored with every optional field null (valid in every layout); override what the test needs. */
export function blockStoredEvent(fields: Partial<Omit<BlockStoredEvent, 'type'>> = {}): BlockStoredEvent {
  const blockHashes = fields.blockHashes ?? [1n];
  const blockSize = fields.blockSize ?? 16;
  return {
    type: 'BlockStored',
    blockHashes,
    tokenIds: fields.tokenIds ?? Array.from({ length: blockHashes.length * blockSize }, (_, i) => i),
    blockSize,
    ...BLOCK_STORED_OPTIONAL_DEFAULTS,
    ...fields,
  };
}

/** Hash fields for digests sent as bytes (`VLLM_KV_EVENTS_USE_INT_BLOCK_HASHES=0`): values derived as vLLM does. */
export function hashesFromDigests(digests: readonly Uint8Array[]): Pick<BlockStoredEvent, 'blockHashes' | 'blockHashBytes'> {
  return { blockHashes: digests.map(blockHashFromBytes), blockHashBytes: [...digests] };
}

/** A BlockStored as current vLLM (v0.26 map era) fills it for plain text on the GPU. */
export function vllmBlockStoredEvent(fields: Partial<Omit<BlockStoredEvent, 'type'>> = {}): BlockStoredEvent {
  const count = (fields.blockHashes ?? [1n]).length;
  return blockStoredEvent({ medium: 'GPU', extraKeys: Array.from({ length: count }, () => null), groupIdx: 0, kvCacheSpecKind: 'full_attention', ...fields });
}

export function blockRemovedEvent(blockHashes: readonly bigint[] = [1n], fields: Partial<Omit<BlockRemovedEvent, 'type' | 'blockHashes'>> = {}): BlockRemovedEvent {
  return { type: 'BlockRemoved', blockHashes, medium: null, groupIdx: null, ...fields };
}

export function allBlocksClearedEvent(): AllBlocksClearedEvent {
  return { type: 'AllBlocksCleared' };
}

export function kvEventBatch(events: readonly KvEvent[], fields: Partial<Omit<KvEventBatch, 'events'>> = {}): KvEventBatch {
  return { ts: 1_700_000_000.5, dataParallelRank: null, ...fields, events };
}

/** MessagePack bytes of any plain value, with msgspec's format choices (see MsgpackWriter); wrap floats in {@link Float64} to force float64. */
export function packMsgpack(value: unknown): Buffer {
  const writer = new MsgpackWriter();
  writer.writeValue(value);
  return writer.toBuffer();
}

/** The value of an ok result; throws an Error carrying the DecodeError otherwise (for tests). */
export function unwrapDecodeResult<T>(result: DecodeResult<T>): T {
  if (!result.ok) throw new Error(`expected a decoded value, got DecodeError(${result.error.reason}): ${result.error.message}`, { cause: result.error });
  return result.value;
}

/** A small deterministic PRNG (mulberry32) so property tests are reproducible from their seed. */
// The seeded PRNG is the workspace one; re-exported so this lib's tests need one import.
export { createPrng } from '@kvr/testing';
export type { Prng } from '@kvr/testing';

/** Hash values at msgpack format boundaries, mixed into random ones. */
const EDGE_HASHES = [0n, 127n, 128n, 255n, 256n, 65_535n, 65_536n, 0xffff_ffffn, 0x1_0000_0000n, (1n << 63n) - 1n, 1n << 63n, (1n << 63n) + 5n, (1n << 64n) - 1n];
/** Token ids at msgpack format boundaries (token ids are arbitrary safe integers on the wire). */
const EDGE_TOKENS = [0, 127, 128, 255, 256, 65_535, 65_536, 0xffff_ffff, 0x1_0000_0000, Number.MAX_SAFE_INTEGER, -1, -32, -33, -128, -129, -(2 ** 31), -(2 ** 31) - 1];

/** A random layout: each era's shape plus every intermediate positional field count. */
export function randomWireLayout(prng: Prng): WireLayout {
  const events = prng.pick(['array', 'map'] as const);
  return {
    events,
    blockStoredFields: events === 'map' ? 11 : 4 + prng.int(8),
    blockRemovedFields: events === 'map' ? 3 : 1 + prng.int(3),
    batch: prng.chance(0.2) ? 'map' : 'array',
    batchDataParallelRank: prng.chance(0.8),
    signedHashes: prng.chance(0.2),
  };
}

/**
 * A random batch that `layout` can carry (fields beyond an array layout's field counts are null):
 * hashes as ints and/or bytes of various lengths, tokens of every width, extra_keys with nested
 * values, all three event kinds.
 */
export function randomKvEventBatch(prng: Prng, layout: WireLayout): KvEventBatch {
  const eventCount = prng.int(6);
  const events: KvEvent[] = [];
  for (let i = 0; i < eventCount; i++) {
    const kind = prng.int(10);
    if (kind < 6) events.push(randomBlockStored(prng, layout));
    else if (kind < 9) events.push(randomBlockRemoved(prng, layout));
    else events.push(allBlocksClearedEvent());
  }
  return {
    ts: prng.chance(0.2) ? prng.int(2_000_000_000) : 1_700_000_000 + prng.next() * 1e8,
    events,
    dataParallelRank: layout.batchDataParallelRank && prng.chance(0.7) ? prng.int(8) : null,
  };
}

function randomHashes(prng: Prng, count: number): Pick<BlockStoredEvent, 'blockHashes' | 'blockHashBytes'> {
  const asBytes = prng.chance(0.3);
  const values: bigint[] = [];
  const bytes: (Uint8Array | null)[] = [];
  for (let i = 0; i < count; i++) {
    if (asBytes && prng.chance(0.9)) {
      const digest = prng.bytes(prng.pick([32, 32, 16, 8, 3, 0]));
      values.push(blockHashFromBytes(digest));
      bytes.push(digest);
    } else {
      values.push(prng.chance(0.3) ? prng.pick(EDGE_HASHES) : prng.uint64());
      bytes.push(null);
    }
  }
  return bytes.some((b) => b !== null) ? { blockHashes: values, blockHashBytes: bytes } : { blockHashes: values };
}

function randomOptional<T>(prng: Prng, allowed: boolean, make: () => T): T | null {
  return allowed && prng.chance(0.6) ? make() : null;
}

function randomString(prng: Prng): string {
  return prng.pick(['GPU', 'CPU', 'full_attention', 'sliding_window', 'sql-lora', 'é-ü-ß', 'x'.repeat(40), 'y'.repeat(300), '']);
}

function randomExtraKey(prng: Prng, depth: number): unknown {
  switch (prng.int(depth > 2 ? 5 : 7)) {
    case 0:
      return null;
    case 1:
      return randomString(prng);
    case 2:
      return prng.pick(EDGE_TOKENS);
    case 3:
      return prng.bytes(prng.int(20));
    case 4:
      // Above 2^53 so it decodes back as a bigint, not a number.
      return prng.chance(0.5) ? (1n << 60n) | prng.uint64() : true;
    case 5:
      return Array.from({ length: prng.int(4) }, () => randomExtraKey(prng, depth + 1));
    default:
      return { type: 'mm', hash: prng.bytes(16), offset: prng.int(100), frac: 0.25 };
  }
}

function randomBlockStored(prng: Prng, layout: WireLayout): BlockStoredEvent {
  const count = prng.int(5);
  const blockSize = prng.pick([1, 4, 16, 64]);
  const fields = layout.events === 'map' ? 11 : layout.blockStoredFields;
  const tokenCount = prng.chance(0.8) ? count * blockSize : prng.int(50);
  const parentAsBytes = prng.chance(0.2);
  const parentDigest = parentAsBytes ? prng.bytes(32) : undefined;
  return {
    type: 'BlockStored',
    ...randomHashes(prng, count),
    parentBlockHash: parentDigest ? blockHashFromBytes(parentDigest) : prng.chance(0.3) ? null : prng.uint64(),
    ...(parentDigest ? { parentBlockHashBytes: parentDigest } : {}),
    tokenIds: Array.from({ length: tokenCount }, () => (prng.chance(0.1) ? prng.pick(EDGE_TOKENS) : prng.int(152_000))),
    blockSize,
    loraId: randomOptional(prng, fields >= 5, () => prng.int(1000)),
    medium: randomOptional(prng, fields >= 6, () => prng.pick(['GPU', 'CPU'])),
    loraName: randomOptional(prng, fields >= 7, () => randomString(prng)),
    extraKeys: randomOptional(prng, fields >= 8, () => Array.from({ length: count }, () => randomExtraKey(prng, 0))),
    groupIdx: randomOptional(prng, fields >= 9, () => prng.int(4)),
    kvCacheSpecKind: randomOptional(prng, fields >= 10, () => prng.pick(['full_attention', 'sliding_window', 'mamba'])),
    kvCacheSpecSlidingWindow: randomOptional(prng, fields >= 11, () => prng.pick([128, 4096, 1 << 20])),
  };
}

function randomBlockRemoved(prng: Prng, layout: WireLayout): BlockRemovedEvent {
  const fields = layout.events === 'map' ? 3 : layout.blockRemovedFields;
  return {
    type: 'BlockRemoved',
    ...randomHashes(prng, 1 + prng.int(3)),
    medium: randomOptional(prng, fields >= 2, () => prng.pick(['GPU', 'CPU'])),
    groupIdx: randomOptional(prng, fields >= 3, () => prng.int(4)),
  };
}
