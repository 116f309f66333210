import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPrng } from '@kvr/testing';
import { ChunkCache, TokenEncoder } from './encoder';
import { encoderCorpus, mixedText, qwen3Files, qwen3FilesDir, rustTokenizer, tinyTokenizerFiles, writeModelDir } from './testing';

// Loading the Qwen3 tokenizer and the reference encodes take seconds on a 2-core machine.
jest.setTimeout(60_000);

// Oracle: HF Rust `tokenizers` 0.23.2 (napi) on the same tokenizer.json.
describe('TokenEncoder vs the HF Rust tokenizer (Qwen3 tokenizer.json)', () => {
  const rust = rustTokenizer(join(qwen3FilesDir(), 'tokenizer.json'));
  const encoder = new TokenEncoder(qwen3Files(), { cache: null });
  const corpus = encoderCorpus(11, 30);

  it('gives the Rust ids on the corpus (add_special_tokens false and true)', async () => {
    for (const text of corpus) {
      for (const special of [false, true]) {
        const expected = (await rust.encode(text, special)).ids;
        expect({ text: text.slice(0, 80), ids: encoder.encode(text, special) }).toEqual({ text: text.slice(0, 80), ids: expected });
      }
    }
  });

  it('known limitation: NFC of marks newer than Node’s ICU differs from Rust (documented in README)', async () => {
    // U+08D2 has combining class 220 in Node 20's ICU but not in the Rust tables: the marks after
    // "ạ" come out in a different order, so the ids differ. If this starts passing, update README.
    const text = '!a\u0308\u0323\u08d2!';
    expect(encoder.encode(text, false)).not.toEqual((await rust.encode(text, false)).ids);
  });

  it('adds no BOS for Qwen3 (post-processor ByteLevel, add_bos_token false)', () => {
    expect(encoder.specialTemplate()).toEqual({ prefix: [], suffix: [] });
    expect(encoder.encode('hello', true)).toEqual(encoder.encode('hello', false));
  });

  it('maps special tokens written in text to their ids', () => {
    expect(encoder.encode('<|im_start|>user\nhi<|im_end|>', false)).toEqual([151644, 872, 198, 6023, 151645]);
    expect(encoder.encode('<think>\n\n</think>\n\n', false)).toEqual([151667, 271, 151668, 271]);
  });

  it('gives the Rust offsets where NFC composes, reorders or joins Hangul jamo', async () => {
    for (const text of ['xa\u0308\u0323y', 'xe\u0301y e\u0301', 'x\u1100\u1161\u11a8y', 'xA\u030A\u0301y', '\u212B\u0958 q', 'ﬁ Å \u0301start']) {
      expect(encoder.encodeWithOffsets(text, false)).toEqual(await rust.encode(text, false));
    }
  });

  it('gives the Rust offsets (code points) on the corpus', async () => {
    for (const text of corpus.slice(0, 25)) {
      const expected = await rust.encode(text, false);
      const actual = encoder.encodeWithOffsets(text, false);
      expect(actual.ids).toEqual(expected.ids);
      expect({ text: text.slice(0, 60), offsets: actual.offsets }).toEqual({ text: text.slice(0, 60), offsets: expected.offsets });
    }
  });
});

describe('TokenEncoder special-token rules', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'kvr-enc-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('adds the BOS of a TemplateProcessing post-processor (Llama-3 style), like Rust', async () => {
    const files = tinyTokenizerFiles({ bos: true });
    writeModelDir(join(dir, 'bos'), files);
    const encoder = new TokenEncoder({ tokenizerJson: files['tokenizer.json'], tokenizerConfig: files['tokenizer_config.json'] }, { cache: null });
    const rust = rustTokenizer(join(dir, 'bos', 'tokenizer.json'));
    const bosId = encoder.tokenId('<|begin_of_text|>')!;
    expect(encoder.specialTemplate()).toEqual({ prefix: [bosId], suffix: [] });
    const prng = createPrng(3);
    for (let i = 0; i < 20; i++) {
      const text = mixedText(prng, 50 + prng.int(3000));
      expect(encoder.encode(text, true)).toEqual((await rust.encode(text, true)).ids);
      expect(encoder.encode(text, false)).toEqual((await rust.encode(text, false)).ids);
    }
    expect(encoder.encode('', true)).toEqual([bosId]);
  });

  it('rebuilds BOS/EOS from add_bos_token/add_eos_token for LlamaTokenizerFast, as transformers does', () => {
    const files = tinyTokenizerFiles({ bos: true });
    const config = { ...files['tokenizer_config.json'], tokenizer_class: 'LlamaTokenizerFast', add_bos_token: false, add_eos_token: true };
    const encoder = new TokenEncoder({ tokenizerJson: files['tokenizer.json'], tokenizerConfig: config }, { cache: null });
    const eos = encoder.tokenId('<|im_end|>')!;
    expect(encoder.encode('the', true)).toEqual([...encoder.encode('the', false), eos]);
  });

  it('trims offsets of leading spaces when the ByteLevel post-processor has trim_offsets, like Rust', async () => {
    const { tokenizerJson, tokenizerConfig } = qwen3Files();
    const trimmed = { ...tokenizerJson, post_processor: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false } };
    writeModelDir(join(dir, 'trim'), { 'tokenizer.json': trimmed, 'tokenizer_config.json': tokenizerConfig });
    const rust = rustTokenizer(join(dir, 'trim', 'tokenizer.json'));
    const encoder = new TokenEncoder({ tokenizerJson: trimmed, tokenizerConfig }, { cache: null });
    for (const text of ['a  b   c', ' lead', 'x \n y', '  😀 z  ']) {
      expect(encoder.encodeWithOffsets(text, false).offsets).toEqual((await rust.encode(text, false)).offsets);
    }
  });

  it('refuses offsets for a tokenizer it has not analysed', () => {
    const files = tinyTokenizerFiles();
    const json = { ...files['tokenizer.json'], normalizer: { type: 'Lowercase' } };
    const encoder = new TokenEncoder({ tokenizerJson: json, tokenizerConfig: files['tokenizer_config.json'] }, { cache: new ChunkCache(1000) });
    expect(() => encoder.encodeWithOffsets('Hi', false)).toThrow(/offsets/);
    expect(encoder.cacheStats()).toMatchObject({ enabled: false, reason: expect.stringContaining('Lowercase') });
  });

  it('reports unreadable tokenizer.json as invalid_model_files', () => {
    expect(() => new TokenEncoder({ tokenizerJson: { model: { type: 'Nope' } }, tokenizerConfig: {} }, { cache: null })).toThrow(
      expect.objectContaining({ code: 'invalid_model_files' }),
    );
  });
});
