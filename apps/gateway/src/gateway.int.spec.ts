/**
 * The gateway end to end, on the whole pipeline as real processes (redis-server, nats-server -js,
 * a simulated vLLM fleet, collector, indexer, tokenizer, load-scorer, two gateway replicas), with
 * the official `openai` client as the user. Nothing is mocked. Faults are real: parts are killed
 * and started again at the same address.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { createBlockKeyer, toUint64Decimal } from '@kvr/block-keys';
import type { RouteExplanation } from '@kvr/scoring';
import { TokenizerClient } from '@kvr/tokenizer-grpc';
import { createPrng, fetchMetrics, runCli, startPipeline, waitFor, type Pipeline } from '@kvr/testing';

const MODEL = 'Qwen/Qwen3-32B';
const BLOCK_SIZE = 64;

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: { key: string; value: { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number } }[];
}

/** An OTLP/HTTP JSON receiver: what an OpenTelemetry collector would get from the gateways. */
async function startOtlpReceiver(): Promise<{ url: string; spans: OtlpSpan[]; close(): Promise<void> }> {
  const spans: OtlpSpan[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { resourceSpans?: { scopeSpans?: { spans?: OtlpSpan[] }[] }[] };
        for (const rs of body.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) spans.push(...(ss.spans ?? []));
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function attribute(span: OtlpSpan, key: string): string | number | boolean | undefined {
  const value = span.attributes.find((a) => a.key === key)?.value;
  if (!value) return undefined;
  return value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : undefined) ?? value.boolValue ?? value.doubleValue;
}

/** Prompts of the shared-prefix workload: groups that share a long system prefix, one question each. */
function workload(groups: number, prefixWords: number, seed: number): { prefixes: string[]; prompt(group: number, question: number): string } {
  const prng = createPrng(seed);
  const words = ['cache', 'router', 'vector', 'kernel', 'tensor', 'planet', 'river', 'garden', 'signal', 'matrix', 'harbor', 'lantern', 'meadow', 'cobalt', 'quartz', 'willow'];
  const prefixes = Array.from({ length: groups }, (_, g) => `System ${g}: ${Array.from({ length: prefixWords }, () => words[prng.int(words.length)]).join(' ')}.`);
  return { prefixes, prompt: (group, question) => `${prefixes[group]} Question ${question}: what is ${question * 7 + group}?` };
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

/** The gateway's decision for a prompt (a completion) or a request body (e.g. a chat), without forwarding. */
async function explain(gateway: string, prompt: string | Record<string, unknown>): Promise<RouteExplanation> {
  const res = await post(`${gateway}/debug/route`, typeof prompt === 'string' ? { model: MODEL, prompt } : { model: MODEL, ...prompt });
  expect(res.status).toBe(200);
  return (await res.json()) as RouteExplanation;
}

/** Sum of a counter's series in a Prometheus text page, optionally only those with a label. */
async function counter(gateway: string, name: string, label?: string): Promise<number> {
  const text = await fetchMetrics(gateway);
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (label && !line.includes(label))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

describe('gateway on the whole pipeline', () => {
  let pipeline: Pipeline;
  let otlp: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let tokenizer: TokenizerClient;
  let gateway: string;
  const keyer = createBlockKeyer({ modelName: MODEL, blockSize: BLOCK_SIZE });
  const load = workload(6, 300, 7);

  /** Pods whose prefix cache holds the prompt's first block right now (the sims' own view). */
  async function holdersOfFirstBlock(prompt: string): Promise<string[]> {
    const tokens = await tokenizer.renderCompletion(MODEL, prompt);
    const first = keyer.keysForTokens(tokens)[0];
    if (first === undefined) return [];
    const key = toUint64Decimal(first);
    const holders: string[] = [];
    for (const pod of pipeline.pods) {
      const blocks = (await (await fetch(`${pod.http}/debug/blocks`)).json()) as { blocks: { requestKey: string | null }[] };
      if (blocks.blocks.some((b) => b.requestKey === key)) holders.push(pod.id);
    }
    return holders;
  }

  beforeAll(async () => {
    otlp = await startOtlpReceiver();
    pipeline = await startPipeline({
      pods: 4,
      timeScale: 20,
      partitions: 4,
      gateways: 2,
      gatewayEnv: {
        // Deadlines for a loaded 2-core test machine: the replica test compares full decisions,
        // which a scorer missing a 50 ms deadline on one replica would make differ.
        KVR_SCORER_TIMEOUT_MS: '2000',
        KVR_TOKENIZER_TIMEOUT_MS: '5000',
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '100',
        OTEL_METRICS_EXPORTER: 'none',
        OTEL_LOGS_EXPORTER: 'none',
      },
      // The second replica tokenizes in process and reads the index from Redis itself: the
      // replica test below then also shows that both paths of each give the same decisions.
      gatewayReplicaEnv: [{}, { KVR_INDEX_ACCESS: 'redis', KVR_TOKENIZATION: 'in-process' }],
    });
    gateway = pipeline.gateways[0] as string;
    tokenizer = new TokenizerClient({ target: pipeline.tokenizer });
  }, 180_000);

  afterAll(async () => {
    tokenizer?.close();
    await pipeline?.stop();
    await otlp?.close();
  }, 60_000);

  it('serves the official openai client: completions and chat, streaming and not', async () => {
    const client = new OpenAI({ baseURL: `${gateway}/v1`, apiKey: 'unused', maxRetries: 0 });
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual([MODEL]);

    const completion = await client.completions.create({ model: MODEL, prompt: 'How are you today?', max_tokens: 5 });
    expect(completion.choices[0]?.text.length).toBeGreaterThan(0);
    expect(completion.usage?.completion_tokens).toBe(5);

    let streamed = '';
    const stream = await client.completions.create({ model: MODEL, prompt: 'Tell me about caches.', max_tokens: 6, stream: true });
    for await (const chunk of stream) streamed += chunk.choices[0]?.text ?? '';
    expect(streamed.trim().length).toBeGreaterThan(0);

    const chat = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello!' }], max_tokens: 4 });
    expect(chat.choices[0]?.message.role).toBe('assistant');
    expect(chat.usage?.prompt_tokens).toBeGreaterThan(5);

    let chatText = '';
    let usage: OpenAI.CompletionUsage | undefined;
    const chatStream = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Stream please.' }], max_tokens: 4, stream: true, stream_options: { include_usage: true } });
    for await (const chunk of chatStream) {
      chatText += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(chatText.length).toBeGreaterThan(0);
    expect(usage?.completion_tokens).toBe(4);

    await expect(client.completions.create({ model: 'no/such-model', prompt: 'x' })).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
    await expect(client.completions.create({ model: MODEL, prompt: 'x', max_tokens: 0 })).rejects.toMatchObject({ status: 400, param: 'max_tokens' });
  });

  it('passes a 128k-token prompt to the pod (under the body limit) and answers 413 above the limit', async () => {
    const huge = Array.from({ length: 131_072 }, (_, i) => 1000 + (i % 5000));
    const res = await post(`${gateway}/v1/completions`, { model: MODEL, prompt: huge, max_tokens: 1 });
    // The pod (max_model_len 40960) refuses it with its own 400: the gateway let it through.
    expect(res.status).not.toBe(413);
    expect(pipeline.pods.map((p) => p.id)).toContain(res.headers.get('x-kvr-pod'));
    const tooBig = await fetch(`${gateway}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"model":"${MODEL}","prompt":"${'a'.repeat(17 * 1024 * 1024)}"}` });
    expect(tooBig.status).toBe(413);
    expect(await tooBig.json()).toMatchObject({ error: { code: 'request_too_large', type: 'invalid_request_error' } });
  });

  it('sends at least 95 % of sequential requests whose prefix is resident somewhere to a pod holding it', async () => {
    let resident = 0;
    let onHolder = 0;
    const misses: string[] = [];
    for (let question = 0; question < 6; question++) {
      for (let group = 0; group < load.prefixes.length; group++) {
        const prompt = load.prompt(group, question);
        const holders = await holdersOfFirstBlock(prompt);
        const res = await post(`${gateway}/v1/completions`, { model: MODEL, prompt, max_tokens: 2 });
        expect(res.status).toBe(200);
        await res.arrayBuffer();
        const routed = res.headers.get('x-kvr-pod') as string;
        if (holders.length === 0) continue;
        resident++;
        if (holders.includes(routed)) onHolder++;
        else misses.push(`group ${group} question ${question}: routed to ${routed}, held by ${holders.join(',')}`);
      }
    }
    // The first request of each group finds nothing; every later one should.
    expect(resident).toBeGreaterThanOrEqual(30);
    expect({ ratio: onHolder / resident, misses }).toEqual({ ratio: expect.any(Number), misses: expect.any(Array) });
    expect(onHolder / resident).toBeGreaterThanOrEqual(0.95);
  });

  it('explains a decision through kvctl explain, with the pod that holds the prefix chosen', async () => {
    const prompt = load.prompt(0, 99);
    const holders = await holdersOfFirstBlock(prompt);
    expect(holders.length).toBeGreaterThan(0);
    const result = await runCli('kvctl', ['explain', '--gateway', gateway, '--model', MODEL, '--prompt', prompt, '--json']);
    expect(result.code).toBe(0);
    const explanation = JSON.parse(result.stdout) as RouteExplanation;
    expect(holders).toContain(explanation.chosen);
    expect(explanation.cold).toBe(false);
    expect(explanation.predictedCachedBlocks).toBeGreaterThan(0);
    expect(explanation.scorers.map((s) => [s.scorer, s.status])).toEqual([
      ['precise-prefix', 'ok'],
      ['kv-cache-utilization', 'ok'],
      ['queue-size', 'ok'],
      ['no-hit-lru', 'ok'],
    ]);
    const table = await runCli('kvctl', ['explain', '--gateway', gateway, '--model', MODEL, '--prompt', prompt]);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(`* ${explanation.chosen as string}`);
  });

  it('two replicas make the same decisions for the same state, cold requests included (shared no-hit-LRU), one on the tokenizer service and the indexer, one tokenizing in process and reading Redis', async () => {
    const [a, b] = pipeline.gateways as [string, string];
    const paths = async (url: string) => {
      const { details } = (await (await fetch(`${url}/ready`)).json()) as { details: { indexAccess: string; tokenization: string } };
      return [details.tokenization, details.indexAccess];
    };
    expect(await Promise.all([paths(a), paths(b)])).toEqual([
      ['service', 'indexer'],
      ['in-process', 'redis'],
    ]);
    const prng = createPrng(11);
    for (let i = 0; i < 8; i++) {
      // A cold prompt (nobody holds it), then a warm one; each sent for real through alternating
      // replicas so that the shared state (index, LRU) moves between comparisons.
      const cold = `Unrelated request ${i} ${prng.int(1e9)} ${'lorem ipsum '.repeat(40)}`;
      const warm = load.prompt(i % load.prefixes.length, 200 + i);
      // A chat too: its rendering through the chat template must agree between the tokenizer
      // service and the in-process tokenizer (same prompt tokens, same decision).
      const chat = { messages: [{ role: 'system', content: load.prefixes[i % load.prefixes.length] }, { role: 'user', content: `Question ${200 + i}?` }] };
      for (const prompt of [cold, warm, chat]) {
        const comparable = (e: RouteExplanation) => ({ chosen: e.chosen, cold: e.cold, promptTokens: e.promptTokens, pods: e.pods.map((p) => [p.pod, p.total.toFixed(6)]) });
        // The two explain calls are not one atomic read: a load scrape landing between them moves a
        // pod's load score. Replicas that disagree by construction never agree; ones that share the
        // state agree as soon as both read the same scrape.
        let last: unknown[] = [];
        const agreed = await waitFor(
          async () => {
            const [fromA, fromB] = await Promise.all([explain(a, prompt), explain(b, prompt)]);
            last = [comparable(fromA), comparable(fromB)];
            return JSON.stringify(last[0]) === JSON.stringify(last[1]) ? true : undefined;
          },
          { what: 'both replicas to explain the same decision', timeoutMs: 5_000 },
        ).catch(() => false);
        expect(last[1]).toEqual(last[0]);
        expect(agreed).toBe(true);
        expect((last[0] as { promptTokens: number | null }).promptTokens).toBeGreaterThan(0);
        const res =
          typeof prompt === 'string'
            ? await post(`${i % 2 === 0 ? a : b}/v1/completions`, { model: MODEL, prompt, max_tokens: 1 })
            : await post(`${i % 2 === 0 ? a : b}/v1/chat/completions`, { model: MODEL, ...prompt, max_tokens: 1 });
        expect(res.status).toBe(200);
        await res.arrayBuffer();
      }
    }
  });

  it('exports one route span per request with the decision, and the tokenizer and scorer calls as its children', async () => {
    const ids = Array.from({ length: 5 }, (_, i) => `span-test-${i}-${Date.now()}`);
    for (const [i, id] of ids.entries()) {
      const res = await post(`${gateway}/v1/completions`, { model: MODEL, prompt: load.prompt(i, 300), max_tokens: 1 }, { 'x-request-id': id });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    const routeSpans = await waitFor(
      async () => {
        const found = ids.map((id) => otlp.spans.find((s) => s.name === 'kvr.gateway.route' && attribute(s, 'kvr.request.id') === id));
        return found.every(Boolean) ? (found as OtlpSpan[]) : undefined;
      },
      { what: 'route spans of every request at the OTLP receiver', timeoutMs: 20_000 },
    );
    for (const route of routeSpans) {
      expect(otlp.spans.filter((s) => s.name === 'kvr.gateway.route' && attribute(s, 'kvr.request.id') === attribute(route, 'kvr.request.id'))).toHaveLength(1);
      expect(attribute(route, 'kvr.model')).toBe(MODEL);
      expect(pipeline.pods.map((p) => p.id)).toContain(attribute(route, 'kvr.route.chosen_pod'));
      expect(attribute(route, 'kvr.route.candidates')).toBe(4);
      expect(Number(attribute(route, 'kvr.request.blocks'))).toBeGreaterThan(0);
      expect(Number(attribute(route, 'kvr.request.prompt_tokens'))).toBeGreaterThan(BLOCK_SIZE);
      expect(Number(attribute(route, 'kvr.route.predicted_cached_blocks'))).toBeGreaterThan(0);
      const scores = JSON.parse(String(attribute(route, 'kvr.route.pod_scores'))) as Record<string, Record<string, number>>;
      expect(Object.keys(scores).sort()).toEqual(pipeline.pods.map((p) => p.id).sort());
      expect(Object.values(scores)[0]).toHaveProperty('precise-prefix');
      const children = await waitFor(
        async () => {
          const kids = otlp.spans.filter((s) => s.traceId === route.traceId && s.parentSpanId === route.spanId);
          return kids.some((k) => k.name === 'kvr.gateway.tokenize') && kids.some((k) => k.name === 'kvr.gateway.score' && attribute(k, 'kvr.scorer') === 'precise-prefix') ? kids : undefined;
        },
        { what: 'tokenize and precise-prefix score spans under the route span', timeoutMs: 10_000 },
      );
      expect(children.map((k) => k.name)).toEqual(expect.arrayContaining(['kvr.gateway.tokenize', 'kvr.gateway.score', 'kvr.gateway.forward']));
    }
  });

  it.each([
    ['indexer', 'precise-prefix'],
    ['tokenizer', 'tokenizer'],
    ['redis', 'no-hit-lru'],
  ])('keeps every request succeeding with the %s killed, counts the fallback, and is precise again within 10 s of its return', async (part, scorer) => {
    // Redis down also takes the index away from the replica that reads it itself.
    const watched: [string, string][] = part === 'redis' ? [[gateway, scorer], [pipeline.gateways[1] as string, 'precise-prefix']] : [[gateway, scorer]];
    const fallbacksBefore = await Promise.all(watched.map(([url, name]) => counter(url, 'kvr_gateway_scorer_fallbacks_total', `scorer="${name}"`)));
    if (part === 'redis') await pipeline.stopRedis();
    else await pipeline.stopPart(part, { kill: true });
    for (const [url] of watched) {
      for (let i = 0; i < 6; i++) {
        const res = await post(`${url}/v1/completions`, { model: MODEL, prompt: load.prompt(i % load.prefixes.length, 400 + i), max_tokens: 1 });
        expect(res.status).toBe(200);
        await res.arrayBuffer();
      }
    }
    for (const [i, [url, name]] of watched.entries()) {
      expect(await counter(url, 'kvr_gateway_scorer_fallbacks_total', `scorer="${name}"`)).toBeGreaterThan(fallbacksBefore[i] as number);
    }

    if (part === 'redis') await pipeline.startRedis();
    else await pipeline.startPart(part);
    const back = Date.now();
    // Precise again: every scorer answers and a warm prefix is found where the sims hold it.
    const prompt = load.prompt(1, 500);
    for (const [url] of watched) {
      await waitFor(
        async () => {
          const holders = await holdersOfFirstBlock(prompt);
          const e = await explain(url, prompt);
          return e.fallbacks.length === 0 && e.predictedCachedBlocks > 0 && holders.includes(e.chosen as string) ? true : undefined;
        },
        { what: `precise routing on ${url} after the ${part} came back`, timeoutMs: 10_000 },
      );
    }
    expect(Date.now() - back).toBeLessThanOrEqual(10_000);
  }, 90_000);
});
