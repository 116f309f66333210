import { createPrng } from '@kvr/testing';
import { analyzeChunking, ChunkPlanner, LLAMA3_SPLIT_PATTERN, type AddedTokenInfo } from './chunking';
import { ChunkCache, TokenEncoder } from './encoder';
import { encoderCorpus, mixedText, qwen3Files, tinyTokenizerFiles } from './testing';

// Loading the Qwen3 tokenizer and the reference encodes take seconds on a 2-core machine.
jest.setTimeout(60_000);

// Proof obligation of the chunk cache: ids of chunked + cached encoding === ids of encoding the
// whole text with @huggingface/tokenizers (itself checked against Rust in encoder.spec.ts).
const qwen = qwen3Files();
const reference = new TokenEncoder(qwen, { cache: null });
const whole = (text: string) => reference.encodeUncached(text, false);

function addedTokensOf(json: Record<string, unknown>): AddedTokenInfo[] {
  return (json['added_tokens'] as Record<string, unknown>[]).map((t) => ({
    id: t['id'] as number,
    content: t['content'] as string,
    lstrip: t['lstrip'] === true,
    rstrip: t['rstrip'] === true,
    normalized: t['normalized'] === true,
    special: t['special'] === true,
  }));
}

/** Texts dense with candidate cuts next to things that could break them. */
function adversarialTexts(): string[] {
  const prng = createPrng(99);
  const atoms = [
    'word', ' ', '  ', '\n', '\n\n', ' \n', '\t', '\r\n', 'é', 'e\u0301', '\u0301', '\u0308', '😀', '👩‍👩‍👧', '\u200d', '\ufeff', '\u00a0', '\u3000',
    '123', '4', "'s", "'LL", '<|im_start|>', '<|im_end|>', '<think>', '<|im_start', '|>', '<', 'x', 'Ab', '中文', '각', '\u1161', '\u11a8',
    '.', '!', '{', '}', '\\', '"', '#', 'ﬁ', 'A\u030A',
  ];
  return Array.from({ length: 200 }, () => Array.from({ length: 20 + prng.int(60) }, () => prng.pick(atoms)).join(''));
}

describe('safe boundaries (Qwen2/Qwen3 pre-tokenizer)', () => {
  const planner = new ChunkPlanner(addedTokensOf(qwen.tokenizerJson), { minChars: 1 });

  it('the harness can fail: an arbitrary cut changes the ids', () => {
    expect([...whole('hel'), ...whole('lo world')]).not.toEqual(whole('hello world'));
    expect([...whole('a \n'), ...whole('\nb')]).not.toEqual(whole('a \n\nb'));
  });

  it('every safe cut of adversarial texts splits the ids exactly', () => {
    let checked = 0;
    for (const text of adversarialTexts()) {
      const ids = whole(text);
      for (let p = 1; p < text.length; p++) {
        if (!planner.isSafeBoundary(text, p)) continue;
        checked++;
        expect({ text, p, ids: [...whole(text.slice(0, p)), ...whole(text.slice(p))] }).toEqual({ text, p, ids });
      }
    }
    expect(checked).toBeGreaterThan(300);
  });

  it.each([
    ['Qwen3\'s added tokens', addedTokensOf(qwen.tokenizerJson), ['word', ' ', '\n', ' \n', 'é', '<|im_start|>', '<|im_end|>', '<think>', '</think>', '<|im_start', '|>', 'x', 'Ab', '中文', '😀', '12', '.', '"']],
    // Whitespace-stripping tokens and one with a space: a cut's choice reads past it, so a cut
    // just inside the shared prefix may not hold for a text that goes on differently.
    [
      'tokens that read past a cut',
      [
        { id: 1, content: '<mask>', lstrip: true, rstrip: false, normalized: false, special: true },
        { id: 2, content: '<pad>', lstrip: false, rstrip: true, normalized: false, special: true },
        { id: 3, content: 'a b', lstrip: false, rstrip: false, normalized: false, special: false },
      ],
      ['\n', ' ', 'w', 'a', ' b', '<mask>', '<ma', 'sk>', '<pad>', '<pa', 'd>', 'Ab', '.'],
    ],
  ] as const)('reuses the previous text\'s cuts inside a shared prefix exactly as a fresh plan would cut (%s)', (_name, tokens, atoms) => {
    const prng = createPrng(5);
    const piece = (n: number): string => Array.from({ length: n }, () => prng.pick(atoms)).join('');
    // Small chunks: many cuts fall near wherever two texts stop sharing.
    const options = { minChars: 8, maxChars: 64, hashModulus: 4 };
    const small = new ChunkPlanner(tokens, options);
    let previous = piece(400);
    let reused = 0;
    for (let i = 0; i < 2_000; i++) {
      // The next text keeps a share of the previous one (all, none, anything, or mostly a few
      // units past one of its cuts, where reuse is decided), then goes on differently.
      const before = small.plan(previous);
      const nearCut = Math.min(previous.length, prng.pick(before) + prng.int(8));
      const keep = prng.pick([0, previous.length, prng.int(previous.length + 1), nearCut, nearCut, nearCut]);
      const text = previous.slice(0, keep) + piece(prng.int(300));
      const ends = small.plan(text);
      // The reference: a planner that has seen no text before.
      expect({ i, keep, ends }).toEqual({ i, keep, ends: new ChunkPlanner(tokens, options).plan(text) });
      if (before.some((e) => e < keep - 40 && ends.includes(e))) reused++;
      previous = text;
    }
    expect(reused).toBeGreaterThan(100);
  });

  it('never cuts inside or next to a whitespace-stripping added token', () => {
    const tokens: AddedTokenInfo[] = [
      { id: 1, content: '<mask>', lstrip: true, rstrip: false, normalized: false, special: true },
      { id: 2, content: 'SEP', lstrip: false, rstrip: true, normalized: false, special: true },
      { id: 3, content: 'ab\ncd', lstrip: false, rstrip: false, normalized: false, special: false },
    ];
    const p = new ChunkPlanner(tokens, { minChars: 1 });
    expect(p.isSafeBoundary('x\n<mask>', 2)).toBe(false); // lstrip token starts at the cut
    expect(p.isSafeBoundary('x\nmask', 2)).toBe(true);
    expect(p.isSafeBoundary('aSEP b', 4)).toBe(false); // rstrip token ends at the cut
    expect(p.isSafeBoundary('aSEQ b', 4)).toBe(true);
    expect(p.isSafeBoundary('xab\ncd', 4)).toBe(false); // an added token crosses the cut
    expect(p.isSafeBoundary('xab\ncx', 4)).toBe(true);
  });
});

