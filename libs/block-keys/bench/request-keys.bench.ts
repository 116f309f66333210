// Request-key hashing cost: the hand-written fast path vs the cborg reference it is tested against.
import type { BenchSuite } from '@kvr/testing';
import { encode } from 'cborg';
import { createBlockKeyer, fnv1a64, toUint64Decimal } from '../src/index';
import { randomTokens, referenceRequestKeys, seededRandom } from '../src/testing';

const MODEL = 'Qwen/Qwen3-32B';
const BLOCK = 64;
const prompt = randomTokens(seededRandom(7000), 7000, 151_936); // Qwen3 vocabulary: mostly 3- and 5-byte ids
const promptU32 = Uint32Array.from(prompt);
const blocks = Math.floor(prompt.length / BLOCK); // 109
const keyer = createBlockKeyer({ modelName: MODEL, blockSize: BLOCK });
const oneBlock = prompt.slice(0, BLOCK);
const mmExtras = Array.from({ length: blocks }, (_, i) => (i % 10 === 3 ? [{ Hash: `img-${i}` }] : null));

/** cborg for the CBOR, but the fast FNV: isolates what the hand-written encoder saves. */
function cborgWithFastFnv(): bigint[] {
  let parent = keyer.rootKey;
  const keys: bigint[] = [];
  for (let b = 0; b < blocks; b++) {
    parent = fnv1a64(encode([parent, prompt.slice(b * BLOCK, (b + 1) * BLOCK), null]));
    keys.push(parent);
  }
  return keys;
}

const suite: BenchSuite = {
  title: 'block-keys: request keys for a 7,000-token prompt (block size 64, 109 keys)',
  baseline: 'reference: cborg.encode + BigInt FNV (7k tokens)',
  notes:
    'Chained FNV-1a-64 over canonical CBOR [parent, tokens, extra], llm-d-kv-cache@7be76e1. The baseline is the test oracle ' +
    '(cborg 1.10.2 per block + FNV on BigInt); "cborg + fast FNV" isolates the encoder. Target: ≤ 500 µs per 7k-token prompt on one core. ' +
    'The 1-block case gives the per-block cost.',
  cases: [
    {
      name: 'reference: cborg.encode + BigInt FNV (7k tokens)',
      fn: () => referenceRequestKeys({ modelName: MODEL, blockSize: BLOCK, tokens: prompt }),
      unitsPerOp: prompt.length,
      unit: 'tokens',
    },
    { name: 'cborg.encode + fast FNV (7k tokens)', fn: cborgWithFastFnv, unitsPerOp: prompt.length, unit: 'tokens' },
    { name: 'keysForTokens, number[] (7k tokens)', fn: () => keyer.keysForTokens(prompt), unitsPerOp: prompt.length, unit: 'tokens' },
    { name: 'keysForTokens, Uint32Array (7k tokens)', fn: () => keyer.keysForTokens(promptU32), unitsPerOp: prompt.length, unit: 'tokens' },
    {
      name: 'keysForTokens + cache salt + MM extras every 10th block (7k tokens)',
      fn: () => keyer.keysForTokens(prompt, { extras: mmExtras, cacheSalt: 'tenant-a' }),
      unitsPerOp: prompt.length,
      unit: 'tokens',
    },
    {
      name: 'keysForTokens + toUint64Decimal of every key (7k tokens)',
      fn: () => keyer.keysForTokens(prompt).map(toUint64Decimal),
      unitsPerOp: prompt.length,
      unit: 'tokens',
    },
    { name: 'keysForTokens, one 64-token block', fn: () => keyer.keysForTokens(oneBlock), unitsPerOp: 1, unit: 'blocks' },
  ],
};

export default suite;
