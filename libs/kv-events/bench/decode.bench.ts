// Decode throughput of realistic KV-event payloads, in block hashes per second.
// Workload (vLLM semantics, spec §1.4.4): one scheduler step whose BlockStored events store 64
// blocks in total, 64 tokens per block (`--block-size=64`, the llm-d guide's setting), spread over
// 4 requests (4 events × 16 blocks, 4096 token ids), token ids uniform in a 152k vocabulary.
// Target: ≥ 1M block hashes/s on one core (reported here, never asserted in tests).
import { Unpackr } from 'msgpackr';
import { decodeKvEventBatch, encodeKvEventBatch, WIRE_LAYOUTS, type KvEventBatch, type WireLayout } from '../src/index';
import { blockRemovedEvent, createPrng, hashesFromDigests, kvEventBatch, vllmBlockStoredEvent } from '../src/testing';
import type { BenchSuite } from '@kvr/testing';

const BLOCKS = 64;
const BLOCK_SIZE = 64;
const EVENTS = 4;

function step(hashes: 'int' | 'bytes'): KvEventBatch {
  const prng = createPrng(hashes === 'int' ? 1 : 2);
  const perEvent = BLOCKS / EVENTS;
  const events = Array.from({ length: EVENTS }, () => {
    const hashFields = hashes === 'int' ? { blockHashes: Array.from({ length: perEvent }, () => prng.uint64()) } : hashesFromDigests(Array.from({ length: perEvent }, () => prng.bytes(32)));
    return vllmBlockStoredEvent({
      ...hashFields,
      parentBlockHash: prng.uint64(),
      blockSize: BLOCK_SIZE,
      tokenIds: Array.from({ length: perEvent * BLOCK_SIZE }, () => prng.int(152_000)),
    });
  });
  return kvEventBatch(events, { dataParallelRank: 0 });
}

/** An eviction burst: 64 one-hash BlockRemoved events (vLLM emits one per evicted block). */
function evictions(): KvEventBatch {
  const prng = createPrng(3);
  return kvEventBatch(
    Array.from({ length: BLOCKS }, () => blockRemovedEvent([prng.uint64()], { medium: 'GPU', groupIdx: 0 })),
    { dataParallelRank: 0 },
  );
}

function decodeCase(name: string, batch: KvEventBatch, layout: WireLayout): BenchSuite['cases'][number] {
  const payload = encodeKvEventBatch(batch, layout);
  return {
    name: `${name} (${payload.length} B)`,
    fn: () => {
      const result = decodeKvEventBatch(payload);
      if (!result.ok) throw result.error;
      return result.value;
    },
    unitsPerOp: BLOCKS,
    unit: 'block hashes',
  };
}

const intStep = step('int');
const bytesStep = step('bytes');
const mapIntPayload = encodeKvEventBatch(intStep, WIRE_LAYOUTS.map);
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

const suite: BenchSuite = {
  title: 'kv-events: decode one vLLM step (64 blocks × 64 tokens)',
  baseline: `decode map events, int hashes (${mapIntPayload.length} B)`,
  notes:
    'decodeKvEventBatch on one msgpack payload: 4 BlockStored events storing 64 blocks of 64 tokens (current vLLM encodes map events; older ones positional arrays; hashes are uint64 ints by default, 32-byte digests with VLLM_KV_EVENTS_USE_INT_BLOCK_HASHES=0). ' +
    'The msgpackr row is a generic unpack of the same bytes with no validation, the reason for the schema-driven reader. Target: ≥ 1M block hashes/s.',
  cases: [
    decodeCase('decode map events, int hashes', intStep, WIRE_LAYOUTS.map),
    decodeCase('decode map events, bytes hashes', bytesStep, WIRE_LAYOUTS.map),
    decodeCase('decode array events, int hashes', intStep, WIRE_LAYOUTS.positional),
    decodeCase('decode array events, bytes hashes', bytesStep, WIRE_LAYOUTS.positional),
    decodeCase('decode 64 BlockRemoved map events', evictions(), WIRE_LAYOUTS.map),
    {
      name: 'msgpackr unpack only, map events, int hashes',
      fn: () => unpackr.unpack(mapIntPayload) as unknown,
      unitsPerOp: BLOCKS,
      unit: 'block hashes',
    },
    {
      name: 'encode map events, int hashes',
      fn: () => encodeKvEventBatch(intStep, WIRE_LAYOUTS.map),
      unitsPerOp: BLOCKS,
      unit: 'block hashes',
    },
  ],
};

export default suite;
