// real: kvctl's main() in-process, a node:http server on a free port playing the gateway's
// POST /debug/route; mock: the gateway's answers (a fixed explanation or an error body).
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { SCORERS, type RouteExplanation } from '@kvr/scoring';
import type { CommandIo } from './io';
import { main } from './main';

const EXPLANATION: RouteExplanation = {
  requestId: 'req-1',
  model: 'Qwen/Qwen3-32B',
  promptTokens: 130,
  requestBlocks: 2,
  cold: false,
  scorers: [
    { scorer: SCORERS.precisePrefix, weight: 3, status: 'ok', latencyMs: 1.2 },
    { scorer: SCORERS.kvCacheUtilization, weight: 2, status: 'ok' },
    { scorer: SCORERS.queueSize, weight: 2, status: 'failed', reason: 'deadline_exceeded' },
  ],
  pods: [
    { pod: '10.0.0.1:8000', total: 4.5, scores: { 'precise-prefix': 1, 'kv-cache-utilization': 0.75 }, matchedBlocks: 2, details: { 'kv-cache-utilization': 'kv_usage=0.25' } },
    { pod: '10.0.0.2:8000', total: 1, scores: { 'precise-prefix': 0, 'kv-cache-utilization': 0.5 }, matchedBlocks: 0, details: { 'kv-cache-utilization': 'kv_usage=0.5' } },
  ],
  chosen: '10.0.0.1:8000',
  predictedCachedBlocks: 2,
  fallbacks: ['queue-size:deadline_exceeded'],
};

interface Received {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: unknown;
}

interface Answer {
  status: number;
  body: string;
}

/** A stand-in gateway: records each request, answers with `answer` (the explanation by default). */
class FakeGateway {
  readonly received: Received[] = [];
  answer: Answer | 'hang' = { status: 200, body: JSON.stringify(EXPLANATION) };
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let text = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (text += chunk));
      req.on('end', () => {
        let body: unknown = text;
        try {
          body = JSON.parse(text) as unknown;
        } catch {
          // keep the raw text: the test then fails on it
        }
        this.received.push({ method: req.method, url: req.url, headers: req.headers, body });
        if (this.answer === 'hang') return;
        res.writeHead(this.answer.status, { 'content-type': 'application/json' });
        res.end(this.answer.body);
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
  }
}

/** A buffer that collects what a command writes. */
function sink(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      text += chunk.toString();
      callback();
    },
  });
  return { stream, text: () => text };
}

