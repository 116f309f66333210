// Tokenizer service latency through the unix socket, as the gateway sees it: `kvr tokenizer`
// runs as its own process (as the sidecar does), this process is the gRPC client. Request shape
// of the benchmark workload: a ~6,000-token shared system prompt plus a ~1,200-token unique
// question (upstream-spec §5.3), rendered through the Qwen3 chat template. "cold" makes every
// system prompt unique, so no prefix cache can help; "warm" shares it, as a real fleet does.
// Prompts are generated before measuring, so only the call is timed.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPrng, SERVICE_V8_FLAGS, startApp, startBenchScript, type AppProcess, type BenchSuite } from '@kvr/testing';
import { TokenizerClient } from '../src/index';

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

/**
 * The floor server (bench/floor-server.ts) in a process of its own, with the V8 flags the apps
 * run with, answering `ids` stored token ids; resolves with its socket once it listens.
 */
async function startFloorServer(dir: string, ids: number): Promise<string> {
  const socket = join(dir, 'floor.sock');
  const { child, lines } = startBenchScript(join(__dirname, 'floor-server.ts'), [socket, String(ids)], { v8Flags: SERVICE_V8_FLAGS });
  floor = child;
  process.once('exit', () => floor?.kill('SIGKILL'));
  const first = await lines.next();
  if (first.done || first.value !== 'ready') throw new Error(`the floor server did not start (${String(first.value)})`);
  return socket;
}

const chat = (system: string, question: string): Promise<{ tokenIds: number[] }> =>
  client.renderChat(MODEL, { messages: [{ role: 'system', content: system }, { role: 'user', content: question }], chatTemplateKwargs: { enable_thinking: false } });

const suite: BenchSuite = {
  title: 'tokenizer service: 7k-token chat prompt through the unix socket',
  baseline: 'cold: unique 6k system prompt + 1.2k question',
  notes:
    'Cold = every system prompt is new text (no prefix cache can help). RenderChatCompletion from this process to `kvr tokenizer` in another process over a unix socket (the sidecar layout). Warm = the 6k-token system prompt is shared by every request (prefix caches hit), every request brings a 1.2k-token question never seen before (none repeats within the run). Target: warm p99 ≤ 3 ms. Floor = the same request to the service\u2019s own gRPC server in another process, whose backend answers stored ids of the real answer\u2019s length without any work: what a call of this size costs on this machine before tokenizing anything.',
  timeMs: 3_000,
  setup: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvr-tok-bench-'));
    app = await startApp('tokenizer', ['--socket', join(dir, 'tok.sock'), '--probe-port', '0'], { env: { KVR_LOG_LEVEL: 'warn', KVR_MODELS__PRELOAD: MODEL } });
    process.once('exit', () => app?.child.kill('SIGKILL'));
    client = new TokenizerClient({ target: String(app.listen['grpc']), timeoutMs: 30_000 });
    const { tokenIds } = await chat(sharedSystem, nextQuestion()); // warm the shared prefix
    floorClient = new TokenizerClient({ target: await startFloorServer(dir, tokenIds.length), timeoutMs: 30_000 });
  },
  cases: [
    { name: 'cold: unique 6k system prompt + 1.2k question', fn: () => chat(coldSystems[coldTurn++ % COLD_POOL]!, nextQuestion()), unitsPerOp: 7_200, unit: 'tokens' },
    { name: 'warm: shared 6k system prompt + unique 1.2k question', fn: () => chat(sharedSystem, nextQuestion()), unitsPerOp: 7_200, unit: 'tokens' },
    { name: 'warm completion: shared 6k prefix + unique 1.2k tail', fn: () => client.renderCompletion(MODEL, `${sharedSystem} ${nextQuestion()}`), unitsPerOp: 7_200, unit: 'tokens' },
    {
      name: 'floor: the same chat call to a server that does no tokenization work',
      fn: () =>
        floorClient.renderChat(MODEL, { messages: [{ role: 'system', content: sharedSystem }, { role: 'user', content: questions[floorTurn++ % POOL]! }], chatTemplateKwargs: { enable_thinking: false } }),
      unitsPerOp: 7_200,
      unit: 'tokens',
    },
  ],
};

export default suite;
