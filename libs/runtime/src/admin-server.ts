import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { metricsHandler } from '@kvr/telemetry';
import type { Registry } from 'prom-client';

export interface HealthReport {
  ok: boolean;
  /** Per-dependency details, shown in the JSON body (e.g. `{nats: 'connected'}`). */
  details?: Record<string, unknown>;
}

export interface AdminServerOptions {
  host: string;
  /** 0 picks a free port; the actual one is in `url`. */
  port: number;
  registry: Registry;
  /** Liveness: is the process able to do its job at all. @default always ok */
  health?: () => HealthReport | Promise<HealthReport>;
  /** Readiness: should traffic/work be sent here now. @default same as health */
  ready?: () => HealthReport | Promise<HealthReport>;
  /** Extra routes, e.g. debug endpoints; return false to fall through to 404. */
  extraRoutes?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

export interface AdminServer {
  /** `http://host:port` with the actual port. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * `/health`, `/ready` and `/metrics` over plain HTTP, for the apps that have no HTTP API of
 * their own (collector, indexer, tokenizer, load-scorer). Health and readiness answer 200 with
 * `{"status":"ok",...}` or 503 with `{"status":"unavailable",...}`.
 */
export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const serveMetrics = metricsHandler(options.registry);
  const respond = (res: ServerResponse, check: () => HealthReport | Promise<HealthReport>): void => {
    Promise.resolve()
      .then(check)
      .then((report) => {
        res.writeHead(report.ok ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: report.ok ? 'ok' : 'unavailable', ...(report.details ? { details: report.details } : {}) }));
      })
      .catch((err: unknown) => {
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: 'unavailable', error: err instanceof Error ? err.message : String(err) }));
      });
  };
  const health = options.health ?? (() => ({ ok: true }));
  const ready = options.ready ?? health;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/metrics') return serveMetrics(req, res);
    if (req.method === 'GET' && path === '/health') return respond(res, health);
    if (req.method === 'GET' && path === '/ready') return respond(res, ready);
    if (options.extraRoutes?.(req, res)) return;
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'not found' }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
