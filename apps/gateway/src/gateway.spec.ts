import { GatewayConfig } from '@kvr/config';
import type { DiscoveredPod } from '@kvr/discovery';
import type { RouteExplanation } from '@kvr/scoring';
import { createLogger, createMetricsRegistry, semconv } from '@kvr/telemetry';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { GatewayError, noPod, unknownModel, upstreamFailed } from './errors';
import type { Forwarder, ForwardRequest } from './forwarder';
import { Gateway, sendError } from './gateway';
import { createGatewayMetrics } from './metrics';
import type { PodCatalog, ServedModel } from './pod-catalog';
import type { RequestKind } from './requests';
import type { RouteDecision, RouteInput, Router } from './router';

const logger = createLogger({ app: 'test', level: 'silent' });
const POD: DiscoveredPod = { id: '10.0.0.1:8000', address: '10.0.0.1', httpPort: 8000, zmqEndpoint: 'tcp://10.0.0.1:5557', replayEndpoint: null };

function explanation(over: Partial<RouteExplanation> = {}): RouteExplanation {
  return { requestId: 'r', model: 'm', promptTokens: 64, requestBlocks: 4, cold: false, scorers: [], pods: [{ pod: POD.id, total: 1, scores: {}, details: {}, matchedBlocks: 3 }], chosen: POD.id, predictedCachedBlocks: 3, fallbacks: [], ...over };
}

interface Parts {
  gateway: Gateway;
  registry: Registry;
  /** In call order: `decide`, `commit`, `forward`. */
  calls: string[];
  inputs: RouteInput[];
  forwards: ForwardRequest[];
}

interface PartsOptions {
  config?: Partial<GatewayConfig>;
  decide?: (input: RouteInput) => Promise<RouteDecision>;
  forward?: (request: ForwardRequest) => Promise<void>;
  models?: ServedModel[];
  stats?: { known: number; answering: number };
  unindexed?: Record<string, number>;
}

function parts(options: PartsOptions = {}): Parts {
  const config = Object.assign(new GatewayConfig(), options.config ?? {});
  const registry = createMetricsRegistry({ app: 'test', processMetrics: false });
  const p: Parts = { gateway: undefined as unknown as Gateway, registry, calls: [], inputs: [], forwards: [] };
  const router = {
    decide: (input: RouteInput) => {
      p.calls.push('decide');
      p.inputs.push(input);
      return options.decide ? options.decide(input) : Promise.resolve({ explanation: explanation({ requestId: input.requestId }), ranked: [POD], candidates: { pods: [POD], baseModel: 'm', loraName: null }, tokenIds: [1, 2, 3], requestKeys: null, timings: { tokenizeMs: 1, scoreMs: 2 } });
    },
    commit: () => {
      p.calls.push('commit');
      return Promise.resolve();
    },
    unindexed: () => options.unindexed ?? {},
  } as unknown as Router;
  const forwarder = {
    forward: async (request: ForwardRequest) => {
      p.calls.push('forward');
      p.forwards.push(request);
      if (options.forward) return options.forward(request);
      request.clientRes.writeHead(200, { 'content-type': 'application/json' });
      request.clientRes.end('{"ok":true}');
      return { pod: POD.id, status: 200, attempts: 1, outcome: 'completed' };
    },
  } as unknown as Forwarder;
  const catalog = { models: () => options.models ?? [], stats: () => options.stats ?? { known: 1, answering: 1 } } as unknown as PodCatalog;
  p.gateway = new Gateway({ config, router, forwarder, catalog, metrics: createGatewayMetrics(registry), logger });
  return p;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((server) => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    }),
  );
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => Promise<void> | void): Promise<number> {
  const server = createServer((req, res) => void handler(req, res));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function post(port: number, body: string, headers: OutgoingHttpHeaders = {}): Promise<{ status: number; headers: IncomingHttpHeaders; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: { 'content-type': 'application/json', ...headers }, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, json: text ? (JSON.parse(text) as unknown) : undefined });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const handling = (p: Parts, kind: RequestKind = 'completion') => serve((req, res) => p.gateway.handle(kind, req, res));

async function counter(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  return values.filter((v) => Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x)).reduce((sum, v) => sum + v.value, 0);
}

