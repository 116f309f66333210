/**
 * Scrapes every known pod's vLLM /metrics on its own timer and keeps the last load read from it.
 *
 * - One loop per pod; a tick that finds the previous scrape still running is skipped, so a slow
 *   pod never has two scrapes in flight.
 * - Each scrape has a deadline (`timeoutMs`, AbortSignal.timeout). A pod that fails keeps its last
 *   values; they age out after staleAfterMs on their own (the scorers check freshness).
 * - A removed pod's loop stops at once, its in-flight scrape is aborted and its values forgotten.
 * - Every scrape is counted by outcome; a pod's failure is logged once when it starts failing and
 *   once when it recovers, not every interval.
 *
 * Score calls only read `load()`: they never wait for a scrape.
 */
import { Agent, request as httpRequest } from 'node:http';
import { hostPort, type DiscoveredPod } from '@kvr/discovery';
import type { Logger } from '@kvr/telemetry';
import type { LoadScorerMetrics, ScrapeOutcome } from './metrics';
import { parsePodLoad } from './pod-load';
import type { TimedPodLoad } from './scores';

/** `http://<address>:<httpPort><path>`, an IPv6 address in brackets. */
export function metricsUrl(pod: Pick<DiscoveredPod, 'address' | 'httpPort'>, metricsPath: string): string {
  const path = metricsPath.startsWith('/') ? metricsPath : `/${metricsPath}`;
  return `http://${hostPort(pod.address, pod.httpPort)}${path}`;
}

/** A scrape's answer: status and body text. */
export interface ScrapeResponse {
  readonly status: number;
  readonly body: string;
}

/**
 * GET `url`, settled by the answer, by `timeoutMs` (rejects with a TimeoutError) or by `signal`
 * (rejects with its reason).
 */
export type ScrapeGet = (url: string, options: { readonly signal: AbortSignal; readonly timeoutMs: number; readonly headers: Readonly<Record<string, string>> }) => Promise<ScrapeResponse>;

export interface PodScraperOptions {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly metricsPath: string;
  readonly logger: Logger;
  readonly metrics: Pick<LoadScorerMetrics, 'scrapes' | 'scrapeSeconds'>;
  /** @default keepAliveGet */
  readonly get?: ScrapeGet;
  /** Clock of `TimedPodLoad.at`, in ms. @default performance.now */
  readonly now?: () => number;
}

interface PodState {
  readonly id: string;
  readonly url: string;
  readonly abort: AbortController;
  timer: NodeJS.Timeout | undefined;
  inFlight: Promise<void> | undefined;
  last: TimedPodLoad | undefined;
  /** Set while the pod's scrapes fail: since when (clock ms) and how many failed. */
  failing: { since: number; failures: number } | undefined;
  removed: boolean;
}

class ScrapeFailure extends Error {}

/**
 * The scrape loop runs ~20 times a second per pod, so its GET is lean: `node:http` with one
 * keep-alive pool, the body as text, one timer for the deadline. Measured per scrape of a vLLM
 * page: global fetch (undici) ~1.8 ms of CPU; this GET wrapped in a fetch `Response` with
 * `AbortSignal.any` + `AbortSignal.timeout` ~0.36 ms, of which the Response and the signals were a
 * quarter (profile of the load-scorer at 8 pods × 20 scrapes/s).
 */
const scrapeAgent = new Agent({ keepAlive: true, maxSockets: 2 });

