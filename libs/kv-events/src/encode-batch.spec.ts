import { decodeKvEventBatch, encodeKvEventBatch, WIRE_LAYOUTS, type WireLayout } from './index';
import {
  allBlocksClearedEvent,
  blockRemovedEvent,
  blockStoredEvent,
  hashesFromDigests,
  kvEventBatch,
  unwrapDecodeResult,
  vllmBlockStoredEvent,
} from './testing';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

describe('encodeKvEventBatch', () => {
  it('defaults to the current vLLM layout: map events in a positional batch', () => {
    const batch = kvEventBatch([allBlocksClearedEvent()], { dataParallelRank: 0 });
    // [ts, [{"type": "AllBlocksCleared"}], 0]: upstream-spec §1.6 "AllBlocksCleared (map)".
    expect(hex(encodeKvEventBatch(batch))).toBe('93cb41d954fc402000009181a474797065b0416c6c426c6f636b73436c656172656400');
  });

  it('omits defaulted fields from map events and keeps the required ones even when nil', () => {
    const bytes = encodeKvEventBatch(kvEventBatch([blockStoredEvent({ blockHashes: [1n], tokenIds: [], blockSize: 16 })]), WIRE_LAYOUTS.map);
    const text = bytes.toString('latin1');
    for (const key of ['block_hashes', 'parent_block_hash', 'token_ids', 'block_size', 'lora_id', 'medium', 'lora_name']) expect(text).toContain(key);
    for (const key of ['extra_keys', 'group_idx', 'kv_cache_spec_kind', 'kv_cache_spec_sliding_window']) expect(text).not.toContain(key);
  });

  it('writes bytes hashes as bin and int hashes as the smallest int, signed when asked', () => {
    const digest = Buffer.from('00'.repeat(24) + '8000000000000005', 'hex');
    const event = { ...blockRemovedEvent(), ...hashesFromDigests([digest]) };
    const bin = encodeKvEventBatch(kvEventBatch([event]), WIRE_LAYOUTS.v0_9);
    expect(hex(bin)).toContain(`c420${digest.toString('hex')}`);
    const signed: WireLayout = { ...WIRE_LAYOUTS.v0_9, signedHashes: true };
    expect(hex(encodeKvEventBatch(kvEventBatch([blockRemovedEvent([2n ** 64n - 1n, 5n])]), signed))).toContain('92ff05');
    expect(hex(encodeKvEventBatch(kvEventBatch([blockRemovedEvent([2n ** 64n - 1n, 5n])]), WIRE_LAYOUTS.v0_9))).toContain('92cfffffffffffffffff05');
  });

  it('writes a map batch, omitting a null dp rank', () => {
    const layout: WireLayout = { ...WIRE_LAYOUTS.map, batch: 'map' };
    const withRank = unwrapDecodeResult(decodeKvEventBatch(encodeKvEventBatch(kvEventBatch([], { dataParallelRank: 2 }), layout)));
    expect(withRank.dataParallelRank).toBe(2);
    const bytes = encodeKvEventBatch(kvEventBatch([]), layout);
    expect(bytes[0]).toBe(0x82);
    expect(bytes.toString('latin1')).not.toContain('data_parallel_rank');
  });

  it('refuses batches the layout cannot carry instead of dropping data', () => {
    expect(() => encodeKvEventBatch(kvEventBatch([vllmBlockStoredEvent()]), WIRE_LAYOUTS.v0_9)).toThrow(/sets medium, which a 5-field layout cannot carry/);
    expect(() => encodeKvEventBatch(kvEventBatch([blockRemovedEvent([1n], { groupIdx: 1 })]), { ...WIRE_LAYOUTS.positional, blockRemovedFields: 2 })).toThrow(/group_idx/);
    expect(() => encodeKvEventBatch(kvEventBatch([], { dataParallelRank: 1 }), WIRE_LAYOUTS.v0_9)).toThrow(/data_parallel_rank/);
    expect(() => encodeKvEventBatch(kvEventBatch([blockRemovedEvent([2n ** 64n])]))).toThrow(/not a uint64/);
    expect(() => encodeKvEventBatch(kvEventBatch([blockRemovedEvent([-1n])]))).toThrow(/not a uint64/);
    expect(() => encodeKvEventBatch(kvEventBatch([blockRemovedEvent([1n], { blockHashBytes: [Uint8Array.of(2)] })]))).toThrow(/do not end in/);
    expect(() => encodeKvEventBatch(kvEventBatch([blockRemovedEvent([1n], { blockHashBytes: [] })]))).toThrow(/entries for 1 hashes/);
    expect(() => encodeKvEventBatch(kvEventBatch([]), { ...WIRE_LAYOUTS.positional, blockStoredFields: 3 })).toThrow(/blockStoredFields/);
    expect(() => encodeKvEventBatch(kvEventBatch([]), { ...WIRE_LAYOUTS.positional, blockRemovedFields: 4 })).toThrow(/blockRemovedFields/);
  });
});