describe('chunk cache equals whole-text encoding', () => {
  it('on the corpus, cold and warm, with small and default chunks', () => {
    for (const options of [{ minChars: 16, maxChars: 64, hashModulus: 4 }, {}]) {
      const encoder = new TokenEncoder(qwen, { cache: new ChunkCache(1_000_000), chunking: options });
      for (const text of [...encoderCorpus(5, 30), ...adversarialTexts()]) {
        const expected = whole(text);
        expect(encoder.encode(text, false)).toEqual(expected);
        expect(encoder.encode(text, false)).toEqual(expected);
        expect(encoder.encode(text, true)).toEqual(expected);
      }
      expect(encoder.cacheStats().hits).toBeGreaterThan(0);
    }
  });

  it('cuts a shared prefix identically, and caches its chunks on their second sighting', () => {
    const prng = createPrng(21);
    const prefix = mixedText(prng, 24_000);
    const [a, b, c] = [0, 1, 2].map(() => prefix + mixedText(prng, 5_000)) as [string, string, string];
    const encoder = new TokenEncoder(qwen, { cache: new ChunkCache(1_000_000) });
    const endsA = encoder.chunkEnds(a)!.filter((e) => e < prefix.length - 64);
    const endsB = encoder.chunkEnds(b)!.filter((e) => e < prefix.length - 64);
    expect(endsA.length).toBeGreaterThan(5);
    expect(endsB).toEqual(endsA);
    // First sight: nothing is stored, every chunk is remembered only by its hash.
    expect(encoder.encode(a, false)).toEqual(whole(a));
    expect(encoder.cacheStats()).toMatchObject({ entries: 0, hits: 0 });
    expect(encoder.cacheStats().notAdmitted).toBe(encoder.chunkEnds(a)!.length);
    // Second sight: the shared chunks are stored; the unique tails still are not.
    expect(encoder.encode(b, false)).toEqual(whole(b));
    expect(encoder.cacheStats().hits).toBe(0);
    expect(encoder.cacheStats().entries).toBeGreaterThanOrEqual(endsA.length);
    expect(encoder.cacheStats().entries).toBeLessThan(encoder.chunkEnds(b)!.length);
    // Third: they hit.
    expect(encoder.encode(c, false)).toEqual(whole(c));
    expect(encoder.cacheStats().hits).toBeGreaterThanOrEqual(endsA.length);
  });

  it('with first-sight admission, reuses a shared prefix from its first sighting', () => {
    const prng = createPrng(22);
    const prefix = mixedText(prng, 24_000);
    const a = prefix + mixedText(prng, 5_000);
    const b = prefix + mixedText(prng, 5_000);
    const encoder = new TokenEncoder(qwen, { cache: new ChunkCache(1_000_000, 'first-sight') });
    const shared = encoder.chunkEnds(a)!.filter((e) => e < prefix.length - 64).length;
    expect(encoder.encode(a, false)).toEqual(whole(a));
    expect(encoder.cacheStats()).toMatchObject({ entries: encoder.chunkEnds(a)!.length, notAdmitted: 0 });
    expect(encoder.encode(b, false)).toEqual(whole(b));
    expect(encoder.cacheStats().hits).toBeGreaterThanOrEqual(shared);
  });

  it('stays within its token budget and stays correct while evicting', () => {
    for (const admission of ['first-sight', 'second-sight'] as const) {
      const encoder = new TokenEncoder(qwen, { cache: new ChunkCache(3_000, admission), chunking: { minChars: 64, maxChars: 256 } });
      const prng = createPrng(5);
      for (let i = 0; i < 30; i++) {
        const text = mixedText(prng, 4_000);
        // Each text twice, so that second-sight admission stores it too.
        for (let seen = 0; seen < 2; seen++) {
          expect(encoder.encode(text, false)).toEqual(whole(text));
          expect(encoder.cacheStats().tokens).toBeLessThanOrEqual(3_000);
        }
      }
      expect(encoder.cacheStats().evictions).toBeGreaterThan(0);
    }
  });

  it('holds for the Llama-3 pre-tokenizer pattern (digits in threes)', () => {
    const pre = qwen.tokenizerJson['pre_tokenizer'] as { pretokenizers: Record<string, unknown>[] };
    const llamaJson = {
      ...qwen.tokenizerJson,
      pre_tokenizer: { ...pre, pretokenizers: [{ ...pre.pretokenizers[0], pattern: { Regex: LLAMA3_SPLIT_PATTERN } }, pre.pretokenizers[1]] },
    };
    const files = { tokenizerJson: llamaJson, tokenizerConfig: qwen.tokenizerConfig };
    const plain = new TokenEncoder(files, { cache: null });
    const cached = new TokenEncoder(files, { cache: new ChunkCache(1_000_000), chunking: { minChars: 16, maxChars: 64, hashModulus: 4 } });
    expect(cached.chunking).toEqual({ chunkable: true });
    for (const text of [...encoderCorpus(8, 15), ...adversarialTexts(), '1234567 89\n12345 word 1'.repeat(40)]) {
      expect(cached.encode(text, false)).toEqual(plain.encodeUncached(text, false));
    }
  });
});