describe('sendError', () => {
  it('answers the status, the OpenAI body and the error headers', async () => {
    const port = await serve((_req, res) => sendError(res, noPod('nothing up', 2)));
    const answer = await post(port, '{}');
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe('2');
    expect(answer.headers['content-type']).toBe('application/json');
    expect(answer.json).toEqual({ error: { message: 'nothing up', type: 'server_error', param: null, code: 'service_unavailable' } });
  });

  it('cuts the connection when the answer has already started', async () => {
    const port = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: 1\n\n');
      sendError(res, upstreamFailed('late', 1));
    });
    await expect(post(port, '{}')).rejects.toThrow();
  });
});

describe('Gateway.handle', () => {
  it('reads, validates, decides, commits, then forwards the exact bytes on the ranked pods', async () => {
    const p = parts();
    const port = await handling(p);
    const body = '{"model":"m", "prompt":"hi", "vendor_field":[1.0]}';
    const answer = await post(port, body, { 'x-request-id': 'client-id' });
    expect(answer.status).toBe(200);
    expect(p.calls).toEqual(['decide', 'commit', 'forward']);
    expect(p.inputs[0]).toMatchObject({ requestId: 'client-id', kind: 'completion', body: { model: 'm', prompt: 'hi', vendor_field: [1] } });
    const forwarded = p.forwards[0]!;
    expect(forwarded.raw.toString('utf8')).toBe(body);
    expect(forwarded).toMatchObject({ ranked: [POD], path: '/v1/completions', requestId: 'client-id' });
    expect(await counter(p.registry, semconv.METRIC_ROUTE_DECISIONS_TOTAL, { model: 'm', reason: 'prefix_hit' })).toBe(1);
  });

  it("hands the pod's answer a Server-Timing header with the routing time and its stages", async () => {
    const p = parts();
    await post(await handling(p), '{"model":"m","prompt":"hi"}');
    const timing = String(p.forwards[0]!.responseHeaders?.['server-timing']);
    const durations = Object.fromEntries([...timing.matchAll(/([\w-]+);dur=([\d.]+)/g)].map((m) => [m[1], Number(m[2])]));
    expect(Object.keys(durations)).toEqual(['kvr-route', 'kvr-read', 'kvr-tokenize', 'kvr-score']);
    // The stages come from the decision; the whole covers at least the read.
    expect(durations['kvr-tokenize']).toBe(1);
    expect(durations['kvr-score']).toBe(2);
    expect(durations['kvr-route']).toBeGreaterThanOrEqual(durations['kvr-read'] as number);
  });

  it('forwards chat requests to /v1/chat/completions and makes up a request id when the client sends none', async () => {
    const p = parts();
    const port = await handling(p, 'chat');
    await post(port, '{"model":"m","messages":[{"role":"user","content":"hi"}]}');
    expect(p.forwards[0]!.path).toBe('/v1/chat/completions');
    expect(p.inputs[0]!.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it.each([
    ['fallback', explanation({ fallbacks: ['tokenizer:unavailable'], cold: true })],
    ['no_hit', explanation({ cold: true })],
    ['prefix_hit', explanation()],
  ])('counts the decision as %s', async (reason, e) => {
    const p = parts({ decide: () => Promise.resolve({ explanation: e, ranked: [POD], candidates: { pods: [POD], baseModel: 'm', loraName: null }, tokenIds: null, requestKeys: null, timings: { tokenizeMs: 0, scoreMs: 0 } }) });
    await post(await handling(p), '{"model":"m","prompt":"hi"}');
    expect(await counter(p.registry, semconv.METRIC_ROUTE_DECISIONS_TOTAL, { reason })).toBe(1);
  });

  it('answers 400 for an invalid request without deciding, and counts the rejection', async () => {
    const p = parts();
    const answer = await post(await handling(p), '{"model":"m","prompt":"hi","max_tokens":0}');
    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({ error: { param: 'max_tokens', type: 'invalid_request_error' } });
    expect(p.calls).toEqual([]);
    expect(await counter(p.registry, semconv.METRIC_GATEWAY_REJECTED_TOTAL, { reason: 'bad_request' })).toBe(1);
  });

  it('answers 413 for a body over maxBodyBytes', async () => {
    const p = parts({ config: { maxBodyBytes: 1024 } });
    const answer = await post(await handling(p), JSON.stringify({ model: 'm', prompt: 'x'.repeat(2000) }));
    expect(answer.status).toBe(413);
    expect(await counter(p.registry, semconv.METRIC_GATEWAY_REJECTED_TOTAL, { reason: 'too_large' })).toBe(1);
  });

  it("answers the router's and the forwarder's GatewayErrors as they are", async () => {
    const unknown = parts({ decide: () => Promise.reject(unknownModel('x')) });
    expect((await post(await handling(unknown), '{"model":"x","prompt":"hi"}')).status).toBe(404);
    const down = parts({ forward: () => Promise.reject(upstreamFailed('No pod answered', 5)) });
    const answer = await post(await handling(down), '{"model":"m","prompt":"hi"}');
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe('5');
    expect(await counter(down.registry, semconv.METRIC_GATEWAY_REJECTED_TOTAL, { reason: 'upstream_failed' })).toBe(1);
  });

  it('answers 500 in the OpenAI shape for an unexpected failure', async () => {
    const p = parts({ decide: () => Promise.reject(new TypeError('boom')) });
    const answer = await post(await handling(p), '{"model":"m","prompt":"hi"}');
    expect(answer.status).toBe(500);
    expect(answer.json).toEqual({ error: { message: 'Internal error in the gateway.', type: 'server_error', param: null, code: null } });
  });
});

describe('Gateway.explain', () => {
  const explaining = (p: Parts) => serve((req, res) => p.gateway.explain(req, res));

  it('returns the decision for a body, detecting chat by its messages, without commit or forward', async () => {
    const p = parts();
    const answer = await post(await explaining(p), '{"model":"m","messages":[{"role":"user","content":"hi"}]}');
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ model: 'm', chosen: POD.id });
    expect(p.inputs[0]!.kind).toBe('chat');
    expect(p.calls).toEqual(['decide']);
  });

  it('needs the bearer token when one is configured', async () => {
    const p = parts({ config: { debugToken: 'secret' } });
    const port = await explaining(p);
    expect((await post(port, '{"model":"m","prompt":"hi"}')).status).toBe(401);
    expect((await post(port, '{"model":"m","prompt":"hi"}', { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await post(port, '{"model":"m","prompt":"hi"}', { authorization: 'Bearer secret' })).status).toBe(200);
    expect(p.calls).toEqual(['decide']);
  });

  it('refuses without a token when the gateway listens beyond loopback', async () => {
    const p = parts({ config: { host: '0.0.0.0', debugToken: '' } });
    const answer = await post(await explaining(p), '{"model":"m","prompt":"hi"}');
    expect(answer.status).toBe(403);
    expect(answer.json).toMatchObject({ error: { code: 'forbidden' } });
    expect(p.calls).toEqual([]);
  });

  it('passes GatewayErrors of the decision through', async () => {
    const p = parts({ decide: () => Promise.reject(new GatewayError(503, 'none', 'no_pod', 'server_error')) });
    expect((await post(await explaining(p), '{"model":"m","prompt":"hi"}')).status).toBe(503);
  });
});

describe('Gateway.models and ready', () => {
  it('lists models in the OpenAI shape, with root and parent for adapters', () => {
    const p = parts({ models: [{ id: 'base', parent: null }, { id: 'lora', parent: 'base' }] });
    expect(p.gateway.models()).toEqual({
      object: 'list',
      data: [
        { id: 'base', object: 'model', created: 0, owned_by: 'vllm', root: 'base', parent: null },
        { id: 'lora', object: 'model', created: 0, owned_by: 'vllm', root: 'base', parent: 'base' },
      ],
    });
  });

  it('is ready when a pod answers, and sets the pod gauges', async () => {
    const p = parts({ stats: { known: 3, answering: 2 }, models: [{ id: 'm', parent: null }] });
    expect(p.gateway.ready()).toEqual({ ok: true, details: { pods: { known: 3, answering: 2 }, models: ['m'], indexAccess: 'indexer', tokenization: 'service' } });
    expect(await counter(p.registry, semconv.METRIC_GATEWAY_PODS, { state: 'answering' })).toBe(2);
    expect(await counter(p.registry, semconv.METRIC_GATEWAY_PODS, { state: 'known' })).toBe(3);
  });

  it('is not ready when no pod answers, and warns about models never found in the index', () => {
    const p = parts({ stats: { known: 2, answering: 0 }, unindexed: { m: 12 } });
    const report = p.gateway.ready();
    expect(report.ok).toBe(false);
    expect(report.details).toMatchObject({ unindexedModels: { m: 12 } });
    expect(report.details['warning']).toEqual(expect.stringContaining('block size'));
  });
});
