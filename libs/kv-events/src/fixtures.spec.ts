// Golden bytes produced by fixtures/make_fixtures.py (Python msgpack emulating vLLM's msgspec
// encodings per era). Expected values were computed in Python with vLLM's hash conversion, so
// these tests check our decoder against an independent implementation, and our encoder against
// the exact bytes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  decodeKvEventMessage,
  decodeReplayRequest,
  decodeReplayResponse,
  encodeKvEventMessage,
  encodeReplayBatch,
  encodeReplayEnd,
  encodeReplayRequest,
  type KvEvent,
  type KvEventBatch,
  type KvEventMessage,
  type ReplayResponseFormat,
  type WireLayout,
} from './index';
import { unwrapDecodeResult } from './testing';

interface MessageFixture {
  name: string;
  description: string;
  frames: string[];
  layout: WireLayout | null;
  expected: {
    topic: { topic: string; podId: string; model: string; conventional: boolean };
    seq: string;
    ts: number;
    dataParallelRank: number | null;
    events: Record<string, unknown>[];
    unknownEvents: { type: string; index: number }[];
  };
}

interface ReplayFixture {
  name: string;
  description: string;
  format?: ReplayResponseFormat;
  frames: string[];
  expected: { kind: 'request' | 'batch' | 'end'; startSeq?: string; identity?: string; topic?: string | null; seq?: string };
}

interface FixtureFile {
  replayPayload: { ts: number; dataParallelRank: number; events: Record<string, unknown>[] };
  messages: MessageFixture[];
  replay: ReplayFixture[];
}

const FIXTURE_PATH = join(__dirname, '..', 'fixtures', 'vllm-kv-events.json');
const fixtures = JSON.parse(readFileSync(FIXTURE_PATH, 'utf8')) as FixtureFile;

const fromHex = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'));
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** Opaque values: {"$bytes": hex} → Uint8Array, {"$int": decimal} → bigint, objects → null-prototype like the decoder's. */
function reviveOpaque(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reviveOpaque);
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (typeof record['$bytes'] === 'string') return fromHex(record['$bytes']);
    if (typeof record['$int'] === 'string') return BigInt(record['$int']);
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, reviveOpaque(v)]));
  }
  return value;
}

function reviveEvent(json: Record<string, unknown>): KvEvent {
  const event: Record<string, unknown> = { ...json };
  if (Array.isArray(json['blockHashes'])) event['blockHashes'] = (json['blockHashes'] as string[]).map((h) => BigInt(h));
  if (Array.isArray(json['blockHashBytes'])) event['blockHashBytes'] = (json['blockHashBytes'] as (string | null)[]).map((h) => (h === null ? null : fromHex(h)));
  if (typeof json['parentBlockHash'] === 'string') event['parentBlockHash'] = BigInt(json['parentBlockHash']);
  if (typeof json['parentBlockHashBytes'] === 'string') event['parentBlockHashBytes'] = fromHex(json['parentBlockHashBytes']);
  if ('extraKeys' in json) event['extraKeys'] = reviveOpaque(json['extraKeys']);
  return event as unknown as KvEvent;
}

function expectedMessage(fixture: MessageFixture): KvEventMessage {
  const { expected } = fixture;
  return {
    topic: expected.topic,
    seq: BigInt(expected.seq),
    batch: {
      ts: expected.ts,
      dataParallelRank: expected.dataParallelRank,
      events: expected.events.map(reviveEvent),
      unknownEvents: expected.unknownEvents,
    },
  };
}

describe('golden fixtures from make_fixtures.py', () => {
  it('cover every era, hash form and batch form the brief asks for', () => {
    const names = fixtures.messages.map((f) => f.name);
    expect(names).toEqual(expect.arrayContaining(['spec-1.6-era1', 'spec-1.6-era2', 'spec-1.6-era3', 'era1-negative-int-hashes', 'era2-bytes-hashes', 'era3-map-bytes-hashes', 'map-batch', 'unknown-event-types']));
    expect(fixtures.messages.length).toBeGreaterThanOrEqual(25);
    expect(fixtures.replay.length).toBe(8);
  });

  describe.each(fixtures.messages.map((f) => [f.name, f] as const))('message %s', (_name, fixture) => {
    const frames = fixture.frames.map(fromHex);

    it('decodes to the values Python computed', () => {
      const decoded = unwrapDecodeResult(decodeKvEventMessage(frames));
      expect(decoded).toEqual(expectedMessage(fixture));
      // toEqual ignores absent-vs-undefined; the bytes arrays must be absent when no hash came as bytes.
      decoded.batch.events.forEach((event, i) => {
        const expectedEvent = fixture.expected.events[i]!;
        if (event.type !== 'AllBlocksCleared') expect('blockHashBytes' in event).toBe('blockHashBytes' in expectedEvent);
      });
    });

    if (fixture.layout !== null) {
      const layout = fixture.layout;
      it('re-encodes byte-for-byte', () => {
        const decoded = unwrapDecodeResult(decodeKvEventMessage(frames));
        const batch: KvEventBatch = { ts: decoded.batch.ts, events: decoded.batch.events, dataParallelRank: decoded.batch.dataParallelRank };
        const encoded = encodeKvEventMessage({ topic: decoded.topic.topic, seq: decoded.seq, batch }, layout);
        expect(encoded.map(toHex)).toEqual(fixture.frames);
      });
    }
  });

  describe.each(fixtures.replay.map((f) => [f.name, f] as const))('replay %s', (_name, fixture) => {
    const frames = fixture.frames.map(fromHex);
    const { expected } = fixture;

    if (expected.kind === 'request') {
      it('decodes and re-encodes', () => {
        if (expected.identity !== undefined) {
          const request = unwrapDecodeResult(decodeReplayRequest(frames));
          expect(request).toEqual({ identity: fromHex(expected.identity), startSeq: BigInt(expected.startSeq!) });
        } else {
          expect(encodeReplayRequest(BigInt(expected.startSeq!)).map(toHex)).toEqual(fixture.frames);
          // A ROUTER sees the same frames behind the DEALER's identity.
          const request = unwrapDecodeResult(decodeReplayRequest([fromHex('01'), ...frames]));
          expect(request.startSeq).toBe(BigInt(expected.startSeq!));
        }
      });
      return;
    }

    it('decodes', () => {
      const response = unwrapDecodeResult(decodeReplayResponse(frames));
      if (expected.kind === 'end') {
        expect(response).toEqual({ kind: 'end' });
      } else {
        expect(response).toEqual({
          kind: 'batch',
          topic: expected.topic,
          seq: BigInt(expected.seq!),
          batch: { ...fixtures.replayPayload, events: fixtures.replayPayload.events.map(reviveEvent), unknownEvents: [] },
        });
      }
    });

    if (fixture.format !== undefined) {
      const format = fixture.format;
      it(`re-encodes as the ${format} format`, () => {
        const encoded =
          expected.kind === 'end'
            ? encodeReplayEnd(format)
            : encodeReplayBatch({ topic: expected.topic ?? '', seq: BigInt(expected.seq!), payload: frames[frames.length - 1]! }, format);
        expect(encoded.map(toHex)).toEqual(fixture.frames);
      });
    }
  });
});
