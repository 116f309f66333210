// Property tests: random batches in random layouts survive encode → decode unchanged, and
// decode → encode reproduces the bytes. Seeded, so a failure names the seed that reproduces it.
import {
  decodeKvEventBatch,
  decodeKvEventMessage,
  decodeReplayResponse,
  encodeKvEventBatch,
  encodeKvEventMessage,
  encodeReplayBatch,
  WIRE_LAYOUTS,
  type KvEventBatch,
} from './index';
import { createPrng, randomKvEventBatch, randomWireLayout, unwrapDecodeResult } from './testing';

const CASES = 600;

describe('encode → decode round trip', () => {
  it(`holds for ${CASES} random batches in random layouts`, () => {
    let eventsSeen = 0;
    let bytesHashesSeen = 0;
    for (let seed = 1; seed <= CASES; seed++) {
      const prng = createPrng(seed);
      const layout = randomWireLayout(prng);
      const batch = randomKvEventBatch(prng, layout);
      const bytes = encodeKvEventBatch(batch, layout);
      const result = decodeKvEventBatch(bytes);
      if (!result.ok) throw new Error(`seed ${seed}: ${result.error.message}`);
      try {
        expect(result.value).toEqual({ ...batch, unknownEvents: [] });
        expect(encodeKvEventBatch(result.value, layout).equals(bytes)).toBe(true);
      } catch (err) {
        throw new Error(`seed ${seed} (layout ${JSON.stringify(layout)}): ${String(err)}`);
      }
      eventsSeen += batch.events.length;
      bytesHashesSeen += batch.events.filter((e) => e.type !== 'AllBlocksCleared' && e.blockHashBytes !== undefined).length;
    }
    // Guard against a generator that silently stopped producing interesting input.
    expect(eventsSeen).toBeGreaterThan(CASES);
    expect(bytesHashesSeen).toBeGreaterThan(CASES / 10);
  });

  it('keeps every BlockStored field through each preset layout', () => {
    const prng = createPrng(99);
    for (const layout of Object.values(WIRE_LAYOUTS)) {
      for (let i = 0; i < 50; i++) {
        const batch = randomKvEventBatch(prng, layout);
        expect(unwrapDecodeResult(decodeKvEventBatch(encodeKvEventBatch(batch, layout)))).toEqual({ ...batch, unknownEvents: [] });
      }
    }
  });

  it('round-trips whole messages and replay answers', () => {
    for (let seed = 1; seed <= 100; seed++) {
      const prng = createPrng(seed * 7919);
      const layout = randomWireLayout(prng);
      const batch: KvEventBatch = randomKvEventBatch(prng, layout);
      const seq = prng.uint64();
      const topic = `kv@10.1.${prng.int(256)}.${prng.int(256)}:8000@org/model-${prng.int(10)}`;
      const frames = encodeKvEventMessage({ topic, seq, batch }, layout);
      const message = unwrapDecodeResult(decodeKvEventMessage(frames));
      expect(message.seq).toBe(seq);
      expect(message.topic.topic).toBe(topic);
      expect(message.batch).toEqual({ ...batch, unknownEvents: [] });

      const replayed = unwrapDecodeResult(decodeReplayResponse(encodeReplayBatch({ topic, seq, payload: frames[2] }, 'with_topic')));
      expect(replayed).toEqual({ kind: 'batch', topic, seq, batch: message.batch });
    }
  });
});
