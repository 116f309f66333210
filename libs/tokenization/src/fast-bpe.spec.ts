import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPrng } from '@kvr/testing';
import { TokenEncoder } from './encoder';
import { FastBpe } from './fast-bpe';
import { encoderCorpus, mixedText, qwen3Files, qwen3FilesDir, rustTokenizer, tinyTokenizerFiles, writeModelDir } from './testing';
import { HfTokenizer } from './vendor';

// Proof obligation of the fast path: ids === @huggingface/tokenizers' encode === HF Rust tokenizers.
const qwen = qwen3Files();

const SLOW = 60_000; // the package's own encode (the reference) is slow on random text

let decoder: TokenEncoder | undefined;
/** Text like the benchmark's: random non-special Qwen3 ids, decoded. */
function randomTokenText(seed: number, tokens: number): string {
  const prng = createPrng(seed);
  decoder ??= new TokenEncoder(qwen, { cache: null });
  return decoder.tokenizer.decode(Array.from({ length: tokens }, () => prng.int(151_643)), { skip_special_tokens: true });
}

describe('FastBpe (Qwen3 tokenizer.json)', () => {
  const encoder = new TokenEncoder(qwen, { cache: null });
  const fast = FastBpe.create(qwen.tokenizerJson, encoder.tokenizer, true);
  const rust = rustTokenizer(join(qwen3FilesDir(), 'tokenizer.json'));

  it('is used for Qwen3', () => {
    expect(fast).toBeInstanceOf(FastBpe);
    expect(encoder.fastPath()).toEqual({ enabled: true });
  });

  it('equals the package and Rust on the corpus, random-token text and long runs', async () => {
    const f = fast as FastBpe;
    const texts = [
      ...encoderCorpus(31, 25),
      randomTokenText(1, 3000),
      randomTokenText(2, 3000),
      ' '.repeat(5000) + 'x', // one 5000-byte pre-token: the heap path
      '\t \u00a0'.repeat(800),
      'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
      '='.repeat(300) + '-'.repeat(77) + '\n' + '0'.repeat(200),
      'lone \ud800 surrogate \udfff here',
    ];
    for (const text of texts) {
      const expected = encoder.encodeUncached(text, false);
      expect({ head: text.slice(0, 40), ids: f.encode(text) }).toEqual({ head: text.slice(0, 40), ids: expected });
      if (!/[\ud800-\udfff]/.test(text.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''))) {
        expect((await rust.encode(text, false)).ids).toEqual(expected);
      }
    }
  }, SLOW);

  it('gives the same ids from its word cache as on first sight', () => {
    const text = mixedText(createPrng(4), 20_000);
    const f = FastBpe.create(qwen.tokenizerJson, new TokenEncoder(qwen, { cache: null }).tokenizer, true) as FastBpe;
    const first = f.encode(text);
    expect(f.encode(text)).toEqual(first);
    expect(first).toEqual(encoder.encodeUncached(text, false));
  }, SLOW);
});

describe('FastBpe variants', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'kvr-fast-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('honours ignore_merges (Llama-3 sets it) like the package and Rust', async () => {
    const json = { ...qwen.tokenizerJson, model: { ...(qwen.tokenizerJson['model'] as object), ignore_merges: true } };
    writeModelDir(join(dir, 'im'), { 'tokenizer.json': json, 'tokenizer_config.json': qwen.tokenizerConfig });
    const encoder = new TokenEncoder({ tokenizerJson: json, tokenizerConfig: qwen.tokenizerConfig }, { cache: null });
    const rust = rustTokenizer(join(dir, 'im', 'tokenizer.json'));
    expect(encoder.fastPath().enabled).toBe(true);
    for (const text of [...encoderCorpus(3, 10), randomTokenText(3, 2000)]) {
      const ids = encoder.encode(text, false);
      expect(ids).toEqual(encoder.encodeUncached(text, false));
      expect(ids).toEqual((await rust.encode(text, false)).ids);
    }
  }, SLOW);

  it('trims around lstrip/rstrip added tokens like the package', () => {
    const files = tinyTokenizerFiles();
    const json = {
      ...files['tokenizer.json'],
      added_tokens: [
        ...(files['tokenizer.json']['added_tokens'] as object[]),
        { id: 400, content: '<mask>', single_word: false, lstrip: true, rstrip: true, normalized: false, special: true },
      ],
    };
    const encoder = new TokenEncoder({ tokenizerJson: json, tokenizerConfig: files['tokenizer_config.json'] }, { cache: null });
    expect(encoder.fastPath().enabled).toBe(true);
    for (const text of ['a <mask> b', 'a\n\t<mask>\n b', '<mask>  x', 'x  <mask>', ' <mask> <mask> ']) {
      expect(encoder.encode(text, false)).toEqual(encoder.encodeUncached(text, false));
    }
  });

  it('explains why it is not used', () => {
    const files = tinyTokenizerFiles();
    const tok = new HfTokenizer(files['tokenizer.json'], files['tokenizer_config.json']);
    expect(FastBpe.create(files['tokenizer.json'], tok, false)).toEqual({ reason: 'configuration not analysed' });
    const fallback = { ...files['tokenizer.json'], model: { ...(files['tokenizer.json'].model as object), byte_fallback: true } };
    expect(FastBpe.create(fallback, tok, true)).toEqual({ reason: 'byte_fallback' });
    const badMerge = { ...files['tokenizer.json'], model: { ...(files['tokenizer.json'].model as object), merges: [['x', 'zz']] } };
    expect(FastBpe.create(badMerge, tok, true)).toEqual({ reason: expect.stringContaining('merge 0') });
  });
});
