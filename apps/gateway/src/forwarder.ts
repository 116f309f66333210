/**
 * Proxies a routed request to its pod: keep-alive connection pool, the original body bytes (so
 * unknown fields reach vLLM untouched), the response streamed back with backpressure (SSE
 * included), the upstream request cancelled when the client goes away, and a retry on the
 * next-best pod when connecting fails before any response byte.
 */
import { context, propagation, SpanStatusCode } from '@opentelemetry/api';
import { Agent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { hostPort, type DiscoveredPod } from '@kvr/discovery';
import { productTracer, semconv, type Logger } from '@kvr/telemetry';
import { GatewayError, upstreamFailed } from './errors';
import type { GatewayMetrics } from './metrics';
import type { PodCatalog } from './pod-catalog';

/**
 * Headers that describe one connection, never forwarded (RFC 9110 §7.6.1), plus ones we set. The
 * names a `Connection` header lists are hop-by-hop too. `traceparent`/`tracestate` pass through;
 * with tracing on, the forward span's context replaces them.
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'content-length']);

function endToEnd(headers: IncomingHttpHeaders): [string, string | string[]][] {
  const listed = new Set(
    String(headers['connection'] ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter(Boolean),
  );
  return Object.entries(headers).filter((entry): entry is [string, string | string[]] => entry[1] !== undefined && !HOP_BY_HOP.has(entry[0]) && !listed.has(entry[0]));
}

/** Response header naming the pod that served the request. */
export const POD_HEADER = 'x-kvr-pod';

export interface ForwardOptions {
  readonly maxRetries: number;
  readonly headersTimeoutMs: number;
  readonly retryAfterSeconds: number;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  readonly catalog: PodCatalog;
}

export interface ForwardRequest {
  readonly ranked: readonly DiscoveredPod[];
  readonly path: string;
  readonly raw: Buffer;
  readonly requestId: string;
  readonly clientReq: IncomingMessage;
  readonly clientRes: ServerResponse;
  /** Headers added to the pod's response, e.g. the gateway's `server-timing`. */
  readonly responseHeaders?: Readonly<Record<string, string>>;
}

export interface ForwardResult {
  readonly pod: string;
  readonly status: number;
  readonly attempts: number;
  readonly outcome: 'completed' | 'client_aborted' | 'upstream_error';
}

/** A failure before the pod sent anything: the next pod may be tried. */
class ConnectFailure extends Error {
  constructor(
    override readonly cause: Error,
    /** The pod closed a pooled keep-alive socket as the request went out: not the pod's fault. */
    readonly staleSocket = false,
  ) {
    super(cause.message);
  }
}

function forwardHeaders(incoming: IncomingHttpHeaders, raw: Buffer, requestId: string, pod: DiscoveredPod): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of endToEnd(incoming)) headers[name] = value;
  headers['content-length'] = raw.length;
  headers['x-request-id'] ??= requestId;
  headers['host'] = hostPort(pod.address, pod.httpPort);
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  // Our context replaces the client's as a whole: its tracestate belongs to the old parent.
  if (carrier['traceparent']) delete headers['tracestate'];
  Object.assign(headers, carrier);
  return headers;
}

