// What the collector runs per batch: inspectKvEventBatch validates a payload exactly as the full
// decode does but keeps only the timestamp and counts. Same payload as decode.bench.ts (one vLLM
// step: 4 BlockStored events, 64 blocks × 64 tokens, map events, int hashes). A suite of its own,
// run after the decode suite, so that the decode numbers come from a JIT that never saw this mode.
import { decodeKvEventBatch, encodeKvEventBatch, inspectKvEventBatch, WIRE_LAYOUTS } from '../src/index';
import { createPrng, kvEventBatch, vllmBlockStoredEvent } from '../src/testing';
import type { BenchSuite } from '@kvr/testing';

const prng = createPrng(1);
const payload = encodeKvEventBatch(
  kvEventBatch(
    Array.from({ length: 4 }, () =>
      vllmBlockStoredEvent({
        blockHashes: Array.from({ length: 16 }, () => prng.uint64()),
        parentBlockHash: prng.uint64(),
        blockSize: 64,
        tokenIds: Array.from({ length: 16 * 64 }, () => prng.int(152_000)),
      }),
    ),
    { dataParallelRank: 0 },
  ),
  WIRE_LAYOUTS.map,
);

const suite: BenchSuite = {
  title: 'kv-events: validate-only inspection vs full decode (collector hot path)',
  baseline: 'full decode',
  notes: 'Both check every field; inspection does not build token-id arrays or BigInt hashes. Ratio > 1: inspection is faster.',
  cases: [
    { name: 'full decode', fn: () => decodeKvEventBatch(payload), unitsPerOp: 64, unit: 'block hashes' },
    { name: 'inspect (validate, keep ts and counts)', fn: () => inspectKvEventBatch(payload), unitsPerOp: 64, unit: 'block hashes' },
  ],
};

export default suite;
