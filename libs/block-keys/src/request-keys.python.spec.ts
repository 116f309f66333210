/**
 * Cross-language check: our keys against fixtures/request_keys.py, an independent re-implementation
 * with Python cbor2 (canonical=True) and its own FNV-1a-64 — the pairing llm-d's own docs name as the
 * cross-language reference for canonical CBOR. Runs the system interpreter, not a pyenv shim.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createBlockKeyer, encodeBlock, toUint64Hex, type BlockExtra } from './index';
import { randomInt, randomText, randomTokens, randomUint64, seededRandom } from './testing';

const PYTHON = '/usr/bin/python3';
const SCRIPT = join(__dirname, '..', 'fixtures', 'request_keys.py');

interface Case {
  name: string;
  modelName: string;
  blockSize: number;
  hashSeed: string;
  tokens: number[];
  parent?: bigint;
  extras?: (BlockExtra | null)[];
  cacheSalt?: string;
}

interface PyResult {
  name: string;
  initHash: string;
  rootKey: string;
  rootCbor: string;
  firstBlockCbor: string | null;
  keys: string[];
}

function runPython(cases: readonly Case[]): PyResult[] {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} not found: this test needs the system Python 3 with python3-cbor2 (apt-get install python3-cbor2)`);
  const input = JSON.stringify({
    cases: cases.map((c) => ({
      name: c.name,
      modelName: c.modelName,
      blockSize: c.blockSize,
      hashSeed: c.hashSeed,
      tokens: c.tokens,
      parent: c.parent === undefined ? null : c.parent.toString(),
      extras: c.extras === undefined ? null : c.extras.map((e) => (e === null ? null : e.map((m) => m.Hash))),
      cacheSalt: c.cacheSalt ?? null,
    })),
  });
  const run = spawnSync(PYTHON, [SCRIPT], { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.error) throw run.error;
  if (run.status === 3 || /No module named 'cbor2'|cbor2 missing/.test(run.stderr)) {
    throw new Error(`${PYTHON} has no cbor2 module: apt-get install python3-cbor2`);
  }
  if (run.status !== 0) throw new Error(`request_keys.py failed (exit ${String(run.status)}): ${run.stderr}`);
  return (JSON.parse(run.stdout) as { results: PyResult[] }).results;
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const KTHENA_TOKENS = [151644, 872, 198, 9064, 374, 279, 6722, 315, 5616, 30, 151645, 198, 151644, 77091, 198, 151667];
const prompt7k = randomTokens(seededRandom(7000), 7000, 151_936);
const mmTokens = randomTokens(seededRandom(99), 256, 151_936);

const CASES: Case[] = [
  { name: 'A', modelName: 'test-model', blockSize: 16, hashSeed: '', tokens: range(1, 16) },
  { name: 'B', modelName: 'test-model', blockSize: 4, hashSeed: '', tokens: range(1, 8) },
  { name: 'C', modelName: 'Qwen/Qwen3-32B', blockSize: 16, hashSeed: '42', tokens: range(1, 16) },
  { name: 'D', modelName: 'Qwen/Qwen3-8B', blockSize: 16, hashSeed: '', tokens: KTHENA_TOKENS },
  { name: '7k prompt, block 64', modelName: 'Qwen/Qwen3-32B', blockSize: 64, hashSeed: '', tokens: prompt7k },
  { name: '7k prompt, block 64, seed 42', modelName: 'Qwen/Qwen3-32B', blockSize: 64, hashSeed: '42', tokens: prompt7k },
  { name: 'width boundaries, block 24', modelName: 'm', blockSize: 24, hashSeed: '', tokens: randomTokens(seededRandom(24), 24 * 5 + 3) },
  { name: 'block 256 (2-byte array head)', modelName: 'm', blockSize: 256, hashSeed: '', tokens: randomTokens(seededRandom(256), 600) },
  { name: 'block 1', modelName: 'm', blockSize: 1, hashSeed: '', tokens: [0, 23, 24, 0xffffffff] },
  { name: 'empty prompt', modelName: 'm', blockSize: 64, hashSeed: '', tokens: [] },
  { name: 'partial block only', modelName: 'm', blockSize: 64, hashSeed: '', tokens: range(1, 63) },
  { name: 'cache salt', modelName: 'Qwen/Qwen3-8B', blockSize: 64, hashSeed: '', tokens: prompt7k.slice(0, 200), cacheSalt: 'tenant-42' },
  { name: 'unicode cache salt', modelName: 'Qwen/Qwen3-8B', blockSize: 64, hashSeed: '', tokens: prompt7k.slice(0, 130), cacheSalt: 'sål✓漢😀' },
  {
    name: 'multimodal extras',
    modelName: 'Qwen/Qwen2.5-VL-7B-Instruct',
    blockSize: 64,
    hashSeed: '',
    tokens: mmTokens,
    extras: [null, [{ Hash: 'img-a' }], [{ Hash: 'img-a' }, { Hash: 'b'.repeat(64) }], []],
  },
  {
    name: 'multimodal extras + cache salt',
    modelName: 'Qwen/Qwen2.5-VL-7B-Instruct',
    blockSize: 64,
    hashSeed: '7',
    tokens: mmTokens,
    extras: [[{ Hash: 'c0ffee' }], null, null, [{ Hash: 'x'.repeat(300) }]],
    cacheSalt: 'salt',
  },
  { name: 'parent 2^64-1', modelName: 'm', blockSize: 64, hashSeed: '', tokens: prompt7k.slice(0, 192), parent: (1n << 64n) - 1n },
  { name: 'parent 2^63', modelName: 'm', blockSize: 64, hashSeed: '', tokens: prompt7k.slice(0, 192), parent: 1n << 63n },
  { name: 'parent 2^64-2^32', modelName: 'm', blockSize: 64, hashSeed: '', tokens: prompt7k.slice(0, 128), parent: (1n << 64n) - (1n << 32n) },
  { name: 'parent 2^32', modelName: 'm', blockSize: 64, hashSeed: '', tokens: prompt7k.slice(0, 128), parent: 1n << 32n },
  { name: 'parent 1', modelName: 'm', blockSize: 64, hashSeed: '', tokens: prompt7k.slice(0, 128), parent: 1n },
  { name: 'parent 0 = root', modelName: 'm', blockSize: 64, hashSeed: '', tokens: prompt7k.slice(0, 128), parent: 0n },
  { name: 'LoRA adapter as model', modelName: 'sql-lora', blockSize: 16, hashSeed: '', tokens: KTHENA_TOKENS },
  { name: 'unicode model name', modelName: 'модель/漢字-😀', blockSize: 16, hashSeed: 'seed✓', tokens: range(100, 140) },
];

// Seeded random cases on top of the hand-picked ones.
const rand = seededRandom(31337);
for (let i = 0; i < 40; i++) {
  const blockSize = 1 + randomInt(rand, 70);
  const tokens = randomTokens(rand, randomInt(rand, 300));
  const blocks = Math.floor(tokens.length / blockSize);
  const parent = rand() < 0.5 ? randomUint64(rand) : undefined;
  const extras =
    rand() < 0.5 ? Array.from({ length: blocks }, () => (rand() < 0.5 ? null : Array.from({ length: 1 + randomInt(rand, 3) }, () => ({ Hash: randomText(rand) })))) : undefined;
  CASES.push({
    name: `random ${i}`,
    modelName: randomText(rand) || 'm',
    blockSize,
    hashSeed: rand() < 0.5 ? randomText(rand) : '',
    tokens,
    parent,
    extras,
    cacheSalt: parent === undefined && rand() < 0.4 ? randomText(rand) || undefined : undefined,
  });
}

describe('request keys = independent Python (cbor2 canonical + FNV-1a-64) implementation', () => {
  const results = new Map<string, PyResult>();
  beforeAll(() => {
    for (const r of runPython(CASES)) results.set(r.name, r);
  });

  it('answered every case', () => {
    expect([...results.keys()]).toEqual(CASES.map((c) => c.name));
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const py = results.get(c.name);
    if (!py) throw new Error(`no Python result for ${c.name}`);
    const keyer = createBlockKeyer({ modelName: c.modelName, blockSize: c.blockSize, hashSeed: c.hashSeed });
    const keys = keyer.keysForTokens(c.tokens, { parent: c.parent, extras: c.extras, cacheSalt: c.cacheSalt });

    expect(keyer.initHash.toString()).toBe(py.initHash);
    expect(keyer.rootKey.toString()).toBe(py.rootKey);
    expect(hex(encodeBlock(keyer.initHash, null, c.modelName))).toBe(py.rootCbor);
    expect(keys.map(String)).toEqual(py.keys);
    expect(keys).toHaveLength(keyer.blockCount(c.tokens.length));

    if (keys.length > 0) {
      const first0 = [...(c.extras?.[0] ?? []), ...(c.cacheSalt ? [{ Hash: c.cacheSalt }] : [])];
      const start = c.parent !== undefined && c.parent !== 0n ? c.parent : keyer.rootKey;
      expect(hex(encodeBlock(start, c.tokens.slice(0, c.blockSize), first0.length > 0 ? first0 : null))).toBe(py.firstBlockCbor);
    } else {
      expect(py.firstBlockCbor).toBeNull();
    }
  });

  it('pins the spec vectors as Python computes them (hex)', () => {
    const hexKeys = (name: string): string[] => (results.get(name)?.keys ?? []).map((k) => toUint64Hex(BigInt(k)));
    expect(hexKeys('A')).toEqual(['8464eee8f2cf3412']);
    expect(hexKeys('B')).toEqual(['b33ea88fa99c8f52', 'e171fe1c78a71471']);
    expect(hexKeys('C')).toEqual(['65c853ba8ac40d68']);
    expect(hexKeys('D')).toEqual(['0d6563dca824e7c6']);
  });
});
