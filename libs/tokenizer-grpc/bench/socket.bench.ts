// Tokenizer service latency through the unix socket, as the gateway sees it: `kvr tokenizer`
// runs as its own process (as the sidecar does), this process is the gRPC client. Request shape
// of the benchmark workload: a ~6,000-token shared system prompt plus a ~1,200-token unique
// question (upstream-spec §5.3), rendered through the Qwen3 chat template. "cold" makes every
// system prompt unique, so no prefix cache can help; "warm" shares it, as a real fleet does.
// Prompts are generated before measuring, so only the call is timed.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import http2 from 'node:http2';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPrng, SERVICE_V8_FLAGS, startApp, startBenchScript, type AppProcess, type BenchSuite } from '@kvr/testing';
import { TokenizerClient } from '../src/index';
import { tokenizerProto } from '../src/proto';

const MODEL = 'Qwen/Qwen3-32B';
const WORDS = ['cache', 'block', 'router', 'prefix', 'token', 'latency', 'pod', 'index', 'stream', 'event', 'model', 'request', 'the', 'of', 'and', 'to', 'in', 'GPU', 'Kubernetes', 'shared'];
const prng = createPrng(2026);
// Every call brings a question never seen before (the target's "unique 1.2k-token question"): the
// pool outlasts the most calls the three cases make at this machine's speed (3 s each plus
// warm-up, below 1,000 calls/s), and running out fails the suite instead of recycling questions,
// which the chunk cache would then serve warm.
const POOL = 12_000;

/** About `tokens` tokens of English-like text (roughly one token per word here). */
function text(tokens: number, tag: string): string {
  const words: string[] = [tag];
  for (let i = 0; i < tokens; i++) words.push(prng.pick(WORDS));
  return words.join(' ');
}

const sharedSystem = text(6_000, 'system');
const questions = Array.from({ length: POOL }, (_, i) => text(1_200, `question-${i}`));
function nextQuestion(): string {
  if (turn >= POOL) throw new Error(`the bench ran out of unique questions after ${POOL} calls; raise POOL`);
  return questions[turn++]!;
}
// Enough distinct system prompts that none repeats within a run (the chunk cache is
// content-addressed, so a repeated prompt would be warm).
const COLD_POOL = 1_500;
const coldSystems = Array.from({ length: COLD_POOL }, (_, i) => text(6_000, `system-${i}`));
let coldTurn = 0;
let app: AppProcess | undefined;
let client: TokenizerClient;
let turn = 0;
let floor: ChildProcess | undefined;
let floorClient: TokenizerClient;
let floorTurn = 0;
let bareSession: http2.ClientHttp2Session;
let bareRequest: Buffer;

/**
 * The floor servers (bench/floor-server.ts) in a process of its own, with the V8 flags the apps
 * run with: gRPC answering `ids` stored token ids, bare HTTP/2 answering `answerBytes` bytes.
 * Resolves with both sockets once they listen.
 */
async function startFloorServer(dir: string, ids: number, answerBytes: number): Promise<{ grpc: string; http2: string }> {
  const sockets = { grpc: join(dir, 'floor.sock'), http2: join(dir, 'floor-h2.sock') };
  const { child, lines } = startBenchScript(join(__dirname, 'floor-server.ts'), [sockets.grpc, String(ids), sockets.http2, String(answerBytes)], { v8Flags: SERVICE_V8_FLAGS });
  floor = child;
  process.once('exit', () => floor?.kill('SIGKILL'));
  const first = await lines.next();
  if (first.done || first.value !== 'ready') throw new Error(`the floor server did not start (${String(first.value)})`);
  return sockets;
}

let bareAnswerBytes = 0;

/** One bare HTTP/2 exchange: post `body`, read the whole answer (rejects unless it is all there). */
function bareExchange(body: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const stream = bareSession.request({ ':method': 'POST', ':path': '/floor', 'content-type': 'application/octet-stream' });
    let status = 0;
    let received = 0;
    stream.once('response', (headers) => (status = Number(headers[':status'])));
    stream.on('data', (chunk: Buffer) => (received += chunk.length));
    stream.once('end', () => (status === 200 && received === bareAnswerBytes ? resolve() : reject(new Error(`bare HTTP/2 floor answered ${status} with ${received} of ${bareAnswerBytes} bytes`))));
    stream.once('error', reject);
    stream.end(body);
  });
}

