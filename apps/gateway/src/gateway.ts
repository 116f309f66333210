/**
 * The gateway's request handling, independent of the HTTP framework: read and validate a body,
 * decide, commit (speculative insert, LRU), forward, and record the decision on the route span
 * and in metrics. The NestJS controllers (http.ts) only hand requests in.
 */
import { context, propagation, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayConfig } from '@kvr/config';
import type { RouteExplanation } from '@kvr/scoring';
import { productTracer, semconv, type Logger } from '@kvr/telemetry';
import { GatewayError, unauthorized } from './errors';
import type { Forwarder } from './forwarder';
import type { GatewayMetrics } from './metrics';
import type { PodCatalog } from './pod-catalog';
import { readJsonBody, validateRequest, type RequestKind } from './requests';
import type { DecisionTimings, RouteDecision, RouteInput, Router } from './router';

export interface GatewayParts {
  readonly config: GatewayConfig;
  readonly router: Router;
  readonly forwarder: Forwarder;
  readonly catalog: PodCatalog;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
}

export function sendError(res: ServerResponse, err: GatewayError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(err.body());
  res.writeHead(err.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...err.headers });
  res.end(body);
}

function decisionReason(explanation: RouteExplanation): string {
  if (explanation.fallbacks.length > 0) return 'fallback';
  return explanation.cold ? 'no_hit' : 'prefix_hit';
}

function recordDecision(span: Span, explanation: RouteExplanation): void {
  span.setAttributes({
    [semconv.ATTR_REQUEST_ID]: explanation.requestId,
    [semconv.ATTR_MODEL]: explanation.model,
    [semconv.ATTR_PROMPT_TOKENS]: explanation.promptTokens ?? -1,
    [semconv.ATTR_REQUEST_BLOCKS]: explanation.requestBlocks,
    [semconv.ATTR_CANDIDATE_COUNT]: explanation.pods.length,
    [semconv.ATTR_CANDIDATES]: explanation.pods.map((p) => p.pod).join(','),
    [semconv.ATTR_COLD]: explanation.cold,
    [semconv.ATTR_PREDICTED_CACHED_BLOCKS]: explanation.predictedCachedBlocks,
  });
  if (explanation.chosen) span.setAttribute(semconv.ATTR_CHOSEN_POD, explanation.chosen);
  if (explanation.fallbacks.length > 0) span.setAttribute(semconv.ATTR_FALLBACK_REASON, explanation.fallbacks.join(','));
  // JSON attributes are built only when the span is exported.
  if (span.isRecording()) {
    span.setAttribute(semconv.ATTR_POD_SCORES, JSON.stringify(Object.fromEntries(explanation.pods.map((p) => [p.pod, Object.assign({}, p.scores, { total: p.total, matchedBlocks: p.matchedBlocks })]))));
    span.setAttribute(semconv.ATTR_SCORERS, JSON.stringify(explanation.scorers));
  }
}

/**
 * `kvr-route` is the whole routing time; `kvr-read` (body read + validation), `kvr-tokenize` and
 * `kvr-score` (request keys + scorers) are its stages; what is left is the pick and bookkeeping.
 */
function serverTiming(routingMs: number, readMs: number, timings: DecisionTimings): string {
  return `kvr-route;dur=${routingMs.toFixed(3)}, kvr-read;dur=${readMs.toFixed(3)}, kvr-tokenize;dur=${timings.tokenizeMs.toFixed(3)}, kvr-score;dur=${timings.scoreMs.toFixed(3)}`;
}

export class Gateway {
  constructor(private readonly parts: GatewayParts) {}

