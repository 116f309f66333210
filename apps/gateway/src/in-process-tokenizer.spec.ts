/**
 * The in-process tokenizer against the tokenizer service it replaces: the service runs in this
 * process on a real unix socket and the gateway's gRPC client asks it, so both paths see the same
 * model files; they must give the same ids and fail the same way.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { TokenizerModelsConfig } from '@kvr/config';
import { createLogger } from '@kvr/telemetry';
import { registryOptionsFromSettings, TokenizerRegistry } from '@kvr/tokenization';
import { BackendError, localBackend, startTokenizerServer, TokenizerClient, type TokenizerServer } from '@kvr/tokenizer-grpc';
import { InProcessTokenizer } from './in-process-tokenizer';

const MODEL = 'Qwen/Qwen3-32B';

describe('InProcessTokenizer', () => {
  let server: TokenizerServer;
  let client: TokenizerClient;
  const inProcess = new InProcessTokenizer(new TokenizerModelsConfig());

  beforeAll(async () => {
    const socketPath = join(mkdtempSync(join(tmpdir(), 'kvr-tok-')), 'tokenizer.sock');
    server = await startTokenizerServer({
      backend: localBackend(new TokenizerRegistry(registryOptionsFromSettings(new TokenizerModelsConfig()))),
      socketPath,
      maxMessageBytes: 16 * 1024 * 1024,
      logger: createLogger({ app: 'test', level: 'silent' }),
      registry: new Registry(),
    });
    client = new TokenizerClient({ target: `unix://${socketPath}` });
  });

  afterAll(async () => {
    client.close();
    inProcess.close();
    await server.stop();
  });

  it('gives the ids the tokenizer service gives, for a completion and a chat', async () => {
    const prompt = `Shared system prefix ${'über café 東京 '.repeat(200)}\nfunction f(x) { return x * 2; }`;
    const fromService = await client.renderCompletion(MODEL, prompt);
    expect(fromService.length).toBeGreaterThan(1_000);
    expect(await inProcess.renderCompletion(MODEL, prompt)).toEqual(fromService);

    const chat = { messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: prompt }], chatTemplateKwargs: { enable_thinking: false } };
    expect((await inProcess.renderChat(MODEL, chat)).tokenIds).toEqual((await client.renderChat(MODEL, chat)).tokenIds);
  });

  it('fails an unknown model and a broken template with the codes the service answers', async () => {
    const codeOf = (work: Promise<unknown>) => work.then(() => 'resolved', (err: unknown) => (err instanceof BackendError ? err.code : `not a BackendError: ${String(err)}`));
    expect(await codeOf(inProcess.renderCompletion('nobody/no-such-model', 'hi'))).toBe(await codeOf(client.renderCompletion('nobody/no-such-model', 'hi')));
    expect(await codeOf(inProcess.renderCompletion('nobody/no-such-model', 'hi'))).toBe('not_found');
    const broken = { messages: [{ role: 'user', content: 'hi' }], chatTemplate: '{% for m in messages %}{{ m.content }' };
    expect(await codeOf(inProcess.renderChat(MODEL, broken))).toBe('invalid_argument');
    expect(await codeOf(client.renderChat(MODEL, broken))).toBe('invalid_argument');
  });

  it('connect() loads the preload list and the served models, and says false when a model is missing', async () => {
    const models = (preload: string[]) => Object.assign(new TokenizerModelsConfig(), { preload });
    const ok = new InProcessTokenizer(models([MODEL]));
    const missing = new InProcessTokenizer(models([MODEL, 'nobody/no-such-model']));
    expect(await ok.connect()).toBe(true);
    expect(await missing.connect()).toBe(false);
    // The models the fleet serves are loaded too, and a missing one is reported the same way.
    expect(await new InProcessTokenizer(models([])).connect([MODEL])).toBe(true);
    expect(await new InProcessTokenizer(models([])).connect(['nobody/no-such-model'])).toBe(false);
  });
});
