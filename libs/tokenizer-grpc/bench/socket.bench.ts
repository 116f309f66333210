// Tokenizer service latency through the unix socket (gRPC client → server → in-process
// tokenization → back), for the benchmark's request shape: a ~6,000-token shared system prompt
// plus a ~1,200-token unique question (upstream-spec §5.3), rendered through the Qwen3 chat
// template. "cold" makes every system prompt unique, so no prefix cache can help; "warm" shares
// it, as a real fleet does.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, createMetricsRegistry } from '@kvr/telemetry';
import { createPrng, type BenchSuite } from '@kvr/testing';
import { TokenizerRegistry } from '@kvr/tokenization';
import { localBackend, startTokenizerServer, TokenizerClient } from '../src/index';

const MODEL = 'Qwen/Qwen3-32B';
const WORDS = ['cache', 'block', 'router', 'prefix', 'token', 'latency', 'pod', 'index', 'stream', 'event', 'model', 'request', 'the', 'of', 'and', 'to', 'in', 'GPU', 'Kubernetes', 'shared'];
const prng = createPrng(2026);

/** About `tokens` tokens of English-like text (roughly one token per word here). */
function text(tokens: number, tag: string): string {
  const words: string[] = [tag];
  for (let i = 0; i < tokens; i++) words.push(prng.pick(WORDS));
  return words.join(' ');
}

const sharedSystem = text(6_000, 'system');
let client: TokenizerClient;
let counter = 0;

const chat = (system: string): Promise<{ tokenIds: number[] }> =>
  client.renderChat(MODEL, {
    messages: [
      { role: 'system', content: system },
      { role: 'user', content: text(1_200, `question-${counter++}`) },
    ],
    chatTemplateKwargs: { enable_thinking: false },
  });

const suite: BenchSuite = {
  title: 'tokenizer service: 7k-token chat prompt through the unix socket',
  baseline: 'cold: unique 6k system prompt + 1.2k question',
  notes:
    'RenderChatCompletion over gRPC on a unix socket, server and client in one process (one core). Warm = the 6k-token system prompt is shared by every request (prefix caches hit), the 1.2k-token question is unique. Target: warm p99 ≤ 3 ms.',
  timeMs: 2_000,
  setup: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvr-tok-bench-'));
    const socketPath = join(dir, 'tok.sock');
    // Lives until the bench process exits.
    await startTokenizerServer({
      backend: localBackend(new TokenizerRegistry({})),
      socketPath,
      maxMessageBytes: 100 * 1024 * 1024,
      logger: createLogger({ app: 'bench', level: 'silent' }),
      registry: createMetricsRegistry({ app: 'bench', processMetrics: false }),
    });
    client = new TokenizerClient({ target: socketPath, timeoutMs: 30_000 });
    await chat(sharedSystem); // load the model and warm the shared prefix
  },
  cases: [
    { name: 'cold: unique 6k system prompt + 1.2k question', fn: () => chat(text(6_000, `system-${counter}`)), unitsPerOp: 7_200, unit: 'tokens' },
    { name: 'warm: shared 6k system prompt + unique 1.2k question', fn: () => chat(sharedSystem), unitsPerOp: 7_200, unit: 'tokens' },
    { name: 'warm completion: shared 6k prefix + unique 1.2k tail', fn: () => client.renderCompletion(MODEL, `${sharedSystem} ${text(1_200, `tail-${counter++}`)}`), unitsPerOp: 7_200, unit: 'tokens' },
  ],
};

export default suite;
