import {
  decodeReplayRequest,
  decodeReplayResponse,
  encodeKvEventBatch,
  encodeReplayBatch,
  encodeReplayEnd,
  encodeReplayRequest,
  encodeSeqFrame,
  REPLAY_END_SEQ,
  type ReplayResponseFormat,
} from './index';
import { allBlocksClearedEvent, kvEventBatch, unwrapDecodeResult } from './testing';

const payload = encodeKvEventBatch(kvEventBatch([allBlocksClearedEvent()], { dataParallelRank: 0 }));
const EMPTY = Buffer.alloc(0);
const END = Buffer.from('ffffffffffffffff', 'hex');
const hexes = (frames: Uint8Array[]): string[] => frames.map((f) => Buffer.from(f).toString('hex'));

describe('replay requests', () => {
  it('a DEALER sends ["", seq8]', () => {
    expect(hexes(encodeReplayRequest(5))).toEqual(['', '0000000000000005']);
    expect(hexes(encodeReplayRequest(2n ** 63n))).toEqual(['', '8000000000000000']);
  });

  it('a ROUTER parses [identity, "", seq8]', () => {
    const identity = Buffer.from([0, 1, 2, 3, 4]);
    expect(unwrapDecodeResult(decodeReplayRequest([identity, ...encodeReplayRequest(9)]))).toEqual({ identity, startSeq: 9n });
  });

  it.each<[string, unknown[], string]>([
    ['a REQ-style request without identity', [EMPTY, encodeSeqFrame(1)], 'frame_count'],
    ['a non-empty delimiter', [Buffer.from('id'), Buffer.from('x'), encodeSeqFrame(1)], 'replay_shape'],
    ['a short seq', [Buffer.from('id'), EMPTY, Buffer.alloc(4)], 'seq_length'],
  ])('rejects %s', (_title, frames, reason) => {
    const result = decodeReplayRequest(frames as Uint8Array[]);
    expect(result.ok ? 'ok' : result.error.reason).toBe(reason);
  });
});

describe('replay answers', () => {
  it('REPLAY_END_SEQ is (-1).to_bytes(8, "big", signed=True)', () => {
    expect(encodeSeqFrame(REPLAY_END_SEQ).equals(END)).toBe(true);
  });

  it.each<[ReplayResponseFormat, string[], string[]]>([
    ['without_topic', ['', '000000000000000c', payload.toString('hex')], ['', 'ffffffffffffffff', '']],
    ['with_topic', ['', Buffer.from('kv@p@m').toString('hex'), '000000000000000c', payload.toString('hex')], ['', '', 'ffffffffffffffff', '']],
  ])('%s: data and end frames as the ROUTER sends them after the identity', (format, data, end) => {
    expect(hexes(encodeReplayBatch({ topic: 'kv@p@m', seq: 12, payload }, format))).toEqual(data);
    expect(hexes(encodeReplayEnd(format))).toEqual(end);
  });

  it('decodes both generations as a DEALER receives them', () => {
    for (const format of ['with_topic', 'without_topic'] as const) {
      const data = unwrapDecodeResult(decodeReplayResponse(encodeReplayBatch({ topic: 'kv@p@m', seq: 12, payload }, format)));
      expect(data).toMatchObject({ kind: 'batch', seq: 12n, topic: format === 'with_topic' ? 'kv@p@m' : null });
      expect(unwrapDecodeResult(decodeReplayResponse(encodeReplayEnd(format)))).toEqual({ kind: 'end' });
    }
  });

  it('decodes answers as a REQ socket receives them (delimiter stripped)', () => {
    expect(unwrapDecodeResult(decodeReplayResponse([encodeSeqFrame(3), payload]))).toMatchObject({ kind: 'batch', seq: 3n, topic: null });
    expect(unwrapDecodeResult(decodeReplayResponse([Buffer.from('kv@p@m'), encodeSeqFrame(3), payload]))).toMatchObject({ topic: 'kv@p@m' });
    expect(unwrapDecodeResult(decodeReplayResponse([END, EMPTY]))).toEqual({ kind: 'end' });
  });

  it.each<[string, unknown[], string]>([
    ['an empty last frame without END', [EMPTY, encodeSeqFrame(4), EMPTY], 'replay_shape'],
    ['an end marker with a non-empty frame before END', [Buffer.from('x'), EMPTY, END, EMPTY], 'replay_shape'],
    ['a 4-frame answer without the delimiter', [Buffer.from('x'), Buffer.from('kv@p@m'), encodeSeqFrame(1), payload], 'replay_shape'],
    ['one frame', [payload], 'frame_count'],
    ['five frames', [EMPTY, EMPTY, EMPTY, encodeSeqFrame(1), payload], 'frame_count'],
    ['a short seq', [EMPTY, Buffer.alloc(3), payload], 'seq_length'],
    ['a malformed payload', [EMPTY, encodeSeqFrame(1), Buffer.from([0xc1])], 'msgpack'],
  ])('rejects %s', (_title, frames, reason) => {
    const result = decodeReplayResponse(frames as Uint8Array[]);
    expect(result.ok ? 'ok' : result.error.reason).toBe(reason);
  });
});
