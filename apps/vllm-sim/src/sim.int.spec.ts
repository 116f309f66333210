/**
 * The simulated pod's HTTP side, in process. Real: HTTP server, Qwen3 tokenizer, engine, prom-client,
 * the official `openai` npm client, a Prometheus text parser. Mocked: nothing.
 */
import OpenAI from 'openai';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fetchMetrics } from '@kvr/testing';
import { loadRouterTokenizer, renderChatRequestIds } from './__fixtures__/render';
import { postJson, range, startTestPods, streamCompletion, type TestPods } from './__fixtures__/pods';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
interface Family {
  name: string;
  type: string;
  samples: Sample[];
}

/** /metrics parsed by prometheus_client's reference parser (system Python, python3-prometheus-client). */
async function scrape(baseUrl: string): Promise<{ families: Family[]; sample(name: string, labels?: Record<string, string>): number }> {
  const text = await fetchMetrics(baseUrl);
  const run = spawnSync('/usr/bin/python3', [join(__dirname, '..', 'fixtures', 'parse_metrics.py')], { input: text, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`prometheus_client could not parse /metrics: ${run.stderr}`);
  const families = JSON.parse(run.stdout) as Family[];
  return {
    families,
    sample(name, labels = {}) {
      const found = families.flatMap((f) => f.samples).find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
      if (!found) throw new Error(`no sample ${name} ${JSON.stringify(labels)}`);
      return found.value;
    },
  };
}

/** Quick read of one unlabelled-by-us gauge without spawning the parser (for tight polling). */
async function gauge(baseUrl: string, name: string): Promise<number> {
  const text = await fetchMetrics(baseUrl);
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : Number.NaN;
}

describe('vllm-sim HTTP API', () => {
  let fleet: TestPods;
  let base: string;
  let client: OpenAI;

  beforeAll(async () => {
    // GPU speed ÷ 2: simulated latencies (tens to hundreds of ms) dwarf HTTP and scheduling noise
    // on a loaded CI machine, so latency comparisons keep a wide margin.
    fleet = await startTestPods({ pods: 2, timeScale: 2 });
    await loadRouterTokenizer();
    base = fleet.pods[0]!.endpoints.http;
    client = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(() => fleet.stop());

  it('serves completions and chat to the official openai client, streaming and not', async () => {
    const completion = await client.completions.create({ model: 'Qwen/Qwen3-32B', prompt: 'The capital of France is', max_tokens: 5 });
    expect(completion.choices[0]!.text.trim().split(' ')).toHaveLength(5);
    expect(completion.choices[0]!.finish_reason).toBe('length');
    expect(completion.usage).toMatchObject({ completion_tokens: 5, total_tokens: completion.usage!.prompt_tokens + 5 });

    const defaultLength = await client.completions.create({ model: 'Qwen/Qwen3-32B', prompt: 'Count:' });
    expect(defaultLength.usage?.completion_tokens).toBe(16); // vLLM's max_tokens default

    const stream = await client.completions.create({ model: 'Qwen/Qwen3-32B', prompt: 'Once upon a time', max_tokens: 4, stream: true, stream_options: { include_usage: true } });
    const pieces: string[] = [];
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      if (chunk.choices[0]) pieces.push(chunk.choices[0].text);
      if (chunk.usage) usage = chunk.usage;
    }
    expect(pieces).toHaveLength(4);
    expect(usage?.completion_tokens).toBe(4);

    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'Name a colour.' },
    ];
    const chat = await client.chat.completions.create({ model: 'Qwen/Qwen3-32B', messages, max_tokens: 3 });
    expect(chat.choices[0]!.message).toMatchObject({ role: 'assistant' });
    expect(chat.choices[0]!.message.content!.trim().split(' ')).toHaveLength(3);
    // The pod tokenizes through the model's chat template exactly as the router will.
    expect(chat.usage?.prompt_tokens).toBe(renderChatRequestIds({ messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Name a colour.' }] }).length);

    const chatStream = await client.chat.completions.create({ model: 'Qwen/Qwen3-32B', messages, max_tokens: 3, stream: true, stream_options: { include_usage: true } });
    const deltas: string[] = [];
    let finish: string | null = null;
    for await (const chunk of chatStream) {
      const choice = chunk.choices[0];
      if (choice?.delta.content) deltas.push(choice.delta.content);
      if (choice?.finish_reason) finish = choice.finish_reason;
    }
    expect(deltas).toHaveLength(3);
    expect(finish).toBe('length');

    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['Qwen/Qwen3-32B']);
  });

  it('answers bad requests with OpenAI-style errors, and counts them', async () => {
    const cases: [unknown, number, RegExp][] = [
      ['{not json', 400, /Invalid JSON/],
      [[1, 2], 400, /JSON object/],
      [{ prompt: '' }, 400, /prompt cannot be empty/],
      [{ prompt: 5 }, 400, /prompt must be/],
      [{ prompt: 'x', max_tokens: 0 }, 400, /max_tokens must be at least 1/],
      [{ prompt: 'x', stream_options: { include_usage: true } }, 400, /stream=True/],
      [{ prompt: 'x', model: 'other/model' }, 404, /does not exist/],
      [{ prompt: range(1, 40_000), max_tokens: 2000 }, 400, /maximum context length is 40960 tokens/],
      [{ prompt: 'x', n: 2 }, 400, /n must be 1/],
    ];
    for (const [body, status, message] of cases) {
      const res = await postJson(`${base}/v1/completions`, body);
      expect({ body, status: res.status }).toEqual({ body, status });
      const error = res.json['error'] as { message: string; type: string; code: number };
      expect(error.message).toMatch(message);
      expect(error.code).toBe(status);
    }
    const chat = await postJson(`${base}/v1/chat/completions`, { messages: [{ role: 'user', content: 5 }] });
    expect(chat.status).toBe(400);
    const missing = await fetch(`${base}/v2/nothing`);
    expect(missing.status).toBe(404);
    const { families } = await scrape(base);
    const rejected = families.flatMap((f) => f.samples).filter((s) => s.name === 'kvr_sim_rejected_requests_total');
    expect(rejected.reduce((sum, s) => sum + s.value, 0)).toBe(cases.length + 2);
  });

  it('a request whose prefix is cached gets its first token much sooner than on a cold pod', async () => {
    const [warmPod, coldPod] = fleet.pods.map((pod) => pod.endpoints.http) as [string, string];
    const shared = range(1000, 6000);
    await streamCompletion(warmPod, { prompt: [...shared, ...range(50_000, 1200)], max_tokens: 2 });
    const request = { prompt: [...shared, ...range(60_000, 1200)], max_tokens: 2 };
    const warm = await streamCompletion(warmPod, request);
    const cold = await streamCompletion(coldPod, request);
    expect(warm.usage).toMatchObject({ prompt_tokens: 7200, prompt_tokens_details: { cached_tokens: 5952 } });
    expect(cold.usage).toMatchObject({ prompt_tokens: 7200, prompt_tokens_details: { cached_tokens: 0 } });
    // Simulated prefill: 7200 uncached tokens ≈ 612 ms vs 1248 ≈ 116 ms (÷ timeScale 2). The expected
    // ratio is ≈ 5×; asserting 2× leaves room for a loaded machine and still fails if cached tokens
    // were prefilled.
    expect(warm.firstTokenMs * 2).toBeLessThan(cold.firstTokenMs);
    const metrics = await scrape(warmPod);
    expect(metrics.sample('vllm:prefix_cache_hits_total')).toBe(5952);
    expect(metrics.sample('vllm:prefix_cache_queries_total')).toBeGreaterThanOrEqual(14_400);
  });

  it('answers POST /debug/lookup with the leading blocks of a prompt its cache holds now', async () => {
    const pod = fleet.pods[1]!.endpoints.http;
    const prompt = range(900_000, 4 * 64 + 10);
    expect((await postJson(`${pod}/v1/completions`, { prompt, max_tokens: 1 })).status).toBe(200);
    const lookup = async (ids: number[]): Promise<number> => {
      const res = await postJson(`${pod}/debug/lookup`, { prompt_token_ids: ids });
      expect(res.status).toBe(200);
      return res.json['cachedBlocks'] as number;
    };
    expect(await lookup(prompt)).toBe(4);
    // Shares two blocks, then differs.
    expect(await lookup([...prompt.slice(0, 2 * 64), ...range(950_000, 3 * 64)])).toBe(2);
    expect(await lookup(range(990_000, 4 * 64))).toBe(0);
    // The other pod never saw it.
    expect((await postJson(`${fleet.pods[0]!.endpoints.http}/debug/lookup`, { prompt_token_ids: prompt })).json['cachedBlocks']).toBe(0);
    expect((await postJson(`${pod}/debug/lookup`, { prompt_token_ids: 'nope' })).status).toBe(400);
  });

  it('exposes vLLM metric names that the reference Prometheus parser reads', async () => {
    await postJson(`${base}/v1/completions`, { prompt: 'metrics please', max_tokens: 2 });
    const metrics = await scrape(base);
    const model = { model_name: 'Qwen/Qwen3-32B', engine: '0' };
    const types = new Map(metrics.families.map((f) => [f.name, f.type]));
    for (const name of ['vllm:num_requests_waiting', 'vllm:num_requests_running', 'vllm:kv_cache_usage_perc']) {
      expect(types.get(name)).toBe('gauge');
      expect(metrics.sample(name, model)).toBe(0);
    }
    expect(types.get('vllm:prefix_cache_queries')).toBe('counter');
    expect(metrics.sample('vllm:prefix_cache_queries_total', model)).toBeGreaterThan(0);
    expect(metrics.sample('vllm:prefix_cache_hits_total', model)).toBeGreaterThanOrEqual(0);
    expect(metrics.sample('vllm:cache_config_info', { block_size: '64', num_gpu_blocks: '4802' })).toBe(1);
    expect(types.get('vllm:time_to_first_token_seconds')).toBe('histogram');
    expect(metrics.sample('vllm:time_to_first_token_seconds_count', model)).toBeGreaterThan(0);
    expect(metrics.sample('vllm:time_to_first_token_seconds_bucket', { ...model, le: '+Inf' })).toBe(metrics.sample('vllm:time_to_first_token_seconds_count', model));
  });

  it('queues requests and admits long prefills in chunks, slowing a running stream', async () => {
    // Slower pod (timeScale 2) so the queue lasts long enough to be scraped: steps with an
    // 8192-token prefill chunk take ≈ 350 ms, decode-only steps ≈ 6 ms.
    const slow = await startTestPods({ timeScale: 2 });
    try {
      const pod = slow.pods[0]!.endpoints.http;
      let decoding!: () => void;
      const firstToken = new Promise<void>((resolve) => (decoding = resolve));
      const background = streamCompletion(pod, { prompt: range(200_000, 100), max_tokens: 300 }, decoding);
      // Handled here too, so that a failed expectation below (the pods then stop and the stream
      // breaks) is reported as this test's failure, not as an unhandled rejection of the run.
      background.catch(() => undefined);
      await firstToken;
      const longs = Array.from({ length: 4 }, (_, i) => postJson(`${pod}/v1/completions`, { prompt: range(300_000 + i * 10_000, 7000), max_tokens: 1 }));
      // Polled for as long as the long prompts are in flight: a fixed number of scrapes could end
      // before they queue on a slow machine.
      let settled = false;
      const allLongs = Promise.all(longs).finally(() => (settled = true));
      let waitingSeen = 0;
      const poll = (async () => {
        while (!settled && waitingSeen === 0) waitingSeen = await gauge(pod, 'vllm:num_requests_waiting');
      })();
      const results = await allLongs;
      await poll;
      expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
      expect(waitingSeen).toBeGreaterThan(0);
      const { chunkTimes } = await background;
      const gaps = chunkTimes.slice(1).map((t, i) => t - chunkTimes[i]!);
      const sorted = [...gaps].sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)]!;
      expect(Math.max(...gaps)).toBeGreaterThan(median * 5);
    } finally {
      await slow.stop();
    }
  });
});