  /** POST /v1/completions and /v1/chat/completions. */
  async handle(kind: RequestKind, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const { metrics, router, forwarder, config, logger } = this.parts;
    const requestId = (typeof req.headers['x-request-id'] === 'string' && req.headers['x-request-id']) || randomUUID();
    const parent = propagation.extract(context.active(), req.headers);
    const span = productTracer().startSpan(semconv.SPAN_ROUTE_REQUEST, { attributes: { [semconv.ATTR_REQUEST_ID]: requestId } }, parent);
    try {
      await context.with(trace.setSpan(parent, span), async () => {
        const { raw, body } = await readJsonBody(req, config.maxBodyBytes);
        const request = validateRequest(kind, body);
        const readMs = performance.now() - started;
        const input: RouteInput = { requestId, kind, request, body, raw };
        const decision = await router.decide(input);
        // The speculative insert and the LRU update run while the request goes to the pod: a
        // sibling request needs a tokenization (milliseconds) before its own lookup, by which
        // time the entry is in; waiting for it here would add a round trip to every request.
        // commit() bounds each write by the scorer deadline and never rejects.
        const committed = router.commit(decision);
        const routingMs = this.observe(decision, span, started);
        await forwarder.forward({
          // What routing added before the pod saw the request (read, validate, tokenize, score,
          // pick), and its stages, for clients and benchmarks: the standard Server-Timing header.
          responseHeaders: { 'server-timing': serverTiming(routingMs, readMs, decision.timings) },
          ranked: decision.ranked,
          path: kind === 'chat' ? '/v1/chat/completions' : '/v1/completions',
          raw,
          requestId,
          clientReq: req,
          clientRes: res,
        });
        await committed;
      });
    } catch (err) {
      const error = err instanceof GatewayError ? err : undefined;
      if (error) {
        metrics.rejected.inc({ reason: error.reason });
        span.setAttribute(semconv.ATTR_FALLBACK_REASON, error.reason);
        if (error.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
        sendError(res, error);
      } else {
        logger.error({ err, requestId }, 'request failed');
        span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
        metrics.rejected.inc({ reason: 'upstream_failed' });
        sendError(res, new GatewayError(500, 'Internal error in the gateway.', 'upstream_failed', 'server_error'));
      }
    } finally {
      span.end();
    }
  }

  /** POST /debug/route: the decision for a body, without forwarding or side effects. */
  async explain(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { config, router } = this.parts;
    try {
      this.authorize(req);
      const { raw, body } = await readJsonBody(req, config.maxBodyBytes);
      const kind: RequestKind = Array.isArray(body['messages']) ? 'chat' : 'completion';
      const request = validateRequest(kind, body);
      const decision = await router.decide({ requestId: randomUUID(), kind, request, body, raw });
      const text = JSON.stringify(decision.explanation);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    } catch (err) {
      if (err instanceof GatewayError) sendError(res, err);
      else sendError(res, new GatewayError(500, err instanceof Error ? err.message : String(err), 'upstream_failed', 'server_error'));
    }
  }

  /** GET /v1/models: every model and adapter some reachable pod serves. */
  models(): unknown {
    return {
      object: 'list',
      data: this.parts.catalog.models().map((m) => ({ id: m.id, object: 'model', created: 0, owned_by: 'vllm', root: m.parent ?? m.id, parent: m.parent })),
    };
  }

  /** Readiness: at least one pod answers. Details name the models that never had an index hit. */
  ready(): { ok: boolean; details: Record<string, unknown> } {
    const pods = this.parts.catalog.stats();
    this.parts.metrics.pods.set({ state: 'known' }, pods.known);
    this.parts.metrics.pods.set({ state: 'answering' }, pods.answering);
    const unindexed = this.parts.router.unindexed();
    return {
      ok: pods.answering > 0,
      details: {
        pods,
        models: this.parts.catalog.models().map((m) => m.id),
        indexAccess: this.parts.config.indexAccess,
        tokenization: this.parts.config.tokenization,
        ...(Object.keys(unindexed).length > 0
          ? { unindexedModels: unindexed, warning: 'requests for these models never matched an indexed block: check the model name, block size and hash seed of pods, indexer and gateway' }
          : {}),
      },
    };
  }

  private authorize(req: IncomingMessage): void {
    const token = this.parts.config.debugToken;
    if (token) {
      if (req.headers.authorization !== `Bearer ${token}`) throw unauthorized();
      return;
    }
    const loopback = ['127.0.0.1', '::1', 'localhost'].includes(this.parts.config.host);
    if (!loopback) throw new GatewayError(403, 'POST /debug/route needs debugToken when the gateway listens beyond loopback.', 'unauthorized', 'invalid_request_error', null, 'forbidden');
  }

  /** Records the decision on the span and in metrics; returns the routing time in ms. */
  private observe(decision: RouteDecision, span: Span, started: number): number {
    const { metrics } = this.parts;
    const explanation = decision.explanation;
    recordDecision(span, explanation);
    const model = explanation.model;
    metrics.decisions.inc({ model, reason: decisionReason(explanation) });
    if (explanation.requestBlocks > 0) metrics.predictedHitRatio.observe({ model }, explanation.predictedCachedBlocks / explanation.requestBlocks);
    const routingMs = performance.now() - started;
    metrics.overhead.observe(routingMs / 1000);
    return routingMs;
  }
}
