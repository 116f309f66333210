// Targeted decoder behaviour: each accepted variation and each rejection reason, with its path.
import { decodeKvEventBatch, type DecodeErrorReason, type DecodedKvEventBatch } from './index';
import { blockStoredEvent, Float64, packMsgpack, unwrapDecodeResult } from './testing';

const TS = new Float64(1_700_000_000.5);
const TOKENS = [1, 2, 3, 4];

function decode(value: unknown): DecodedKvEventBatch {
  return unwrapDecodeResult(decodeKvEventBatch(packMsgpack(value)));
}

function rejection(bytesOrValue: unknown): { reason: DecodeErrorReason; path: string | undefined; message: string } {
  const bytes = bytesOrValue instanceof Uint8Array ? bytesOrValue : packMsgpack(bytesOrValue);
  const result = decodeKvEventBatch(bytes);
  if (result.ok) throw new Error(`expected a DecodeError, decoded ${JSON.stringify(result.value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))}`);
  expect(result.error.name).toBe('DecodeError');
  return { reason: result.error.reason, path: result.error.path, message: result.error.message };
}

const stored = (...fields: unknown[]): unknown[] => ['BlockStored', ...fields];

describe('decodeKvEventBatch accepts', () => {
  it('the v0.9 minimum: BlockStored with 4 fields, no dp rank', () => {
    const batch = decode([TS, [stored([5], null, TOKENS, 4)]]);
    expect(batch.dataParallelRank).toBeNull();
    expect(batch.events).toEqual([blockStoredEvent({ blockHashes: [5n], tokenIds: TOKENS, blockSize: 4 })]);
  });

  it('positional events of every length from 5 to 12 elements, nulls for fields not sent', () => {
    const full = stored([5], 4, TOKENS, 4, 9, 'GPU', 'lora', [null], 2, 'sliding_window', 128);
    for (let length = 5; length <= full.length; length++) {
      const [event] = decode([TS, [full.slice(0, length)], 0]).events;
      expect(event).toMatchObject({ type: 'BlockStored', blockHashes: [5n], parentBlockHash: 4n, blockSize: 4 });
      expect(event).toHaveProperty('kvCacheSpecSlidingWindow', length === 12 ? 128 : null);
      expect(event).toHaveProperty('medium', length >= 7 ? 'GPU' : null);
    }
  });

  it('ints as number or bigint regardless of format width (e.g. a block size sent as uint64)', () => {
    const bytes = Buffer.from(packMsgpack([TS, [stored([5], null, [], 0)], 0]));
    // Rewrite block_size 0 (fixint 0x00 just before the dp-rank 0x00 at the end) as cf 00…10 = 16.
    const wide = Buffer.concat([bytes.subarray(0, bytes.length - 2), Buffer.from('cf0000000000000010', 'hex'), bytes.subarray(bytes.length - 1)]);
    expect(unwrapDecodeResult(decodeKvEventBatch(bytes)).events[0]).toMatchObject({ blockSize: 0 });
    expect(unwrapDecodeResult(decodeKvEventBatch(wide)).events[0]).toMatchObject({ blockSize: 16 });
  });

  it('map events with the type key anywhere, unknown keys ignored, missing optional keys null', () => {
    const event = { token_ids: TOKENS, future_field: { a: [1, 2] }, block_size: 4, type: 'BlockStored', block_hashes: [7] };
    expect(decode([TS, [event], 1]).events).toEqual([blockStoredEvent({ blockHashes: [7n], tokenIds: TOKENS, blockSize: 4 })]);
  });

  it('array and map events mixed in one batch, and an integer ts', () => {
    const batch = decode([1_700_000_000, [stored([1], null, [], 16), { type: 'AllBlocksCleared' }, ['BlockRemoved', [2]]], null]);
    expect(batch.ts).toBe(1_700_000_000);
    expect(batch.events.map((e) => e.type)).toEqual(['BlockStored', 'AllBlocksCleared', 'BlockRemoved']);
  });

  it('a map batch in any key order, with extra keys', () => {
    const batch = decode({ data_parallel_rank: 3, events: [['AllBlocksCleared']], extra: 'ignored', ts: TS });
    expect(batch).toEqual({ ts: 1_700_000_000.5, dataParallelRank: 3, events: [{ type: 'AllBlocksCleared' }], unknownEvents: [] });
  });

  it('extra trailing batch elements', () => {
    expect(decode([TS, [], 0, 'future']).events).toEqual([]);
  });

  it('unknown event types, counted with their index and skipped', () => {
    const batch = decode([TS, [['Future', { deep: [[[1]]] }], ['AllBlocksCleared'], { type: 'Other', x: [1, 2, 3] }], 0]);
    expect(batch.events).toEqual([{ type: 'AllBlocksCleared' }]);
    expect(batch.unknownEvents).toEqual([
      { type: 'Future', index: 0 },
      { type: 'Other', index: 2 },
    ]);
  });

  it('hashes as negative ints (two’s complement), uint64 and bytes, mixed in one list', () => {
    const digest = Uint8Array.from({ length: 32 }, (_, i) => i);
    const [event] = decode([TS, [['BlockRemoved', [-1, 2n ** 64n - 1n, digest, -(2n ** 63n), 2n ** 63n + 5n]]]]).events;
    expect(event).toEqual({
      type: 'BlockRemoved',
      blockHashes: [2n ** 64n - 1n, 2n ** 64n - 1n, 0x18191a1b1c1d1e1fn, 2n ** 63n, 2n ** 63n + 5n],
      blockHashBytes: [null, null, digest, null, null],
      medium: null,
      groupIdx: null,
    });
  });

  it('bytes hashes as copies that do not alias the input buffer', () => {
    const digest = new Uint8Array(16).fill(0xab);
    const bytes = packMsgpack([TS, [stored([digest], digest, [], 16)]]);
    const [event] = unwrapDecodeResult(decodeKvEventBatch(bytes)).events;
    bytes.fill(0);
    expect(event).toMatchObject({ blockHashBytes: [digest], parentBlockHashBytes: digest, parentBlockHash: 0xabababababababababn & (2n ** 64n - 1n) });
    expect(Object.getPrototypeOf((event as unknown as { blockHashBytes: Uint8Array[] }).blockHashBytes[0])).toBe(Uint8Array.prototype);
  });

  it('short byte hashes, left-padded like llm-d', () => {
    const [event] = decode([TS, [['BlockRemoved', [Uint8Array.of(1, 2), new Uint8Array(0)]]]]).events;
    expect(event).toMatchObject({ blockHashes: [0x0102n, 0n] });
  });

  it('extra_keys as opaque values, bigints above 2^53 and maps as null-prototype objects', () => {
    const [event] = decode([TS, [stored([1], null, [], 1, null, null, null, [['a', 2n ** 60n, { __proto__x: 1, k: Uint8Array.of(9) }]])]]).events;
    expect(event).toMatchObject({ extraKeys: [['a', 2n ** 60n, { __proto__x: 1, k: Uint8Array.of(9) }]] });
  });

  it('a "__proto__" key in extra_keys as plain data', () => {
    const map = new Map<string, unknown>([['__proto__', { polluted: true }]]);
    const [event] = decode([TS, [stored([1], null, [], 1, null, null, null, [map])]]).events;
    const key = (event as unknown as { extraKeys: Record<string, unknown>[] }).extraKeys[0]!;
    expect(Object.getPrototypeOf(key)).toBeNull();
    expect(Object.keys(key)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('decodeKvEventBatch rejects', () => {
  it.each<[string, unknown, DecodeErrorReason, string | undefined]>([
    ['a scalar batch', 5, 'batch_shape', undefined],
    ['a 1-element batch', [TS], 'batch_shape', undefined],
    ['events that are not an array', [TS, 'x'], 'batch_shape', 'events'],
    ['a string ts', ['now', []], 'field_type', 'ts'],
    ['a string dp rank', [TS, [], 'zero'], 'field_type', 'data_parallel_rank'],
    ['a map batch without events', { ts: TS }, 'batch_shape', undefined],
    ['a map batch without ts', { events: [] }, 'batch_shape', undefined],
    ['a scalar event', [TS, [['AllBlocksCleared'], 7]], 'event_shape', 'events[1]'],
    ['an empty event array', [TS, [[]]], 'event_shape', 'events[0]'],
    ['a non-string tag', [TS, [[1, [2]]]], 'event_shape', 'events[0]'],
    ['BlockStored with 3 fields', [TS, [stored([1], null, [])]], 'event_shape', 'events[0]'],
    ['BlockRemoved without hashes', [TS, [['BlockRemoved']]], 'event_shape', 'events[0]'],
    ['a map event without type', [TS, [{ block_hashes: [1] }]], 'event_shape', 'events[0]'],
    ['a map event with a non-string type', [TS, [{ type: 3 }]], 'event_shape', 'events[0]'],
    ['a map BlockStored without token_ids', [TS, [{ type: 'BlockStored', block_hashes: [1], block_size: 4 }]], 'event_shape', 'events[0]'],
    ['a map BlockRemoved without block_hashes', [TS, [{ type: 'BlockRemoved', medium: 'GPU' }]], 'event_shape', 'events[0]'],
    ['a string hash', [TS, [['BlockRemoved', ['abc']]]], 'hash_type', 'events[0].block_hashes[0]'],
    ['a float hash', [TS, [['BlockRemoved', [1, new Float64(2.5)]]]], 'hash_type', 'events[0].block_hashes[1]'],
    ['a nil inside block_hashes', [TS, [['BlockRemoved', [null]]]], 'hash_type', 'events[0].block_hashes[0]'],
    ['a list parent hash', [TS, [stored([1], [2], [], 4)]], 'hash_type', 'events[0].parent_block_hash'],
    ['block_hashes that are not a list', [TS, [['BlockRemoved', 5]]], 'field_type', 'events[0].block_hashes'],
    ['a float token id', [TS, [stored([1], null, [1, new Float64(2.5)], 4)]], 'field_type', 'events[0].token_ids[1]'],
    ['a token id beyond 2^53', [TS, [stored([1], null, [1, 2, 2n ** 60n], 4)]], 'field_type', 'events[0].token_ids[2]'],
    ['token_ids that are not a list', [TS, [stored([1], null, 'abc', 4)]], 'field_type', 'events[0].token_ids'],
    ['a nil block_size', [TS, [stored([1], null, [], null)]], 'field_type', 'events[0].block_size'],
    ['a numeric medium', [TS, [stored([1], null, [], 4, null, 1)]], 'field_type', 'events[0].medium'],
    ['a string lora_id', [TS, [stored([1], null, [], 4, 'x')]], 'field_type', 'events[0].lora_id'],
    ['a string extra_keys', [TS, [stored([1], null, [], 4, null, null, null, 'x')]], 'field_type', 'events[0].extra_keys'],
    ['a string group_idx in a map event', [TS, [{ type: 'BlockRemoved', block_hashes: [], group_idx: 'g' }]], 'field_type', 'events[0].group_idx'],
  ])('%s', (_title, value, reason, path) => {
    const error = rejection(value);
    expect({ reason: error.reason, path: error.path }).toEqual({ reason, path });
    expect(error.message.length).toBeGreaterThan(path?.length ?? 0);
  });

  it.each<[string, string]>([
    ['trailing bytes', '92cb41d954fc4020000090c0'],
    ['reserved byte 0xc1', '92cb41d954fc4020000091c1'],
    ['an extension type (fixext1)', '92cb41d954fc4020000091d40100'],
    ['a timestamp extension', '92cb41d954fc4020000091d6ff00000000'],
    ['invalid UTF-8 in a tag', '92cb41d954fc402000009191a2c328'],
    ['an array header larger than the data', '92cb41d954fc40200000ddffffffff'],
    ['a map header larger than the data', '92cb41d954fc4020000091dfffffffff'],
    ['empty input', ''],
  ])('malformed msgpack: %s', (_title, hexBytes) => {
    expect(rejection(Buffer.from(hexBytes, 'hex')).reason).toBe('msgpack');
  });

  it('values nested deeper than the limit, without overflowing the stack', () => {
    const depth = 100_000;
    const nested = Buffer.concat([Buffer.from('92cb41d954fc4020000091', 'hex'), Buffer.from([0x92, 0xa1, 0x58]), Buffer.alloc(depth, 0x91), Buffer.from([0xc0])]);
    const error = rejection(nested);
    expect(error.reason).toBe('msgpack');
    expect(error.message).toMatch(/nested deeper/);
  });
});
