import { parsePodLoad, type PodLoad } from './pod-load';
import { freshLoads, kvCacheUtilizationScores, queueSizeScores, resolveScorerName, scoreLoads, type TimedPodLoad } from './scores';

const load = (kvUsage: number, waiting: number, running?: number): PodLoad => ({ kvUsage, waiting, running });

/** The worked example: A usage .5 queue 2, B .2/0, C .9/4. */
const EXAMPLE: [string, PodLoad][] = [
  ['A', load(0.5, 2)],
  ['B', load(0.2, 0)],
  ['C', load(0.9, 4)],
];

const scoreMap = (scores: { pod: string; score: number }[]): Record<string, number> => Object.fromEntries(scores.map((s) => [s.pod, s.score]));

describe('kv-cache-utilization', () => {
  it('scores 1 - usage: A .5, B .8, C .1', () => {
    const scores = scoreMap(kvCacheUtilizationScores(EXAMPLE));
    expect(scores['A']).toBeCloseTo(0.5, 12);
    expect(scores['B']).toBeCloseTo(0.8, 12);
    expect(scores['C']).toBeCloseTo(0.1, 12);
  });

  it('clamps to [0, 1] and explains with the usage', () => {
    const scores = kvCacheUtilizationScores([
      ['over', load(1.3, 0)],
      ['under', load(-0.2, 0)],
      ['p', load(0.42, 0)],
    ]);
    expect(scores.map((s) => s.score).slice(0, 2)).toEqual([0, 1]);
    expect(scores[2]?.score).toBeCloseTo(0.58, 12);
    expect(scores[2]?.detail).toBe('kv_usage=0.42');
  });
});

describe('queue-size', () => {
  it('min-max normalises the waiting queue: A .5, B 1, C 0', () => {
    expect(scoreMap(queueSizeScores(EXAMPLE))).toEqual({ A: 0.5, B: 1, C: 0 });
  });

  it('gives every pod 1.0 when all queues are equal', () => {
    expect(scoreMap(queueSizeScores([['A', load(0.1, 3)], ['B', load(0.7, 3)], ['C', load(0, 3)]]))).toEqual({ A: 1, B: 1, C: 1 });
    expect(scoreMap(queueSizeScores([['only', load(0.5, 9)]]))).toEqual({ only: 1 });
    expect(queueSizeScores([])).toEqual([]);
  });

  it('explains with waiting and, when known, running', () => {
    const [a, b] = queueSizeScores([['A', load(0, 3, 2)], ['B', load(0, 0)]]);
    expect(a?.detail).toBe('waiting=3 running=2');
    expect(b?.detail).toBe('waiting=0');
  });
});

describe('freshness', () => {
  const at = (value: PodLoad, time: number): TimedPodLoad => ({ load: value, at: time });
  const values = new Map<string, TimedPodLoad>([
    ['A', at(load(0.5, 2), 1000)],
    ['B', at(load(0.2, 0), 900)],
    ['C', at(load(0.9, 4), 2000)],
  ]);
  const lookup = (pod: string): TimedPodLoad | undefined => values.get(pod);

  it('omits stale and unknown pods, keeps request order, each pod once', () => {
    const { fresh, omitted } = freshLoads(['C', 'A', 'B', 'unknown', 'A'], lookup, 3000, 2000);
    expect(fresh.map(([pod]) => pod)).toEqual(['C', 'A']);
    expect(omitted).toEqual(['B', 'unknown']);
  });

  it('normalises the queue over the fresh pods only (a dead pod does not look idle)', () => {
    // B (queue 0) is stale: A and C are the min and max.
    const queue = scoreLoads('queue-size', ['A', 'B', 'C'], lookup, { now: 3000, staleAfterMs: 2000 });
    expect(queue).toEqual({
      scorer: 'queue-size',
      scores: [
        { pod: 'A', score: 1, detail: 'waiting=2' },
        { pod: 'C', score: 0, detail: 'waiting=4' },
      ],
      omitted: ['B'],
    });
    const kv = scoreLoads('kv-cache-utilization', ['A', 'B', 'C'], lookup, { now: 3000, staleAfterMs: 2000 });
    expect(kv.scores.map((s) => s.pod)).toEqual(['A', 'C']);
    expect(kv.omitted).toEqual(['B']);
  });

  it('scores nobody when nothing is fresh', () => {
    expect(scoreLoads('queue-size', ['A', 'B', 'C'], lookup, { now: 10_000, staleAfterMs: 2000 })).toEqual({ scorer: 'queue-size', scores: [], omitted: ['A', 'B', 'C'] });
  });
});

