import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Histogram, Registry } from 'prom-client';
import { fetchMetrics, histogramBuckets, sumSamples } from './prom-text';

describe('reading /metrics text', () => {
  it('sums samples by name and label subset, and reads histogram buckets whatever the label order', async () => {
    const registry = new Registry();
    registry.setDefaultLabels({ app: 'indexer' });
    const messages = new Counter({ name: 'm_total', help: 'h', labelNames: ['kind', 'outcome'], registers: [registry] });
    messages.inc({ kind: 'batch', outcome: 'applied' }, 3);
    messages.inc({ kind: 'batch', outcome: 'duplicate' }, 2);
    messages.inc({ kind: 'reset', outcome: 'applied' }, 1);
    new Counter({ name: 'm_total_other', help: 'h', registers: [registry] }).inc(100);
    const ages = new Histogram({ name: 'age_seconds', help: 'h', buckets: [0.01, 0.1], registers: [registry] });
    ages.observe(0.005);
    ages.observe(0.05);
    ages.observe(5);
    const text = await registry.metrics();
    expect(sumSamples(text, 'm_total')).toBe(6);
    expect(sumSamples(text, 'm_total', { kind: 'batch', outcome: 'applied' })).toBe(3);
    expect(sumSamples(text, 'm_total', { outcome: 'applied' })).toBe(4);
    expect(sumSamples(text, 'absent_total')).toBe(0);
    expect(histogramBuckets(text, 'age_seconds')).toEqual([
      { le: 0.01, count: 1 },
      { le: 0.1, count: 2 },
      { le: Number.POSITIVE_INFINITY, count: 3 },
    ]);
  });

  it('fetches /metrics from an origin given with or without a trailing slash, and refuses a page that is not there', async () => {
    // The trap this guards: `${new URL(origin)}/metrics` is `origin//metrics`, a 404 whose body
    // read as counters all at zero.
    let serving = true;
    const server: Server = createServer((req, res) => {
      if (serving && req.url === '/metrics') res.end('up_total 1\n');
      else res.writeHead(404).end('Cannot GET');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect(sumSamples(await fetchMetrics(origin), 'up_total')).toBe(1);
      expect(sumSamples(await fetchMetrics(new URL(origin)), 'up_total')).toBe(1);
      expect(sumSamples(await fetchMetrics(`${origin}/`), 'up_total')).toBe(1);
      const missing = `${new URL(origin)}/metrics`; // what the benchmark used to fetch
      await expect(fetch(missing).then((res) => res.status)).resolves.toBe(404);
      serving = false;
      await expect(fetchMetrics(origin)).rejects.toThrow(/answered 404: Cannot GET/);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