describe('analyzeChunking', () => {
  const tiny = tinyTokenizerFiles();
  const json = tiny['tokenizer.json'];
  const config = tiny['tokenizer_config.json'];
  const verdict = (j: Record<string, unknown>, c: Record<string, unknown> = config) => analyzeChunking(j, c, []);

  it('accepts Qwen3 and the tiny Qwen2-style tokenizer', () => {
    expect(analyzeChunking(qwen.tokenizerJson, qwen.tokenizerConfig, addedTokensOf(qwen.tokenizerJson))).toEqual({ chunkable: true });
    expect(verdict(json)).toEqual({ chunkable: true });
  });

  it('refuses configurations whose boundaries were not analysed', () => {
    const pre = json.pre_tokenizer as { pretokenizers: Record<string, unknown>[] };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...json, normalizer: { type: 'Lowercase' } }, /normalizer/],
      [{ ...json, pre_tokenizer: { type: 'ByteLevel', add_prefix_space: true, use_regex: true } }, /Split \+ ByteLevel/],
      [{ ...json, pre_tokenizer: { ...pre, pretokenizers: [{ ...pre.pretokenizers[0], pattern: { Regex: '\\s+' } }, pre.pretokenizers[1]] } }, /regex/],
      [{ ...json, pre_tokenizer: { ...pre, pretokenizers: [pre.pretokenizers[0], { type: 'ByteLevel', add_prefix_space: true, use_regex: false }] } }, /prefix space/],
      [{ ...json, model: { ...(json.model as object), dropout: 0.1 } }, /dropout/],
    ];
    for (const [j, reason] of cases) expect(verdict(j)).toEqual({ chunkable: false, reason: expect.stringMatching(reason) });
    expect(verdict(json, { ...config, remove_space: true })).toMatchObject({ chunkable: false });
  });
});
