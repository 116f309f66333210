// Render + tokenize cost for the benchmark workload (upstream-spec §5.3, inference-perf shared_prefix):
// a ~6,000-token shared system prompt + a unique ~1,200-token question, built the way the generator
// builds them (random non-special Qwen3 ids, decoded). Cold = chunk cache off; warm = the shared
// prefix's chunks are cached and only the question is encoded.
import { createPrng, type BenchSuite } from '@kvr/testing';
import type { HfModelTokenizer } from '../src/index';
import { TokenizerRegistry } from '../src/index';

const MODEL = 'Qwen/Qwen3-32B';
const VOCAB = 151_643; // Qwen3 ids below the first added token
const SHARED_TOKENS = 6_000;
const QUESTION_TOKENS = 1_200;
const QUESTIONS = 1_024; // > ops per case, so no question repeats within a run

let cold: HfModelTokenizer;
let warm: HfModelTokenizer;
let shared = '';
const questions: string[] = [];
let completionTokens = 0;
let chatTokens = 0;
let next = { chatCold: 0, chatWarm: 0, completionCold: 0, completionWarm: 0 };

function randomIds(prng: ReturnType<typeof createPrng>, n: number): number[] {
  return Array.from({ length: n }, () => prng.int(VOCAB));
}

const chat = (tok: HfModelTokenizer, i: number) =>
  tok.renderChat({ messages: [{ role: 'system', content: shared }, { role: 'user', content: questions[i % QUESTIONS]! }] });
const completion = (tok: HfModelTokenizer, i: number) => tok.renderCompletion(shared + questions[i % QUESTIONS]!);

const suite: BenchSuite = {
  title: 'tokenization: render + tokenize a 7.2k-token prompt (6k shared prefix + 1.2k unique question, Qwen3)',
  baseline: 'raw encode, whole text (@huggingface/tokenizers)',
  notes:
    'Qwen3 built-in tokenizer. Baseline: @huggingface/tokenizers 0.2.0 encode (the reference). Our encoder (fast byte-level BPE, ' +
    'ids proven equal) in three states: "first sight" clears every cache (chunks and BPE words) before each call; "cold" has the ' +
    'chunk cache off but keeps the word cache (the shared prefix’s words repeat); "warm" has the shared 6k-token prefix’s chunks ' +
    'cached. Every call brings a question not seen before. Chat adds the Qwen3 template render (Python-corrected @huggingface/jinja ' +
    '0.5.11). Completion text = decode(shared ids) + decode(question ids), as inference-perf v0.6 builds it.',
  timeMs: 1500,
  setup: async () => {
    cold = await new TokenizerRegistry({ builtinModels: true, encodeCache: false, hfHome: '/nonexistent-kvr-bench' }).get(MODEL);
    warm = await new TokenizerRegistry({ builtinModels: true, hfHome: '/nonexistent-kvr-bench' }).get(MODEL);
    const prng = createPrng(2026);
    const decode = (ids: number[]) => warm.encoder.tokenizer.decode(ids, { skip_special_tokens: true });
    shared = decode(randomIds(prng, SHARED_TOKENS));
    for (let i = 0; i < QUESTIONS; i++) questions.push(decode(randomIds(prng, QUESTION_TOKENS)));
    completionTokens = completion(cold, 0).length;
    chatTokens = chat(cold, 0).tokenIds.length;
    // Warm the shared prefix once (a different question than any measured call uses first).
    chat(warm, QUESTIONS - 1);
    completion(warm, QUESTIONS - 1);
    next = { chatCold: 0, chatWarm: 0, completionCold: 0, completionWarm: 0 };
    // Throughput in the prompt's real token count (re-encoding decoded random ids is not 1:1).
    for (const c of suite.cases) c.unitsPerOp = c.name.startsWith('chat') ? chatTokens : completionTokens;
  },
  cases: [
    {
      name: 'raw encode, whole text (@huggingface/tokenizers)',
      fn: () => cold.encoder.encodeUncached(shared + questions[next.completionCold++ % QUESTIONS]!, true),
      unitsPerOp: SHARED_TOKENS + QUESTION_TOKENS,
      unit: 'tokens',
    },
    {
      name: 'completion, first sight (all caches cleared per call)',
      fn: () => {
        cold.encoder.clearCaches();
        return completion(cold, next.completionCold++);
      },
      unitsPerOp: SHARED_TOKENS + QUESTION_TOKENS,
      unit: 'tokens',
    },
    { name: 'completion, cold (chunk cache off)', fn: () => completion(cold, next.completionCold++), unitsPerOp: SHARED_TOKENS + QUESTION_TOKENS, unit: 'tokens' },
    { name: 'completion, warm shared prefix', fn: () => completion(warm, next.completionWarm++), unitsPerOp: SHARED_TOKENS + QUESTION_TOKENS, unit: 'tokens' },
    { name: 'chat render + tokenize, cold (chunk cache off)', fn: () => chat(cold, next.chatCold++), unitsPerOp: SHARED_TOKENS + QUESTION_TOKENS, unit: 'tokens' },
    { name: 'chat render + tokenize, warm shared prefix', fn: () => chat(warm, next.chatWarm++), unitsPerOp: SHARED_TOKENS + QUESTION_TOKENS, unit: 'tokens' },
  ],
};

export default suite;

