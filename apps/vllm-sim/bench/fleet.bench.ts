// How fast a simulated fleet starts, and what CPU it needs under the benchmark's request shape.
// `kvr sim` runs as its own process (as in the demo); this process only generates load.
//
// Start: spawn to ready line of `kvr sim --pods N`, median of 3, for 1 and 8 pods (the 1-pod
// row is the same-run reference: tokenizer load and Node start dominate it).
// Load: 8 pods at GPU speed (time scale 1), 50 req/s for 10 s after a 3 s warm-up, streamed
// /v1/completions with a ~7,200-token text prompt (6,000-token group prefix + 1,200-token
// question, upstream-spec §5.3) and 64 output tokens; request i goes to pod i mod 8 with
// group = pod, i.e. ideal prefix-aware routing, so pods run warm as under the real router.
// CPU = utime + stime of the sim process from /proc over the measured window.
import { createPrng, processCpuSeconds, startSimFleet, type ScenarioRow, type ScenarioSuite, type SimFleet } from '@kvr/testing';

const PODS = 8;
const RATE = 50;
const WARMUP_S = 3;
const MEASURE_S = 10;
const WORDS = ['cache', 'block', 'router', 'prefix', 'token', 'latency', 'pod', 'index', 'stream', 'event', 'model', 'request', 'the', 'of', 'and', 'to', 'in', 'GPU', 'shared', 'queue'];
const prng = createPrng(7);
const words = (n: number): string => Array.from({ length: n }, () => prng.pick(WORDS)).join(' ');
const ENV = { KVR_NO_BUILD: '1', KVR_LOG_LEVEL: 'warn' };

async function medianStartSeconds(pods: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    const fleet = await startSimFleet({ pods, timeScale: 1, env: ENV });
    times.push((performance.now() - started) / 1000);
    await fleet.stop();
  }
  return times.sort((a, b) => a - b)[1] as number;
}

interface Outcome {
  ttftMs: number;
  cachedTokens: number;
  promptTokens: number;
}

async function streamOne(url: string, prompt: string): Promise<Outcome> {
  const started = performance.now();
  const res = await fetch(`${url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'Qwen/Qwen3-32B', prompt, max_tokens: 64, ignore_eos: true, stream: true, stream_options: { include_usage: true } }),
  });
  if (!res.body) throw new Error(`no body: ${res.status}`);
  let ttftMs = Number.NaN;
  let text = '';
  const decoder = new TextDecoder();
  for await (const part of res.body) {
    if (Number.isNaN(ttftMs)) ttftMs = performance.now() - started;
    text += decoder.decode(part as Uint8Array, { stream: true });
  }
  const usageLine = text.split('\n\n').find((event) => event.includes('"usage"'));
  const usage = usageLine ? (JSON.parse(usageLine.slice(6)) as { usage: { prompt_tokens: number; prompt_tokens_details: { cached_tokens: number } } }).usage : null;
  return { ttftMs, cachedTokens: usage?.prompt_tokens_details.cached_tokens ?? 0, promptTokens: usage?.prompt_tokens ?? 0 };
}

async function load(fleet: SimFleet): Promise<{ cores: number; completed: number; outcomes: Outcome[] }> {
  const pid = fleet.process.child.pid as number;
  const prefixes = fleet.pods.map((_, g) => `group ${g}: ${words(6_000)}`);
  const inFlight: Promise<void>[] = [];
  const measured: Outcome[] = [];
  const total = RATE * (WARMUP_S + MEASURE_S);
  // Every request has its own question, as on a first pass over the benchmark's prompts.
  const questions = Array.from({ length: total }, (_, q) => `question ${q}: ${words(1_200)}`);
  const t0 = performance.now();
  let cpuStart = 0;
  let cpuEnd = 0;
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    if (i === RATE * WARMUP_S) cpuStart = processCpuSeconds(pid);
    const pod = i % PODS;
    const inWindow = i >= RATE * WARMUP_S;
    inFlight.push(streamOne(fleet.pods[pod]!.http, `${prefixes[pod]} ${questions[i]}`).then((outcome) => void (inWindow && measured.push(outcome))));
  }
  const windowEnd = t0 + (total * 1000) / RATE;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, windowEnd - performance.now())));
  cpuEnd = processCpuSeconds(pid);
  await Promise.all(inFlight);
  return { cores: (cpuEnd - cpuStart) / MEASURE_S, completed: measured.length, outcomes: measured };
}

const suite: ScenarioSuite = {
  kind: 'scenario',
  title: 'vllm-sim: fleet start time and CPU at 50 req/s',
  notes:
    'Start = spawn of `kvr sim --pods N` to its ready line (median of 3; one process, pods share the loaded tokenizer). Load = 8 pods at GPU speed, 50 req/s of streamed 7.2k-token text completions with 64 output tokens, ideal prefix routing; CPU of the sim process over 10 s after a 3 s warm-up. TTFT and cached share are client-side context for the latency model, not targets.',
  async run(): Promise<ScenarioRow[]> {
    const start1 = await medianStartSeconds(1);
    const start8 = await medianStartSeconds(PODS);
    const fleet = await startSimFleet({ pods: PODS, timeScale: 1, env: ENV });
    try {
      const { cores, completed, outcomes } = await load(fleet);
      const ttfts = outcomes.map((o) => o.ttftMs).sort((a, b) => a - b);
      const cached = outcomes.reduce((s, o) => s + o.cachedTokens, 0) / Math.max(1, outcomes.reduce((s, o) => s + o.promptTokens, 0));
      const promptTokens = outcomes.reduce((s, o) => s + o.promptTokens, 0) / Math.max(1, outcomes.length);
      return [
        { name: 'start, 1 pod (reference)', value: start1, unit: 's' },
        { name: `start, ${PODS} pods`, value: start8, unit: 's', target: '< 5 s', met: start8 < 5 },
        { name: `start, ${PODS} pods ÷ 1 pod`, value: start8 / start1, unit: '×' },
        { name: `fleet CPU at ${RATE} req/s`, value: cores, unit: 'cores', target: '< 1 core', met: cores < 1 },
        { name: 'CPU per request', value: (cores * 1000) / RATE, unit: 'ms' },
        { name: 'requests completed in the window', value: completed, unit: `of ${RATE * MEASURE_S}` },
        { name: 'mean prompt tokens', value: promptTokens, unit: 'tokens' },
        { name: 'prompt tokens served from the prefix cache', value: cached * 100, unit: '%' },
        { name: 'TTFT p50 (client)', value: ttfts[Math.floor(ttfts.length / 2)] ?? Number.NaN, unit: 'ms' },
        { name: 'TTFT p99 (client)', value: ttfts[Math.floor(ttfts.length * 0.99)] ?? Number.NaN, unit: 'ms' },
      ];
    } finally {
      await fleet.stop();
    }
  },
};

export default suite;
