// Hostile input: random bytes, truncations and bit flips of valid payloads, random (valid) msgpack
// values and random frame lists must never throw and never hit the `internal` safety net: every
// failure is a DecodeError with a specific reason.
import {
  DecodeError,
  decodeKvEventBatch,
  decodeKvEventMessage,
  decodeReplayRequest,
  decodeReplayResponse,
  decodeSeqFrame,
  encodeKvEventBatch,
  type DecodeResult,
} from './index';
import { createPrng, Float64, packMsgpack, randomKvEventBatch, randomWireLayout, type Prng } from './testing';

/** Runs a decoder and checks the "never throws, errors are specific DecodeErrors" contract. */
function expectContained<T>(decode: () => DecodeResult<T>, describeInput: () => string): DecodeResult<T> {
  let result: DecodeResult<T>;
  try {
    result = decode();
  } catch (err) {
    throw new Error(`decoder threw ${String(err)} for ${describeInput()}`);
  }
  if (!result.ok) {
    if (!(result.error instanceof DecodeError) || result.error.reason === 'internal') {
      throw new Error(`decoder failed unexpectedly (${result.error.reason}: ${result.error.message}) for ${describeInput()}`);
    }
  }
  return result;
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

function validPayloads(count: number): Buffer[] {
  const prng = createPrng(4242);
  return Array.from({ length: count }, () => {
    const layout = randomWireLayout(prng);
    return encodeKvEventBatch(randomKvEventBatch(prng, layout), layout);
  });
}

/** A random, well-formed msgpack value of the kinds the decoder meets (and a few it must reject). */
function randomValue(prng: Prng, depth: number): unknown {
  switch (prng.int(depth > 3 ? 7 : 10)) {
    case 0:
      return null;
    case 1:
      return prng.chance(0.5);
    case 2:
      return prng.pick([0, 1, 127, 128, -1, -33, 65_536, 2 ** 40, -(2 ** 40)]);
    case 3:
      return prng.uint64();
    case 4:
      return new Float64(prng.next() * 1e9);
    case 5:
      return prng.pick(['BlockStored', 'BlockRemoved', 'AllBlocksCleared', 'type', 'ts', 'events', 'block_hashes', 'token_ids', 'x']);
    case 6:
      return prng.bytes(prng.int(40));
    case 7:
    case 8:
      return Array.from({ length: prng.int(6) }, () => randomValue(prng, depth + 1));
    default: {
      const map: Record<string, unknown> = {};
      const keys = ['type', 'ts', 'events', 'block_hashes', 'parent_block_hash', 'token_ids', 'block_size', 'medium', 'extra_keys', 'data_parallel_rank'];
      for (let i = prng.int(5); i > 0; i--) map[prng.pick(keys)] = randomValue(prng, depth + 1);
      return map;
    }
  }
}

describe('decoding hostile input', () => {
  it('contains random garbage bytes', () => {
    const prng = createPrng(1);
    let failures = 0;
    for (let i = 0; i < 5000; i++) {
      const bytes = prng.bytes(prng.int(64));
      const result = expectContained(() => decodeKvEventBatch(bytes), () => hex(bytes));
      if (!result.ok) failures++;
    }
    expect(failures).toBeGreaterThan(4900);
  });

  it('contains every truncation of valid payloads, reporting msgpack errors', () => {
    const prng = createPrng(5);
    for (const payload of validPayloads(20)) {
      // Every cut of small payloads; 300 random cuts of large ones (keeps the test fast).
      const lengths = payload.length <= 300 ? Array.from({ length: payload.length }, (_, i) => i) : Array.from({ length: 300 }, () => prng.int(payload.length));
      for (const length of lengths) {
        const cut = payload.subarray(0, length);
        const result = expectContained(() => decodeKvEventBatch(cut), () => `${hex(payload)} cut at ${length}`);
        // A prefix of one msgpack value is never a complete value.
        expect(result.ok ? 'ok' : result.error.reason).toBe('msgpack');
      }
    }
  });

  it('contains single-byte corruptions of valid payloads', () => {
    const prng = createPrng(2);
    const reasons = new Set<string>();
    for (const payload of validPayloads(60)) {
      for (let i = 0; i < 60; i++) {
        const corrupted = Buffer.from(payload);
        const at = prng.int(corrupted.length);
        corrupted[at] = prng.int(256);
        const result = expectContained(() => decodeKvEventBatch(corrupted), () => `${hex(payload)} with byte ${at} set to ${corrupted[at]}`);
        if (!result.ok) reasons.add(result.error.reason);
      }
    }
    // Corruption must surface through the specific reasons, not one catch-all.
    expect([...reasons].sort()).toEqual(expect.arrayContaining(['msgpack', 'event_shape']));
    expect(reasons.size).toBeGreaterThanOrEqual(4);
  });

  it('contains random well-formed msgpack values and batch-shaped values', () => {
    const prng = createPrng(3);
    for (let i = 0; i < 3000; i++) {
      const value = prng.chance(0.5) ? randomValue(prng, 0) : [new Float64(1.5), Array.from({ length: prng.int(4) }, () => randomValue(prng, 2)), randomValue(prng, 3)];
      const bytes = packMsgpack(value);
      expectContained(() => decodeKvEventBatch(bytes), () => hex(bytes));
    }
  });

  it('contains random frame lists, including non-byte frames', () => {
    const prng = createPrng(4);
    const frameChoices = (): unknown[] => [prng.bytes(prng.int(12)), new Uint8Array(0), Buffer.from('kv@a@b'), 'text', 42, null, undefined, {}, [1]];
    for (let i = 0; i < 3000; i++) {
      const frames = Array.from({ length: prng.int(6) }, () => prng.pick(frameChoices())) as Uint8Array[];
      const describeFrames = (): string => JSON.stringify(frames);
      expectContained(() => decodeKvEventMessage(frames), describeFrames);
      expectContained(() => decodeReplayResponse(frames), describeFrames);
      expectContained(() => decodeReplayRequest(frames), describeFrames);
    }
    for (const notFrames of [null, undefined, 'frames', 3, {}, new Uint8Array(3)]) {
      expectContained(() => decodeKvEventMessage(notFrames as unknown as Uint8Array[]), () => String(notFrames));
      expectContained(() => decodeReplayResponse(notFrames as unknown as Uint8Array[]), () => String(notFrames));
      expectContained(() => decodeReplayRequest(notFrames as unknown as Uint8Array[]), () => String(notFrames));
      expectContained(() => decodeSeqFrame(notFrames as unknown as Uint8Array), () => String(notFrames));
      expectContained(() => decodeKvEventBatch(notFrames as unknown as Uint8Array), () => String(notFrames));
    }
  });
});