describe('resolveScorerName', () => {
  it('defaults to kv-cache-utilization and rejects unknown names', () => {
    expect(resolveScorerName('')).toBe('kv-cache-utilization');
    expect(resolveScorerName('queue-size')).toBe('queue-size');
    expect(resolveScorerName('kv-cache-utilization')).toBe('kv-cache-utilization');
    expect(resolveScorerName('precise-prefix')).toBeUndefined();
    expect(resolveScorerName('Queue-Size')).toBeUndefined();
  });
});

describe('parsePodLoad', () => {
  it('reads the three gauges of a vLLM page', () => {
    const page = [
      '# TYPE vllm:num_requests_waiting gauge',
      'vllm:num_requests_waiting{engine="0",model_name="Qwen/Qwen3-32B"} 3.0',
      'vllm:num_requests_running{engine="0",model_name="Qwen/Qwen3-32B"} 5.0',
      'vllm:kv_cache_usage_perc{engine="0",model_name="Qwen/Qwen3-32B"} 0.42',
    ].join('\n');
    expect(parsePodLoad(page)).toEqual({ ok: true, load: { waiting: 3, running: 5, kvUsage: 0.42 } });
  });

  it('sums the queues and takes the largest usage over label sets', () => {
    const page = [
      'vllm:num_requests_waiting{engine="0",model_name="m"} 3',
      'vllm:num_requests_waiting{engine="1",model_name="m"} 4',
      'vllm:num_requests_running{engine="0",model_name="m"} 1',
      'vllm:num_requests_running{engine="1",model_name="m"} 2',
      'vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.3',
      'vllm:kv_cache_usage_perc{engine="1",model_name="m"} 0.7',
    ].join('\n');
    expect(parsePodLoad(page)).toEqual({ ok: true, load: { waiting: 7, running: 3, kvUsage: 0.7 } });
  });

  it('does without num_requests_running', () => {
    expect(parsePodLoad('vllm:num_requests_waiting 0\nvllm:kv_cache_usage_perc 0\n')).toEqual({ ok: true, load: { waiting: 0, running: undefined, kvUsage: 0 } });
  });

  it('fails on a missing or unusable required gauge', () => {
    expect(parsePodLoad('vllm:kv_cache_usage_perc 0.1\n')).toMatchObject({ ok: false, reason: 'no vllm:num_requests_waiting' });
    expect(parsePodLoad('vllm:num_requests_waiting 1\n')).toMatchObject({ ok: false, reason: 'no vllm:kv_cache_usage_perc' });
    expect(parsePodLoad('vllm:num_requests_waiting NaN\nvllm:kv_cache_usage_perc 0.1\n')).toMatchObject({ ok: false, reason: 'vllm:num_requests_waiting is NaN' });
    expect(parsePodLoad('vllm:num_requests_waiting 1\nvllm:kv_cache_usage_perc +Inf\n')).toMatchObject({ ok: false, reason: 'vllm:kv_cache_usage_perc is Infinity' });
    expect(parsePodLoad('<html>not metrics</html>')).toMatchObject({ ok: false, reason: 'malformed metrics line 1: bad metric name' });
  });

  it('fails on a malformed line of a load gauge, ignores other metrics\' lines', () => {
    const result = parsePodLoad('vllm:num_requests_waiting{engine="0" 1\nvllm:kv_cache_usage_perc 0.1\n');
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(/^malformed metrics line 1: /);
    expect(parsePodLoad('vllm:other{broken 1\nvllm:num_requests_waiting 1\nvllm:kv_cache_usage_perc 0.1\n').ok).toBe(true);
  });
});
