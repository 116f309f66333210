import {
  decodeKvEventMessage,
  decodeSeqFrame,
  encodeKvEventBatch,
  encodeKvEventMessage,
  encodeSeqFrame,
  SEQ_FRAME_LENGTH,
  UINT64_MAX,
  WIRE_LAYOUTS,
} from './index';
import { allBlocksClearedEvent, kvEventBatch, unwrapDecodeResult } from './testing';

const payload = encodeKvEventBatch(kvEventBatch([allBlocksClearedEvent()], { dataParallelRank: 0 }));
const topic = Buffer.from('kv@10.0.0.1:8000@m');

describe('sequence frames', () => {
  it.each<[bigint | number, string]>([
    [0, '0000000000000000'],
    [42, '000000000000002a'],
    [2 ** 32, '0000000100000000'],
    [Number.MAX_SAFE_INTEGER, '001fffffffffffff'],
    [2n ** 63n + 5n, '8000000000000005'],
    [UINT64_MAX, 'ffffffffffffffff'],
  ])('%s ↔ %s (uint64 big-endian, like seq.to_bytes(8, "big"))', (seq, hex) => {
    expect(encodeSeqFrame(seq).toString('hex')).toBe(hex);
    expect(unwrapDecodeResult(decodeSeqFrame(Buffer.from(hex, 'hex')))).toBe(BigInt(seq));
  });

  it('refuses values outside uint64 when encoding', () => {
    for (const bad of [-1, -1n, 2n ** 64n, 1.5, Number.MAX_SAFE_INTEGER + 2, Number.NaN]) expect(() => encodeSeqFrame(bad)).toThrow(RangeError);
  });

  it('requires exactly 8 bytes when decoding', () => {
    expect(SEQ_FRAME_LENGTH).toBe(8);
    for (const length of [0, 7, 9]) {
      const result = decodeSeqFrame(new Uint8Array(length));
      expect(result.ok ? 'ok' : result.error.reason).toBe('seq_length');
    }
  });
});

describe('decodeKvEventMessage', () => {
  it('decodes [topic, seq, payload]', () => {
    const message = unwrapDecodeResult(decodeKvEventMessage([topic, encodeSeqFrame(7), payload]));
    expect(message).toEqual({
      topic: { topic: 'kv@10.0.0.1:8000@m', podId: '10.0.0.1:8000', model: 'm', conventional: true },
      seq: 7n,
      batch: { ts: 1_700_000_000.5, events: [{ type: 'AllBlocksCleared' }], dataParallelRank: 0, unknownEvents: [] },
    });
  });

  it('accepts plain Uint8Array frames and an empty topic', () => {
    const message = unwrapDecodeResult(decodeKvEventMessage([new Uint8Array(0), new Uint8Array(8), new Uint8Array(payload)]));
    expect(message.topic).toEqual({ topic: '', podId: '', model: '', conventional: false });
    expect(message.seq).toBe(0n);
  });

  it.each<[string, unknown[], string]>([
    ['2 frames', [topic, encodeSeqFrame(1)], 'frame_count'],
    ['4 frames (a replay answer on the live path)', [Buffer.alloc(0), topic, encodeSeqFrame(1), payload], 'frame_count'],
    ['a 4-byte seq', [topic, Buffer.alloc(4), payload], 'seq_length'],
    ['a string frame', ['kv@a@b', encodeSeqFrame(1), payload], 'frame_type'],
    ['a topic that is not UTF-8', [Buffer.from([0x6b, 0xff, 0xfe]), encodeSeqFrame(1), payload], 'topic_utf8'],
    ['a malformed payload', [topic, encodeSeqFrame(1), payload.subarray(0, 5)], 'msgpack'],
  ])('rejects %s', (_title, frames, reason) => {
    const result = decodeKvEventMessage(frames as Uint8Array[]);
    expect(result.ok ? 'ok' : result.error.reason).toBe(reason);
  });
});

describe('encodeKvEventMessage', () => {
  it('produces [utf-8 topic, seq8, payload]', () => {
    const batch = kvEventBatch([allBlocksClearedEvent()]);
    const frames = encodeKvEventMessage({ topic: 'kv@p@modèle', seq: 3n, batch }, WIRE_LAYOUTS.v0_9);
    expect(frames.map((f) => f.toString('hex'))).toEqual([
      Buffer.from('kv@p@modèle').toString('hex'),
      '0000000000000003',
      encodeKvEventBatch(batch, WIRE_LAYOUTS.v0_9).toString('hex'),
    ]);
  });
});
