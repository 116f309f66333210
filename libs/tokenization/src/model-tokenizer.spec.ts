import { TokenizationError } from './api';
import { ChunkCache, TokenEncoder } from './encoder';
import { chatTemplatesOf, HfModelTokenizer, specialTokensOf, type ModelFiles } from './model-tokenizer';
import { WeightedLru } from './lru';
import { tinyTokenizerFiles } from './testing';

function tiny(options: Parameters<typeof tinyTokenizerFiles>[0] = {}, extra: Partial<ModelFiles> = {}): HfModelTokenizer {
  const f = tinyTokenizerFiles(options);
  const files: ModelFiles = { tokenizerJson: f['tokenizer.json'], tokenizerConfig: f['tokenizer_config.json'], ...extra };
  return new HfModelTokenizer('acme/tiny', '/virtual', new TokenEncoder(files, { cache: new ChunkCache(10_000) }), files);
}

describe('renderCompletion (vLLM /v1/completions)', () => {
  it('encodes a string with add_special_tokens=true: BOS only if the post-processor adds one', () => {
    const plain = tiny();
    expect(plain.renderCompletion('the cat')).toEqual(plain.tokenize('the cat', { addSpecialTokens: false }).ids);
    const llama = tiny({ bos: true });
    const bos = llama.encoder.tokenId('<|begin_of_text|>')!;
    expect(llama.renderCompletion('the cat')).toEqual([bos, ...llama.tokenize('the cat', { addSpecialTokens: false }).ids]);
    expect(llama.renderCompletion('the cat', { addSpecialTokens: false })).toEqual(llama.tokenize('the cat', { addSpecialTokens: false }).ids);
  });

  it('passes token ids through unchanged (a copy), and rejects non-ids', () => {
    const tok = tiny({ bos: true });
    const ids = [5, 9, 0, 300];
    const out = tok.renderCompletion(ids);
    expect(out).toEqual(ids);
    expect(out).not.toBe(ids);
    for (const bad of [[1.5], [-1], ['3'], [Number.NaN]]) {
      expect(() => tok.renderCompletion(bad as number[])).toThrow(expect.objectContaining({ code: 'invalid_request' }));
    }
  });
});

describe('chat template selection', () => {
  it('uses chat_template.jinja over tokenizer_config.json', () => {
    const tok = tiny({}, { chatTemplateJinja: 'J:{{ messages[0].content }}' });
    expect(tok.renderChat({ messages: [{ role: 'user', content: 'x' }] }).prompt).toBe('J:x');
  });

  it('picks "tool_use" from a named list when tools are given, "default" otherwise', () => {
    const f = tinyTokenizerFiles();
    const config = { ...f['tokenizer_config.json'], chat_template: [{ name: 'default', template: 'D' }, { name: 'tool_use', template: 'T{{ tools | length }}' }, { name: 'rag', template: 'R' }] };
    const files: ModelFiles = { tokenizerJson: f['tokenizer.json'], tokenizerConfig: config };
    const tok = new HfModelTokenizer('m', '/v', new TokenEncoder(files, { cache: null }), files);
    expect(tok.renderChat({ messages: [{ role: 'user', content: 'x' }] }).prompt).toBe('D');
    expect(tok.renderChat({ messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'function', function: { name: 'f' } }] }).prompt).toBe('T1');
    expect(tok.renderChat({ messages: [{ role: 'user', content: 'x' }], chatTemplate: 'rag' }).prompt).toBe('R');
    expect(chatTemplatesOf(files).named.size).toBe(3);
  });

  it('fails with template_error when the model has no template, or the template is broken', () => {
    const tok = tiny({ chatTemplate: null });
    expect(() => tok.renderChat({ messages: [{ role: 'user', content: 'x' }] })).toThrow(expect.objectContaining({ code: 'template_error' }));
    expect(() => tok.renderChat({ messages: [{ role: 'user', content: 'x' }], chatTemplate: '{% for %}' })).toThrow(TokenizationError);
    expect(tok.renderChat({ messages: [{ role: 'user', content: 'x' }], chatTemplate: '{{ messages | length }}' }).prompt).toBe('1');
  });

  it('passes bos/eos and other special tokens like special_tokens_map, tokenizer_config first', () => {
    const special = specialTokensOf({
      tokenizerJson: {},
      tokenizerConfig: { bos_token: { content: '<s>', lstrip: false }, eos_token: '</s>', unk_token: null, additional_special_tokens: [] },
      specialTokensMap: { pad_token: '<pad>', eos_token: 'ignored', additional_special_tokens: ['<x>'] },
    });
    expect(special).toEqual({ bos_token: '<s>', eos_token: '</s>', pad_token: '<pad>' });
  });
});

describe('tokenize', () => {
  it('returns offsets on request', () => {
    const tok = tiny();
    expect(tok.tokenize('<|im_start|>the', { addSpecialTokens: false, withOffsets: true })).toEqual({
      ids: [tok.encoder.tokenId('<|im_start|>'), tok.encoder.tokenId('t'), tok.encoder.tokenId('he')],
      offsets: [[0, 12], [12, 13], [13, 15]],
    });
  });
});

describe('WeightedLru', () => {
  it('evicts least recently used entries past its weight budget', () => {
    const lru = new WeightedLru<string, number>(10);
    lru.set('a', 1, 4);
    lru.set('b', 2, 4);
    expect(lru.get('a')).toBe(1); // a is now most recent
    lru.set('c', 3, 4); // evicts b
    expect(lru.get('b')).toBeUndefined();
    expect([lru.get('a'), lru.get('c'), lru.weight, lru.evictions]).toEqual([1, 3, 8, 1]);
    lru.set('huge', 4, 11); // heavier than the budget: not stored
    expect(lru.get('huge')).toBeUndefined();
    lru.set('a', 5, 2); // replace updates the weight
    expect(lru.weight).toBe(6);
  });
});