const chatRequest = (system: string, question: string) => ({ messages: [{ role: 'system', content: system }, { role: 'user', content: question }], chatTemplateKwargs: { enable_thinking: false } });

const chat = (system: string, question: string): Promise<{ tokenIds: number[] }> => client.renderChat(MODEL, chatRequest(system, question));

const suite: BenchSuite = {
  title: 'tokenizer service: 7k-token chat prompt through the unix socket',
  baseline: 'cold: unique 6k system prompt + 1.2k question',
  notes:
    'Cold = every system prompt is new text (no prefix cache can help). RenderChatCompletion from this process to `kvr tokenizer` in another process over a unix socket (the sidecar layout). Warm = the 6k-token system prompt is shared by every request (prefix caches hit), every request brings a 1.2k-token question never seen before (none repeats within the run). Target: warm p99 ≤ 3 ms. Floor = the same request to the service\u2019s own gRPC server in another process, whose backend answers stored ids of the real answer\u2019s length without any work: what a call of this size costs on this machine before tokenizing anything. The empty call is what any gRPC call costs; bare HTTP/2 sends the chat call\u2019s serialized request and answer bytes between the same two processes through `node:http2` without gRPC.',
  timeMs: 3_000,
  setup: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvr-tok-bench-'));
    app = await startApp('tokenizer', ['--socket', join(dir, 'tok.sock'), '--probe-port', '0'], { env: { KVR_LOG_LEVEL: 'warn', KVR_MODELS__PRELOAD: MODEL } });
    process.once('exit', () => app?.child.kill('SIGKILL'));
    client = new TokenizerClient({ target: String(app.listen['grpc']), timeoutMs: 30_000 });
    const { tokenIds } = await chat(sharedSystem, nextQuestion()); // warm the shared prefix
    // The bare HTTP/2 row carries the bytes the gRPC call carries: the serialized request and answer.
    const method = tokenizerProto().tokenization.TokenizationService.service.RenderChatCompletion;
    bareRequest = method.requestSerialize({ model_name: MODEL, messages: chatRequest(sharedSystem, questions[0]!).messages, chat_template_kwargs: '{"enable_thinking":false}' });
    const answer = method.responseSerialize({ request_id: `chatcmpl-${'0'.repeat(36)}`, token_ids: tokenIds, features: { mm_hashes: {}, mm_placeholders: {} }, success: true, error_message: '' });
    bareAnswerBytes = answer.length;
    const sockets = await startFloorServer(dir, tokenIds.length, answer.length);
    floorClient = new TokenizerClient({ target: sockets.grpc, timeoutMs: 30_000 });
    bareSession = http2.connect('http://floor', { createConnection: () => connect(sockets.http2) });
    process.once('exit', () => bareSession.destroy());
    await bareExchange(bareRequest);
  },
  cases: [
    { name: 'cold: unique 6k system prompt + 1.2k question', fn: () => chat(coldSystems[coldTurn++ % COLD_POOL]!, nextQuestion()), unitsPerOp: 7_200, unit: 'tokens' },
    { name: 'warm: shared 6k system prompt + unique 1.2k question', fn: () => chat(sharedSystem, nextQuestion()), unitsPerOp: 7_200, unit: 'tokens' },
    { name: 'warm completion: shared 6k prefix + unique 1.2k tail', fn: () => client.renderCompletion(MODEL, `${sharedSystem} ${nextQuestion()}`), unitsPerOp: 7_200, unit: 'tokens' },
    {
      name: 'floor: the same chat call to a server that does no tokenization work',
      fn: () => floorClient.renderChat(MODEL, chatRequest(sharedSystem, questions[floorTurn++ % POOL]!)),
      unitsPerOp: 7_200,
      unit: 'tokens',
    },
    // What any call costs, whatever it carries: an empty conversation answered with one id.
    { name: 'floor: an empty call to the same server (no messages, one id back)', fn: () => floorClient.renderChat(MODEL, { messages: [] }) },
    { name: 'floor: the chat call\u2019s bytes over bare HTTP/2 (node:http2, no gRPC)', fn: () => bareExchange(bareRequest), unitsPerOp: 7_200, unit: 'tokens' },
  ],
};

export default suite;
