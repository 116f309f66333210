import {
  ApproxPrefixIndex,
  SCORERS,
  formatExplanation,
  kvCacheUtilizationScore,
  noHitLruScores,
  precisePrefixScore,
  queueSizeScores,
  rankByScore,
  tokenSeed,
  weightedTotals,
  type RouteExplanation,
} from './index';

describe('scorers', () => {
  it('precise-prefix is the matched share of the request blocks, capped at 1', () => {
    expect(precisePrefixScore(80, 100)).toBe(0.8);
    expect(precisePrefixScore(0, 100)).toBe(0);
    expect(precisePrefixScore(5, 0)).toBe(0);
    expect(precisePrefixScore(120, 100)).toBe(1);
    expect(precisePrefixScore(Number.NaN, 10)).toBe(0);
  });

  it('kv-cache-utilization is one minus usage, clamped', () => {
    expect(kvCacheUtilizationScore(0.25)).toBe(0.75);
    expect(kvCacheUtilizationScore(1.5)).toBe(0);
    expect(kvCacheUtilizationScore(-1)).toBe(1);
  });

  it('queue-size is min-max normalised, 1 for all when queues are equal', () => {
    expect(queueSizeScores(new Map([['a', 2], ['b', 0], ['c', 4]]))).toEqual(new Map([['a', 0.5], ['b', 1], ['c', 0]]));
    expect(queueSizeScores(new Map([['a', 3], ['b', 3]]))).toEqual(new Map([['a', 1], ['b', 1]]));
  });

  it('no-hit-LRU gives 0.5 to all when warm', () => {
    expect(noHitLruScores(['a', 'b'], ['a'], false)).toEqual(new Map([['a', 0.5], ['b', 0.5]]));
  });

  it('no-hit-LRU ranks never-used pods first, then least recently used', () => {
    // c was never chosen; a is older than b in the LRU.
    const scores = noHitLruScores(['a', 'b', 'c'], ['a', 'b'], true);
    expect(scores.get('c')).toBe(1);
    expect(scores.get('a')).toBe(0.5);
    expect(scores.get('b')).toBe(0);
    // LRU entries that are not candidates do not take ranks.
    expect(noHitLruScores(['a', 'b'], ['gone', 'b', 'a'], true)).toEqual(new Map([['b', 1], ['a', 0]]));
    expect(noHitLruScores(['solo'], ['solo'], true)).toEqual(new Map([['solo', 1]]));
  });
});

describe('weighted totals and picking', () => {
  it('reproduces the reference worked example (A wins with 5.4)', () => {
    // upstream-spec §4.10: 3 pods, 100-block request.
    const pods = ['A', 'B', 'C'];
    const totals = weightedTotals(pods, [
      { scorer: SCORERS.precisePrefix, weight: 3, scores: new Map([['A', precisePrefixScore(80, 100)], ['B', 0], ['C', precisePrefixScore(10, 100)]]) },
      { scorer: SCORERS.kvCacheUtilization, weight: 2, scores: new Map([['A', kvCacheUtilizationScore(0.5)], ['B', kvCacheUtilizationScore(0.2)], ['C', kvCacheUtilizationScore(0.9)]]) },
      { scorer: SCORERS.queueSize, weight: 2, scores: queueSizeScores(new Map([['A', 2], ['B', 0], ['C', 4]])) },
      { scorer: SCORERS.noHitLru, weight: 2, scores: noHitLruScores(pods, [], false) },
    ]);
    expect(totals.get('A')).toBeCloseTo(5.4, 10);
    expect(totals.get('B')).toBeCloseTo(4.6, 10);
    expect(totals.get('C')).toBeCloseTo(1.5, 10);
    expect(rankByScore(totals, 'seed')[0]?.pod).toBe('A');
  });

  it('gives pods a scorer left out nothing from it, and ignores pods that are not candidates', () => {
    const totals = weightedTotals(['a', 'b'], [{ scorer: 'x', weight: 2, scores: new Map([['a', 1], ['zzz', 1]]) }]);
    expect(totals).toEqual(new Map([['a', 2], ['b', 0]]));
  });

  it('breaks ties the same way for the same seed, whatever the input order', () => {
    const forward = rankByScore(new Map([['p1', 1], ['p2', 1], ['p3', 1], ['p4', 0.5]]), 'abc');
    const backward = rankByScore(new Map([['p4', 0.5], ['p3', 1], ['p2', 1], ['p1', 1]]), 'abc');
    expect(forward).toEqual(backward);
    expect(forward[3]?.pod).toBe('p4');
  });

  it('spreads ties over pods across different seeds', () => {
    const totals = new Map([['p1', 1], ['p2', 1], ['p3', 1], ['p4', 1]]);
    const winners = new Set(Array.from({ length: 64 }, (_, i) => rankByScore(totals, `seed-${i}`)[0]?.pod));
    expect(winners.size).toBeGreaterThan(2);
  });

  it('token seeds depend on every token and their order', () => {
    expect(tokenSeed([1, 2, 3])).toBe(tokenSeed([1, 2, 3]));
    expect(tokenSeed([1, 2, 3])).not.toBe(tokenSeed([3, 2, 1]));
    expect(tokenSeed([1, 2, 3])).not.toBe(tokenSeed([1, 2, 4]));
  });
});