export class Forwarder {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: Infinity, scheduling: 'lifo' });

  constructor(private readonly options: ForwardOptions) {}

  close(): void {
    this.agent.destroy();
  }

  /** Forwards; rejects with a GatewayError only when no response byte was sent to the client. */
  async forward(request: ForwardRequest): Promise<ForwardResult> {
    const { metrics, logger, catalog } = this.options;
    const attempts = Math.min(request.ranked.length, this.options.maxRetries + 1);
    let lastError: Error | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const pod = request.ranked[attempt - 1] as DiscoveredPod;
      if (request.clientRes.destroyed) return { pod: pod.id, status: 499, attempts: attempt - 1, outcome: 'client_aborted' };
      try {
        const result = await productTracer().startActiveSpan(
          semconv.SPAN_FORWARD,
          { attributes: { [semconv.ATTR_POD_ID]: pod.id, [semconv.ATTR_ATTEMPT]: attempt } },
          async (span) => {
            try {
              let outcome;
              try {
                outcome = await this.attempt(pod, request);
              } catch (err) {
                // A pod closing an idle pooled connection just as it was reused is no reason to
                // leave the pod (and its prefix cache): once more, on a fresh connection.
                if (!(err instanceof ConnectFailure && err.staleSocket)) throw err;
                metrics.retries.inc({ reason: 'stale_keepalive' });
                outcome = await this.attempt(pod, request);
              }
              span.setAttribute(semconv.ATTR_UPSTREAM_STATUS, outcome.status);
              if (outcome.outcome === 'upstream_error') span.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream stream failed' });
              return outcome;
            } catch (err) {
              span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
              throw err;
            } finally {
              span.end();
            }
          },
        );
        metrics.forwarded.inc({ outcome: result.outcome });
        return { pod: pod.id, status: result.status, attempts: attempt, outcome: result.outcome };
      } catch (err) {
        if (!(err instanceof ConnectFailure)) throw err;
        lastError = err.cause;
        catalog.reportUnreachable(pod.id);
        logger.warn({ pod: pod.id, attempt, err: err.message, requestId: request.requestId }, attempt < attempts ? 'pod failed before responding; trying the next-best pod' : 'pod failed before responding');
        if (attempt < attempts) metrics.retries.inc({ reason: 'connect_error' });
      }
    }
    metrics.forwarded.inc({ outcome: 'upstream_error' });
    throw upstreamFailed(`No pod answered (${attempts} tried): ${lastError?.message ?? 'unknown error'}`, this.options.retryAfterSeconds);
  }

  private attempt(pod: DiscoveredPod, request: ForwardRequest): Promise<{ status: number; outcome: ForwardResult['outcome'] }> {
    const { clientReq, clientRes } = request;
    return new Promise((resolve, reject) => {
      let responded = false;
      const upstream = httpRequest({
        agent: this.agent,
        host: pod.address,
        port: pod.httpPort,
        method: clientReq.method ?? 'POST',
        path: request.path,
        headers: forwardHeaders(clientReq.headers, request.raw, request.requestId, pod),
      });
      const headersTimer = setTimeout(() => upstream.destroy(new Error(`no response headers within ${this.options.headersTimeoutMs} ms`)), this.options.headersTimeoutMs);
      headersTimer.unref();
      // The client went away: cancel the pod's work too (vLLM aborts a request whose connection closes).
      const onClientClose = (): void => {
        if (!clientRes.writableFinished) upstream.destroy();
      };
      clientRes.on('close', onClientClose);
      upstream.on('error', (err) => {
        clearTimeout(headersTimer);
        if (clientRes.destroyed && !clientRes.writableFinished) {
          resolve({ status: 499, outcome: 'client_aborted' });
        } else if (!responded) {
          clientRes.off('close', onClientClose);
          if (/no response headers/.test(err.message)) reject(new GatewayError(504, `The pod did not answer in time: ${err.message}`, 'upstream_failed', 'server_error', null, 'upstream_timeout'));
          else reject(new ConnectFailure(err, upstream.reusedSocket && (err as NodeJS.ErrnoException).code === 'ECONNRESET'));
        }
      });
      upstream.on('response', (response: IncomingMessage) => {
        clearTimeout(headersTimer);
        responded = true;
        const headers: OutgoingHttpHeaders = {};
        for (const [name, value] of endToEnd(response.headers)) headers[name] = value;
        if (response.headers['content-length'] !== undefined) headers['content-length'] = response.headers['content-length'];
        Object.assign(headers, request.responseHeaders);
        headers[POD_HEADER] = pod.id;
        headers['x-request-id'] ??= request.requestId;
        clientRes.writeHead(response.statusCode ?? 502, headers);
        // Server-sent events must not sit in Nagle's buffer.
        clientRes.socket?.setNoDelay(true);
        response.pipe(clientRes);
        response.on('error', () => {
          clientRes.destroy();
          resolve({ status: response.statusCode ?? 502, outcome: clientRes.writableFinished ? 'completed' : 'upstream_error' });
        });
        clientRes.on('close', () => {
          clientRes.off('close', onClientClose);
          resolve({ status: response.statusCode ?? 502, outcome: clientRes.writableFinished ? 'completed' : response.complete ? 'completed' : 'client_aborted' });
        });
      });
      upstream.end(request.raw);
    });
  }
}