/** Runs `kvctl <args>` in-process with only `env` as the environment (no KVR_* of the developer's). */
async function kvctl(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = sink();
  const stderr = sink();
  const io: CommandIo = { stdout: stdout.stream, stderr: stderr.stream, env };
  const code = await main(args, io);
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

describe('kvctl explain', () => {
  const gateway = new FakeGateway();

  beforeAll(() => gateway.start());
  afterAll(() => gateway.stop());

  beforeEach(() => {
    gateway.received.length = 0;
    gateway.answer = { status: 200, body: JSON.stringify(EXPLANATION) };
  });

  it('is listed in the help', async () => {
    const result = await kvctl(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ {2}explain +Asks the gateway/m);
    const help = await kvctl(['explain', '--help']);
    expect(help.code).toBe(0);
    for (const flag of ['--gateway URL', '--model NAME', '--prompt TEXT', '--messages JSON', '--token TOKEN', '--json']) expect(help.stdout).toContain(flag);
  });

  it('posts {model, prompt} with the bearer token and prints the table, chosen pod marked', async () => {
    const result = await kvctl(['explain', '--gateway', gateway.url, '--model', 'Qwen/Qwen3-32B', '--prompt', 'Hello there', '--token', 'sekret']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(gateway.received).toHaveLength(1);
    const [request] = gateway.received;
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe('/debug/route');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['authorization']).toBe('Bearer sekret');
    expect(request?.body).toEqual({ model: 'Qwen/Qwen3-32B', prompt: 'Hello there' });
    expect(result.stdout).toContain('* 10.0.0.1:8000');
    expect(result.stdout).toMatch(/^ {2}10\.0\.0\.2:8000 /m);
    expect(result.stdout).toMatch(/precise-prefix×3/);
    expect(result.stdout).toContain('chosen 10.0.0.1:8000  predicted cached blocks 2');
    expect(result.stdout).toContain('queue-size: failed (deadline_exceeded)');
    expect(result.stdout).toContain('fallbacks: queue-size:deadline_exceeded');
  });

  it('posts {model, messages} with the token from KVR_ADMIN_TOKEN and prints the JSON with --json', async () => {
    const messages = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hi' },
    ];
    const result = await kvctl(['explain', '--model', 'm', '--messages', JSON.stringify(messages), '--json'], { KVR_GATEWAY: `${gateway.url}/`, KVR_ADMIN_TOKEN: 'from-env' });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(gateway.received[0]?.url).toBe('/debug/route');
    expect(gateway.received[0]?.headers['authorization']).toBe('Bearer from-env');
    expect(gateway.received[0]?.body).toEqual({ model: 'm', messages });
    expect(JSON.parse(result.stdout)).toEqual(EXPLANATION);
    expect(result.stdout).toContain('\n  "requestId": "req-1"');
  });

  it('sends no Authorization header without a token, and --token wins over KVR_ADMIN_TOKEN', async () => {
    expect((await kvctl(['explain', '--gateway', gateway.url, '--model', 'm', '--prompt', 'x'])).code).toBe(0);
    expect(gateway.received[0]?.headers['authorization']).toBeUndefined();
    expect((await kvctl(['explain', '--gateway', gateway.url, '--model', 'm', '--prompt', 'x', '--token', 'flag'], { KVR_ADMIN_TOKEN: 'env' })).code).toBe(0);
    expect(gateway.received[1]?.headers['authorization']).toBe('Bearer flag');
  });

  it('prints the message of an error body and exits 1', async () => {
    gateway.answer = {
      status: 404,
      body: JSON.stringify({ error: { message: 'The model `nope` does not exist or no pod serves it.', type: 'invalid_request_error', param: 'model', code: 'model_not_found' } }),
    };
    const result = await kvctl(['explain', '--gateway', gateway.url, '--model', 'nope', '--prompt', 'x']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('error: The model `nope` does not exist or no pod serves it.\n');
  });

  it('exits 1 with the status when an error answer is not an OpenAI error body, or a 200 is not an explanation', async () => {
    gateway.answer = { status: 502, body: 'Bad Gateway' };
    const bad = await kvctl(['explain', '--gateway', gateway.url, '--model', 'm', '--prompt', 'x']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('error: the gateway answered 502: Bad Gateway\n');
    gateway.answer = { status: 200, body: '{"status":"ok"}' };
    const odd = await kvctl(['explain', '--gateway', gateway.url, '--model', 'm', '--prompt', 'x']);
    expect(odd.code).toBe(1);
    expect(odd.stderr).toContain('is not a route explanation');
  });

  it('names the URL when the gateway refuses the connection', async () => {
    const gone = new FakeGateway();
    await gone.start();
    await gone.stop();
    const result = await kvctl(['explain', '--gateway', gone.url, '--model', 'm', '--prompt', 'x']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot reach the gateway at ${gone.url}/debug/route`);
    expect(result.stderr).toContain('ECONNREFUSED');
  });

  it('gives up after --timeout', async () => {
    gateway.answer = 'hang';
    const result = await kvctl(['explain', '--gateway', gateway.url, '--model', 'm', '--prompt', 'x', '--timeout', '200']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`no answer from the gateway at ${gateway.url}/debug/route within 200 ms`);
  });

  it.each([
    ['no --prompt or --messages', ['--model', 'm'], 'give exactly one of --prompt or --messages'],
    ['both --prompt and --messages', ['--model', 'm', '--prompt', 'x', '--messages', '[]'], 'not both'],
    ['no --model', ['--prompt', 'x'], '--model is required'],
    ['--messages not JSON', ['--model', 'm', '--messages', '[{"role":'], '--messages is not valid JSON'],
    ['--messages not an array', ['--model', 'm', '--messages', '{"role":"user","content":"hi"}'], '--messages must be a JSON array of {role, content} objects, not object'],
    ['--messages items not objects', ['--model', 'm', '--messages', '[{"role":"user","content":"hi"},"hi",3]'], 'item(s) 1, 2 are not objects'],
    ['an unknown flag', ['--model', 'm', '--prompt', 'x', '--promt', 'y'], "Unknown option '--promt'"],
    ['a bad --timeout', ['--model', 'm', '--prompt', 'x', '--timeout', 'soon'], '--timeout must be a positive number'],
    ['a bad --gateway', ['--model', 'm', '--prompt', 'x', '--gateway', 'ftp://h'], 'gateway (from --gateway)'],
  ])('exits 2 for %s, without calling the gateway', async (_name, args, message) => {
    const result = await kvctl(['explain', '--gateway', gateway.url, ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stdout).toBe('');
    expect(gateway.received).toHaveLength(0);
  });
});