export const keepAliveGet: ScrapeGet = (url, { signal, timeoutMs, headers }) =>
  new Promise((resolve, reject) => {
    let settled = false;
    const settle = (err: unknown, value?: ScrapeResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      if (err !== undefined) reject(err);
      else resolve(value as ScrapeResponse);
    };
    const req = httpRequest(url, { agent: scrapeAgent, headers }, (res) => {
      res.setEncoding('utf8');
      let body = '';
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => settle(undefined, { status: res.statusCode ?? 500, body }));
      res.on('error', (err) => settle(err));
    });
    const onAbort = (): void => {
      req.destroy();
      settle(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    const timer = setTimeout(() => {
      req.destroy();
      settle(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError'));
    }, timeoutMs);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    req.on('error', (err) => settle(err));
    req.end();
  });

const SCRAPE_HEADERS = { accept: 'text/plain;version=0.0.4' } as const;

export class PodScraper {
  private readonly pods = new Map<string, PodState>();
  private readonly get: ScrapeGet;
  private readonly now: () => number;
  private stopped = false;

  constructor(private readonly options: PodScraperOptions) {
    this.get = options.get ?? keepAliveGet;
    this.now = options.now ?? (() => performance.now());
  }

  /** Starts scraping a pod (first scrape at once). A pod already known under this id is replaced. */
  addPod(pod: Pick<DiscoveredPod, 'id' | 'address' | 'httpPort'>): void {
    if (this.stopped) return;
    if (this.pods.has(pod.id)) this.removePod(pod.id);
    const state: PodState = {
      id: pod.id,
      url: metricsUrl(pod, this.options.metricsPath),
      abort: new AbortController(),
      timer: undefined,
      inFlight: undefined,
      last: undefined,
      failing: undefined,
      removed: false,
    };
    this.pods.set(pod.id, state);
    this.options.logger.info({ pod: pod.id, url: state.url }, 'scraping pod');
    state.timer = setInterval(() => this.tick(state), this.options.intervalMs);
    state.timer.unref();
    this.tick(state);
  }

  /** Stops scraping a pod, aborts its scrape in flight and forgets its values. */
  removePod(id: string): void {
    const state = this.pods.get(id);
    if (!state) return;
    this.pods.delete(id);
    this.retire(state);
    this.options.logger.info({ pod: id }, 'stopped scraping pod');
  }

  /** The pod's last values and when they were read; undefined when never read or unknown. */
  load(id: string): TimedPodLoad | undefined {
    return this.pods.get(id)?.last;
  }

  /** Clock of `load().at`. */
  clock(): number {
    return this.now();
  }

  podIds(): string[] {
    return [...this.pods.keys()];
  }

  /** Pods known, and pods with values at most `staleAfterMs` old. */
  counts(staleAfterMs: number): { known: number; fresh: number } {
    const now = this.now();
    let fresh = 0;
    for (const state of this.pods.values()) if (state.last !== undefined && now - state.last.at <= staleAfterMs) fresh++;
    return { known: this.pods.size, fresh };
  }

  /** Stops every loop and waits for the scrapes in flight to settle. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    const states = [...this.pods.values()];
    this.pods.clear();
    for (const state of states) this.retire(state);
    await Promise.all(states.flatMap((s) => (s.inFlight ? [s.inFlight] : [])));
  }

  private retire(state: PodState): void {
    state.removed = true;
    if (state.timer) clearInterval(state.timer);
    state.timer = undefined;
    state.abort.abort();
    state.last = undefined;
  }

  private tick(state: PodState): void {
    if (state.removed || state.inFlight) return; // still scraping: skip this round
    state.inFlight = this.scrape(state).finally(() => {
      state.inFlight = undefined;
    });
  }

  /** One scrape; never rejects. */
  private async scrape(state: PodState): Promise<void> {
    const started = performance.now();
    let outcome: ScrapeOutcome = 'ok';
    try {
      const res = await this.get(state.url, { signal: state.abort.signal, timeoutMs: this.options.timeoutMs, headers: SCRAPE_HEADERS });
      if (res.status < 200 || res.status > 299) throw new ScrapeFailure(`HTTP ${res.status}`);
      const at = this.now();
      const parsed = parsePodLoad(res.body);
      if (!parsed.ok) throw new ScrapeFailure(parsed.reason);
      if (state.removed) return;
      state.last = { load: parsed.load, at };
      if (state.failing) {
        this.options.logger.info({ pod: state.id, url: state.url, failedScrapes: state.failing.failures, failingForMs: Math.round(at - state.failing.since) }, 'pod metrics scrape recovered');
        state.failing = undefined;
      }
    } catch (err) {
      if (state.removed) return; // aborted because the pod went away: not a failure
      outcome = isTimeout(err) ? 'timeout' : 'error';
      if (state.failing) {
        state.failing.failures++;
      } else {
        state.failing = { since: this.now(), failures: 1 };
        this.options.logger.warn(
          { pod: state.id, url: state.url, outcome, err: describeError(err), timeoutMs: outcome === 'timeout' ? this.options.timeoutMs : undefined },
          'pod metrics scrape failing; its last values are kept until they are stale',
        );
      }
    } finally {
      if (!state.removed) {
        this.options.metrics.scrapes.inc({ outcome });
        this.options.metrics.scrapeSeconds.observe((performance.now() - started) / 1000);
      }
    }
  }
}

function isTimeout(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'TimeoutError';
}

/** The message of a fetch failure with its cause (undici hides `ECONNREFUSED` in `cause`). */
function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error && cause.message && cause.message !== err.message) return `${err.message}: ${cause.message}`;
  return err.message;
}
