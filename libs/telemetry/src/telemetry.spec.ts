import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { SpanStatusCode } from '@opentelemetry/api';
import { Counter } from 'prom-client';
import { createLogger, createMetricsRegistry, inSpan, metricsHandler, semconv, startTracing } from './index';
import { startInMemoryTracing } from './testing';

function get(port: number, path: string): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path }, (res: IncomingMessage) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type']) }));
    })
      .on('error', reject)
      .end();
  });
}

function runNode(script: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--require', '@swc-node/register', script], {
      env: { ...process.env, ...env, SWC_NODE_PROJECT: join(__dirname, '..', '..', '..', 'tsconfig.json') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('metrics', () => {
  it('serves a private registry with the app label in Prometheus text format', async () => {
    const registry = createMetricsRegistry({ app: 'unit', processMetrics: false });
    const counter = new Counter({ name: semconv.METRIC_DEAD_LETTERS_TOTAL, help: 'x', labelNames: ['pod', 'reason'], registers: [registry] });
    counter.inc({ pod: '10.0.0.1:8000', reason: 'bad_msgpack' }, 2);
    const server = createServer(metricsHandler(registry));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { status, body, type } = await get((server.address() as AddressInfo).port, '/metrics');
      expect(status).toBe(200);
      expect(type).toMatch(/^text\/plain/);
      expect(body).toContain('kvr_dead_letters_total{pod="10.0.0.1:8000",reason="bad_msgpack",app="unit"} 2');
    } finally {
      server.close();
    }
  });

  it('includes process metrics by default', async () => {
    const registry = createMetricsRegistry({ app: 'unit' });
    expect(await registry.metrics()).toContain('process_cpu_user_seconds_total');
  });
});

describe('logger', () => {
  it('writes one JSON object per line with app and level, and redacts secrets', () => {
    const out = new PassThrough();
    const lines: string[] = [];
    out.on('data', (chunk: Buffer) => lines.push(...chunk.toString().trim().split('\n')));
    const logger = createLogger({ app: 'unit', destination: out });
    logger.info({ pod: 'p', redis: { password: 'hunter2' }, token: 'abc' }, 'hello');
    const record = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    expect(record).toMatchObject({ app: 'unit', level: 'info', msg: 'hello', pod: 'p', token: '***', redis: { password: '***' } });
    expect(lines[0]).not.toContain('hunter2');
  });
});

describe('tracing', () => {
  it('is off unless an OTLP endpoint or exporter is configured', async () => {
    const handle = startTracing('unit', {});
    expect(handle.enabled).toBe(false);
    expect(handle.disabledReason).toMatch(/no OTEL_EXPORTER_OTLP_ENDPOINT/);
    await handle.shutdown();
    expect(startTracing('unit', { OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x' }).enabled).toBe(false);
    expect(startTracing('unit', { OTEL_TRACES_EXPORTER: 'none' }).enabled).toBe(false);
  });

  it('exports spans over OTLP/HTTP to the configured endpoint (in a real node process)', async () => {
    const received: { path: string; bytes: number }[] = [];
    const collector = createServer((req, res) => {
      let bytes = 0;
      req.on('data', (chunk: Buffer) => (bytes += chunk.length));
      req.on('end', () => {
        received.push({ path: req.url ?? '', bytes });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    try {
      // The OTLP exporter loads its HTTP agent with a dynamic import(), which jest's CommonJS
      // sandbox cannot run; a child process exercises the real code path instead.
      const result = await runNode(join(__dirname, '__fixtures__', 'export-one-span.ts'), {
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_METRICS_EXPORTER: 'none',
        OTEL_LOGS_EXPORTER: 'none',
      });
      expect(result.stderr).toBe('');
      expect(result.stdout.trim()).toBe('enabled');
      expect(result.code).toBe(0);
      const traces = received.filter((r) => r.path === '/v1/traces');
      expect(traces.length).toBeGreaterThan(0);
      expect(traces[0]?.bytes).toBeGreaterThan(0);
    } finally {
      collector.close();
    }
  });

  it('inSpan records the span, its attributes and a thrown error', async () => {
    const tracing = startInMemoryTracing();
    try {
      await inSpan(semconv.SPAN_INDEX_APPLY, { [semconv.ATTR_POD_ID]: '10.0.0.1:8000' }, async () => 'ok');
      await expect(
        inSpan(semconv.SPAN_INDEX_LOOKUP, {}, async () => {
          throw new Error('redis down');
        }),
      ).rejects.toThrow('redis down');
      const spans = await tracing.finishedSpans();
      expect(spans.map((s) => s.name)).toEqual([semconv.SPAN_INDEX_APPLY, semconv.SPAN_INDEX_LOOKUP]);
      expect(spans[0]?.attributes[semconv.ATTR_POD_ID]).toBe('10.0.0.1:8000');
      expect(spans[1]?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'redis down' });
      expect(spans[1]?.events[0]?.name).toBe('exception');
    } finally {
      await tracing.stop();
    }
  });
});
