// inspectKvEventBatch must accept exactly what decodeKvEventBatch accepts, fail with the same
// reason and message, and count what the full decode returns — on valid payloads of every wire
// layout, their truncations and bit flips, and random bytes.
import { decodeKvEventBatch, decodeKvEventMessage, encodeKvEventBatch, encodeSeqFrame, inspectKvEventBatch, inspectKvEventMessage, type DecodedKvEventBatch, type KvEventBatchSummary } from './index';
import { createPrng, randomKvEventBatch, randomWireLayout } from './testing';

function summaryOf(batch: DecodedKvEventBatch): KvEventBatchSummary {
  const of = (type: string) => batch.events.filter((e) => e.type === type);
  const hashes = (type: string) => of(type).reduce((sum, e) => sum + ('blockHashes' in e ? e.blockHashes.length : 0), 0);
  return {
    ts: batch.ts,
    dataParallelRank: batch.dataParallelRank,
    blockStoredEvents: of('BlockStored').length,
    blockRemovedEvents: of('BlockRemoved').length,
    allBlocksClearedEvents: of('AllBlocksCleared').length,
    unknownEvents: batch.unknownEvents.length,
    storedBlocks: hashes('BlockStored'),
    removedBlocks: hashes('BlockRemoved'),
  };
}

function expectSameVerdict(payload: Uint8Array): void {
  const full = decodeKvEventBatch(payload);
  const light = inspectKvEventBatch(payload);
  if (full.ok) {
    expect(light).toEqual({ ok: true, value: summaryOf(full.value) });
  } else {
    expect(light.ok).toBe(false);
    if (!light.ok) expect({ reason: light.error.reason, message: light.error.message }).toEqual({ reason: full.error.reason, message: full.error.message });
  }
}

describe('inspectKvEventBatch', () => {
  const prng = createPrng(77);
  const valid = Array.from({ length: 150 }, () => {
    const layout = randomWireLayout(prng);
    return encodeKvEventBatch(randomKvEventBatch(prng, layout), layout);
  });

  it('summarises valid payloads of every layout as the full decode does', () => {
    for (const payload of valid) expectSameVerdict(payload);
  });

  it('rejects truncations and bit flips exactly as the full decode does', () => {
    let rejected = 0;
    for (const payload of valid) {
      for (let cut = 0; cut < payload.length; cut += Math.max(1, Math.floor(payload.length / 7))) expectSameVerdict(payload.subarray(0, cut));
      for (let flip = 0; flip < 6; flip++) {
        const copy = Buffer.from(payload);
        const at = prng.int(copy.length);
        copy[at] = (copy[at] as number) ^ (1 << prng.int(8));
        expectSameVerdict(copy);
        if (!decodeKvEventBatch(copy).ok) rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(50); // the corpus does exercise the error paths
  });

  it('rejects random bytes exactly as the full decode does', () => {
    for (let i = 0; i < 300; i++) expectSameVerdict(prng.bytes(1 + prng.int(64)));
  });

  it('inspects whole messages like decodeKvEventMessage', () => {
    const payload = valid[0] as Buffer;
    const frames = [Buffer.from('kv@10.0.0.1:8000@m'), encodeSeqFrame(7), payload];
    const full = decodeKvEventMessage(frames);
    const light = inspectKvEventMessage(frames);
    expect(full.ok && light.ok).toBe(true);
    if (full.ok && light.ok) {
      expect(light.value.topic).toEqual(full.value.topic);
      expect(light.value.seq).toBe(7n);
      expect(light.value.summary).toEqual(summaryOf(full.value.batch));
    }
    const bad = inspectKvEventMessage([Buffer.from('kv@x')]);
    expect(bad.ok ? null : bad.error.reason).toBe('frame_count');
  });
});