describe('formatExplanation', () => {
  it('prints one row per pod with each active scorer, marks the chosen pod and lists fallbacks', () => {
    const explanation: RouteExplanation = {
      requestId: 'r1',
      model: 'm',
      promptTokens: 130,
      requestBlocks: 2,
      cold: false,
      scorers: [
        { scorer: SCORERS.precisePrefix, weight: 3, status: 'ok' },
        { scorer: SCORERS.queueSize, weight: 2, status: 'failed', reason: 'deadline_exceeded' },
        { scorer: SCORERS.noHitLru, weight: 0, status: 'skipped', reason: 'weight 0' },
      ],
      pods: [
        { pod: '10.0.0.1:8000', total: 3, scores: { 'precise-prefix': 1 }, matchedBlocks: 2, details: {} },
        { pod: '10.0.0.2:8000', total: 0, scores: { 'precise-prefix': 0 }, matchedBlocks: 0, details: {} },
      ],
      chosen: '10.0.0.1:8000',
      predictedCachedBlocks: 2,
      fallbacks: ['queue-size:deadline_exceeded'],
    };
    const text = formatExplanation(explanation);
    expect(text).toContain('* 10.0.0.1:8000');
    expect(text).toMatch(/precise-prefix×3/);
    expect(text).toMatch(/queue-size×2/);
    expect(text).not.toMatch(/no-hit-lru×/);
    expect(text).toContain('2/2');
    expect(text).toContain('fallbacks: queue-size:deadline_exceeded');
  });
});

describe('ApproxPrefixIndex', () => {
  it('scores the run of leading blocks it routed to each pod, and forgets the least recently used', () => {
    const index = new ApproxPrefixIndex(4);
    index.record([1n, 2n, 3n], 'a');
    index.record([1n, 9n], 'b');
    expect(index.match([1n, 2n, 3n, 4n], ['a', 'b', 'c'])).toEqual(new Map([['a', 3], ['b', 1], ['c', 0]]));
    expect(index.match([7n, 2n], ['a'])).toEqual(new Map([['a', 0]]));
    // Capacity 4: recording two more keys pushes out the two least recently routed (2n, 3n).
    index.record([1n, 5n, 6n], 'c');
    expect(index.size).toBe(4);
    expect(index.match([1n, 2n], ['a', 'c'])).toEqual(new Map([['a', 1], ['c', 1]]));
    expect(index.match([1n, 5n, 6n], ['c'])).toEqual(new Map([['c', 3]]));
  });
});
