import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import type { Logger } from '@kvr/telemetry';
import { waitFor } from '@kvr/testing';
import { createLoadScorerMetrics, type LoadScorerMetrics } from './metrics';
import { LoadScoreService, UnknownScorerError } from './score-service';
import { keepAliveGet, metricsUrl, PodScraper, type ScrapeGet } from './scraper';

const PAGE = (waiting: number, usage: number): string => `vllm:num_requests_waiting{engine="0",model_name="m"} ${waiting}\nvllm:kv_cache_usage_perc{engine="0",model_name="m"} ${usage}\n`;

interface LogCall {
  level: 'info' | 'warn';
  obj: Record<string, unknown>;
  msg: string;
}

function fakeLogger(): { logger: Logger; calls: LogCall[] } {
  const calls: LogCall[] = [];
  const logger = {
    info: (obj: Record<string, unknown>, msg: string) => calls.push({ level: 'info', obj, msg }),
    warn: (obj: Record<string, unknown>, msg: string) => calls.push({ level: 'warn', obj, msg }),
  } as unknown as Logger;
  return { logger, calls };
}

async function counterValue(metrics: LoadScorerMetrics, name: 'scrapes' | 'scores' | 'omittedPods', labels: Record<string, string>): Promise<number> {
  const { values } = await metrics[name].get();
  return values.find((v) => Object.entries(labels).every(([k, x]) => (v.labels as Record<string, string | number | undefined>)[k] === x))?.value ?? 0;
}

/** A GET whose answers the test hands out one by one (deadlines as keepAliveGet keeps them). */
function scriptedGet() {
  const pending: { url: string; signal: AbortSignal; resolve: (res: Response) => void; reject: (err: unknown) => void }[] = [];
  const fn: ScrapeGet = (url, { signal, timeoutMs }) =>
    new Promise<Response>((resolve, reject) => {
      const timer = setTimeout(() => reject(new DOMException('deadline', 'TimeoutError')), timeoutMs);
      signal.addEventListener('abort', () => reject(signal.reason));
      const answer = (res: Response): void => {
        clearTimeout(timer);
        resolve(res);
      };
      pending.push({ url, signal, resolve: answer, reject });
    }).then(async (res) => ({ status: res.status, body: await res.text() }));
  return { fn, pending };
}

/** Lets I/O callbacks and promise chains run (under fake timers, where waitFor's pauses would not pass). */
async function settle<T>(probe: () => Promise<T | undefined> | T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 10_000; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`never settled: ${what}`);
}

const POD = { id: '10.0.0.1:8000', address: '10.0.0.1', httpPort: 8000 };

describe('metricsUrl', () => {
  it('builds the URL, IPv6 in brackets', () => {
    expect(metricsUrl({ address: '10.0.0.1', httpPort: 8000 }, '/metrics')).toBe('http://10.0.0.1:8000/metrics');
    expect(metricsUrl({ address: 'fd00::1', httpPort: 8000 }, '/metrics')).toBe('http://[fd00::1]:8000/metrics');
    expect(metricsUrl({ address: 'pod-a.ns', httpPort: 9000 }, 'metrics')).toBe('http://pod-a.ns:9000/metrics');
  });
});

