import type { ScoreRequest, ScoreResponse__Output } from '@kvr/contracts';
import { CachedScoringService } from './load-score-cache';
import type { ScoringService } from './remote';

const request = (scorer: string, pods: string[]): ScoreRequest => ({ model: 'm', scorer, pods, request_id: `r-${Math.random()}` });
const response = (n: number): ScoreResponse__Output => ({ scorer: 'kv-cache-utilization', request_blocks: 0, scores: [{ pod: 'a', score: n, matched_blocks: 0, detail: '' }] });

/** An inner service whose calls the test settles by hand, and a clock the test moves. */
function harness(maxAgeMs: number) {
  const calls: { request: ScoreRequest; resolve(r: ScoreResponse__Output): void; reject(e: Error): void }[] = [];
  const inner: ScoringService = {
    score: (req) => new Promise((resolve, reject) => calls.push({ request: req, resolve, reject })),
    connect: async () => true,
    close: () => undefined,
  };
  let clock = 0;
  const outcomes: string[] = [];
  const cache = new CachedScoringService(inner, maxAgeMs, { now: () => clock, onOutcome: (outcome) => outcomes.push(outcome) });
  return { calls, cache, outcomes, advance: (ms: number) => (clock += ms) };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('CachedScoringService', () => {
  it('calls through when nothing is cached, then answers from the cache while it is fresh', async () => {
    const h = harness(50);
    const first = h.cache.score(request('kv-cache-utilization', ['a', 'b']), 10);
    expect(h.calls).toHaveLength(1);
    h.calls[0]?.resolve(response(0.4));
    expect((await first).scores[0]?.score).toBe(0.4);
    h.advance(20);
    expect((await h.cache.score(request('kv-cache-utilization', ['a', 'b']), 10)).scores[0]?.score).toBe(0.4);
    expect(h.calls).toHaveLength(1);
    expect(h.outcomes).toEqual(['miss', 'hit']);
  });

  it('keys by scorer and candidate set', async () => {
    const h = harness(50);
    const a = h.cache.score(request('kv-cache-utilization', ['a', 'b']), 10);
    const b = h.cache.score(request('queue-size', ['a', 'b']), 10);
    const c = h.cache.score(request('kv-cache-utilization', ['a']), 10);
    expect(h.calls.map((call) => [call.request.scorer, call.request.pods])).toEqual([
      ['kv-cache-utilization', ['a', 'b']],
      ['queue-size', ['a', 'b']],
      ['kv-cache-utilization', ['a']],
    ]);
    h.calls.forEach((call, i) => call.resolve(response(i)));
    expect((await Promise.all([a, b, c])).map((r) => r.scores[0]?.score)).toEqual([0, 1, 2]);
  });

  it('past half its age, answers from the cache and refreshes once in the background', async () => {
    const h = harness(50);
    const first = h.cache.score(request('queue-size', ['a']), 10);
    h.calls[0]?.resolve(response(1));
    await first;
    h.advance(30);
    expect((await h.cache.score(request('queue-size', ['a']), 10)).scores[0]?.score).toBe(1);
    expect((await h.cache.score(request('queue-size', ['a']), 10)).scores[0]?.score).toBe(1);
    expect(h.calls).toHaveLength(2); // one refresh, not one per request
    h.calls[1]?.resolve(response(0.5));
    await flush();
    expect((await h.cache.score(request('queue-size', ['a']), 10)).scores[0]?.score).toBe(0.5);
    expect(h.calls).toHaveLength(2);
  });

  it('a failed refresh lets the entry age out, after which a dead load-scorer fails the call', async () => {
    const h = harness(50);
    const first = h.cache.score(request('queue-size', ['a']), 10);
    h.calls[0]?.resolve(response(1));
    await first;
    h.advance(30);
    await h.cache.score(request('queue-size', ['a']), 10);
    h.calls[1]?.reject(new Error('unavailable'));
    await flush();
    expect(h.outcomes).toEqual(['miss', 'refresh', 'hit', 'refresh_failed']);
    h.advance(21);
    const late = h.cache.score(request('queue-size', ['a']), 10);
    expect(h.calls).toHaveLength(3);
    h.calls[2]?.reject(new Error('unavailable'));
    await expect(late).rejects.toThrow('unavailable');
  });

  it('with maxAgeMs 0 asks on every request', async () => {
    const h = harness(0);
    const calls = [h.cache.score(request('queue-size', ['a']), 10), h.cache.score(request('queue-size', ['a']), 10)];
    expect(h.calls).toHaveLength(2);
    h.calls.forEach((call) => call.resolve(response(1)));
    await Promise.all(calls);
  });
});