describe('keepAliveGet', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    })));
  });
  async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
    const server = createServer(handler);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  }

  it('answers the status and the body, and sends the headers', async () => {
    const url = await serve((req, res) => {
      res.writeHead(req.headers.accept === 'text/plain' ? 200 : 406);
      res.end('vllm:num_requests_waiting 1\n');
    });
    expect(await keepAliveGet(url, { signal: new AbortController().signal, timeoutMs: 5_000, headers: { accept: 'text/plain' } })).toEqual({ status: 200, body: 'vllm:num_requests_waiting 1\n' });
    expect((await keepAliveGet(url, { signal: new AbortController().signal, timeoutMs: 5_000, headers: {} })).status).toBe(406);
  });

  it('rejects with a TimeoutError past its deadline, and with the reason when aborted', async () => {
    const url = await serve(() => undefined); // never answers
    await expect(keepAliveGet(url, { signal: new AbortController().signal, timeoutMs: 20, headers: {} })).rejects.toMatchObject({ name: 'TimeoutError' });
    const abort = new AbortController();
    const call = keepAliveGet(url, { signal: abort.signal, timeoutMs: 5_000, headers: {} });
    abort.abort(new Error('pod removed'));
    await expect(call).rejects.toThrow('pod removed');
  });

  it('rejects when nothing listens', async () => {
    const url = await serve(() => undefined);
    await Promise.all(servers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    await expect(keepAliveGet(url, { signal: new AbortController().signal, timeoutMs: 5_000, headers: {} })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

describe('PodScraper', () => {
  let clock = 0;
  let metrics: LoadScorerMetrics;
  let scraper: PodScraper | undefined;

  beforeEach(() => {
    clock = 1000;
    metrics = createLoadScorerMetrics(new Registry(), () => ({ known: 0, fresh: 0 }));
  });
  afterEach(async () => {
    jest.useRealTimers();
    await scraper?.stop();
    scraper = undefined;
  });

  const make = (options: { get: ScrapeGet; intervalMs?: number; timeoutMs?: number; logger?: Logger }): PodScraper =>
    (scraper = new PodScraper({
      intervalMs: options.intervalMs ?? 50,
      timeoutMs: options.timeoutMs ?? 10_000,
      metricsPath: '/metrics',
      logger: options.logger ?? fakeLogger().logger,
      metrics,
      get: options.get,
      now: () => clock,
    }));

  it('scrapes at once, keeps the values with their time, and never overlaps scrapes of a pod', async () => {
    jest.useFakeTimers({ doNotFake: ['performance', 'queueMicrotask', 'nextTick', 'setImmediate'] });
    const { fn, pending } = scriptedGet();
    const s = make({ get: fn });
    s.addPod(POD);
    expect(pending.map((p) => p.url)).toEqual(['http://10.0.0.1:8000/metrics']);
    jest.advanceTimersByTime(500); // ten intervals while the first scrape hangs
    expect(pending).toHaveLength(1);
    pending[0]!.resolve(new Response(PAGE(3, 0.25)));
    await settle(() => s.load(POD.id), 'values');
    expect(s.load(POD.id)).toEqual({ load: { waiting: 3, running: undefined, kvUsage: 0.25 }, at: 1000 });
    jest.advanceTimersByTime(50);
    expect(pending).toHaveLength(2);
    expect(await counterValue(metrics, 'scrapes', { outcome: 'ok' })).toBe(1);
  });

  it('logs a failing pod once, counts every failure, and logs the recovery once', async () => {
    jest.useFakeTimers({ doNotFake: ['performance', 'queueMicrotask', 'nextTick', 'setImmediate'] });
    const { fn, pending } = scriptedGet();
    const { logger, calls } = fakeLogger();
    const s = make({ get: fn, logger });
    s.addPod(POD);
    for (let i = 0; i < 5; i++) {
      pending[i]!.reject(Object.assign(new TypeError('fetch failed'), { cause: new Error('connect ECONNREFUSED 10.0.0.1:8000') }));
      await settle(async () => ((await counterValue(metrics, 'scrapes', { outcome: 'error' })) === i + 1 ? true : undefined), `failure ${i + 1}`);
      jest.advanceTimersByTime(50);
    }
    pending[5]!.resolve(new Response('<html>oops</html>', { status: 503 }));
    await settle(async () => ((await counterValue(metrics, 'scrapes', { outcome: 'error' })) === 6 ? true : undefined), 'HTTP failure');
    jest.advanceTimersByTime(50);
    pending[6]!.resolve(new Response(PAGE(1, 0.5)));
    await settle(() => s.load(POD.id), 'recovery');
    const warnings = calls.filter((c) => c.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.obj).toMatchObject({ pod: POD.id, outcome: 'error', err: 'fetch failed: connect ECONNREFUSED 10.0.0.1:8000' });
    const recoveries = calls.filter((c) => c.msg === 'pod metrics scrape recovered');
    expect(recoveries).toHaveLength(1);
    expect(recoveries[0]?.obj).toMatchObject({ pod: POD.id, failedScrapes: 6 });
    expect(await counterValue(metrics, 'scrapes', { outcome: 'ok' })).toBe(1);
  });

  it('counts a scrape past its deadline as a timeout and keeps the last values', async () => {
    const { fn, pending } = scriptedGet();
    const s = make({ get: fn, intervalMs: 60_000, timeoutMs: 20 });
    s.addPod(POD);
    // The first answer is in time; the values stay after a later scrape times out.
    pending[0]!.resolve(new Response(PAGE(2, 0.1)));
    await waitFor(async () => s.load(POD.id), { what: 'values' });
    s.addPod(POD); // re-added: a new loop, a new first scrape that hangs until its deadline
    expect(s.load(POD.id)).toBeUndefined();
    await waitFor(async () => ((await counterValue(metrics, 'scrapes', { outcome: 'timeout' })) === 1 ? true : undefined), { what: 'a timeout' });
    // The deadline is the GET's (keepAliveGet's tests); the pod's own signal stays for its removal.
    expect(pending[1]!.signal.aborted).toBe(false);
  });

  it('forgets a removed pod: loop stopped, scrape in flight aborted and not counted', async () => {
    const { fn, pending } = scriptedGet();
    const s = make({ get: fn, intervalMs: 60_000 });
    s.addPod(POD);
    pending[0]!.resolve(new Response(PAGE(2, 0.1)));
    await waitFor(async () => s.load(POD.id), { what: 'values' });
    expect(s.counts(2000)).toEqual({ known: 1, fresh: 1 });
    clock += 2001;
    expect(s.counts(2000)).toEqual({ known: 1, fresh: 0 });
    s.addPod({ id: 'other', address: '10.0.0.2', httpPort: 8000 });
    s.removePod('other');
    expect(pending[1]!.signal.aborted).toBe(true);
    s.removePod(POD.id);
    expect(s.load(POD.id)).toBeUndefined();
    expect(s.podIds()).toEqual([]);
    await s.stop();
    expect(await counterValue(metrics, 'scrapes', { outcome: 'error' })).toBe(0);
    expect(await counterValue(metrics, 'scrapes', { outcome: 'ok' })).toBe(1);
  });
});

describe('LoadScoreService', () => {
  const values = new Map([
    ['A', { load: { waiting: 2, running: 1, kvUsage: 0.5 }, at: 1000 }],
    ['B', { load: { waiting: 0, running: 0, kvUsage: 0.2 }, at: 1000 }],
  ]);
  const source = { load: (pod: string) => values.get(pod), clock: () => 1500 };

  it('answers with the named scorer (kv-cache-utilization when none), omitting pods without values', async () => {
    const metrics = createLoadScorerMetrics(new Registry(), () => ({ known: 0, fresh: 0 }));
    const service = new LoadScoreService({ source, staleAfterMs: 2000, metrics });
    expect(service.score({ pods: ['A', 'B', 'dead'], scorer: '' })).toEqual({
      scorer: 'kv-cache-utilization',
      request_blocks: 0,
      scores: [
        { pod: 'A', score: 0.5, matched_blocks: 0, detail: 'kv_usage=0.5' },
        { pod: 'B', score: 0.8, matched_blocks: 0, detail: 'kv_usage=0.2' },
      ],
    });
    expect(service.score({ pods: ['A', 'B'], scorer: 'queue-size' }).scores).toEqual([
      { pod: 'A', score: 0, matched_blocks: 0, detail: 'waiting=2 running=1' },
      { pod: 'B', score: 1, matched_blocks: 0, detail: 'waiting=0 running=0' },
    ]);
    expect(() => service.score({ pods: ['A'], scorer: 'precise-prefix' })).toThrow(UnknownScorerError);
    expect(await counterValue(metrics, 'scores', { scorer: 'kv-cache-utilization', outcome: 'ok' })).toBe(1);
    expect(await counterValue(metrics, 'scores', { scorer: 'queue-size', outcome: 'ok' })).toBe(1);
    expect(await counterValue(metrics, 'scores', { scorer: 'unknown', outcome: 'invalid' })).toBe(1);
    expect(await counterValue(metrics, 'omittedPods', { scorer: 'kv-cache-utilization' })).toBe(1);
  });
});
