/**
 * The scorers of llm-d's precise-prefix-cache-routing profile, as pure functions over what the
 * remote services and the gateway know. Semantics follow llm-d-router@ebab6879 and
 * llm-d-inference-scheduler@520af478 (see docs/architecture.md, read path); every score is in
 * [0, 1], higher is better.
 */

/** Scorer names as they appear in config, spans, metrics and explanations. */
export const SCORERS = {
  precisePrefix: 'precise-prefix',
  kvCacheUtilization: 'kv-cache-utilization',
  queueSize: 'queue-size',
  noHitLru: 'no-hit-lru',
  approxPrefix: 'approx-prefix',
} as const;

export type ScorerName = (typeof SCORERS)[keyof typeof SCORERS];

export const SCORER_NAMES: readonly ScorerName[] = Object.values(SCORERS);

/** Clamps to [0, 1]; NaN becomes 0 (a broken input never wins a pick). */
export function clampScore(value: number): number {
  if (!(value > 0)) return 0;
  return value > 1 ? 1 : value;
}

/**
 * precise-prefix, absolute normalisation (llm-d since e6f6b84f): the pod's weighted run of
 * leading blocks divided by the request's full blocks. 0 when the request has no full block.
 */
export function precisePrefixScore(weightedMatch: number, requestBlocks: number): number {
  if (requestBlocks <= 0 || !(weightedMatch > 0)) return 0;
  return clampScore(weightedMatch / requestBlocks);
}

/** kv-cache-utilization: `1 − vllm:kv_cache_usage_perc` (a 0..1 fraction despite its name). */
export function kvCacheUtilizationScore(usage: number): number {
  return clampScore(1 - usage);
}

/**
 * queue-size: min-max over the pods given, `(max − q) / (max − min)`; every pod gets 1 when all
 * queues are equal.
 */
export function queueSizeScores(waiting: ReadonlyMap<string, number>): Map<string, number> {
  let min = Infinity;
  let max = -Infinity;
  for (const q of waiting.values()) {
    min = Math.min(min, q);
    max = Math.max(max, q);
  }
  const scores = new Map<string, number>();
  for (const [pod, q] of waiting) scores.set(pod, max === min ? 1 : clampScore((max - q) / (max - min)));
  return scores;
}

/**
 * no-hit-LRU. A request is cold when no candidate holds its first block. Warm: every candidate
 * 0.5. Cold: candidates never chosen for a cold request rank first (in candidate order), then
 * the chosen ones from least to most recently used; `score = max(0, 1 − rank / (N − 1))`, and a
 * single candidate gets 1.
 *
 * @param candidates the request's candidates, in a stable order (replicas must agree on it)
 * @param lruOldestFirst pods chosen for earlier cold requests, least recently chosen first
 */
export function noHitLruScores(candidates: readonly string[], lruOldestFirst: readonly string[], cold: boolean): Map<string, number> {
  const scores = new Map<string, number>();
  const n = candidates.length;
  if (!cold) {
    for (const pod of candidates) scores.set(pod, 0.5);
    return scores;
  }
  if (n === 1) {
    scores.set(candidates[0] as string, 1);
    return scores;
  }
  const position = new Map<string, number>();
  lruOldestFirst.forEach((pod, i) => position.set(pod, i));
  const neverUsed = candidates.filter((pod) => !position.has(pod));
  neverUsed.forEach((pod, i) => scores.set(pod, clampScore(1 - i / (n - 1))));
  // Used pods in LRU order, ranked after the never-used ones. Pods in the LRU that are not
  // candidates are skipped, so the ranks stay dense over the candidates.
  const used = candidates.filter((pod) => position.has(pod)).sort((a, b) => (position.get(a) as number) - (position.get(b) as number));
  used.forEach((pod, i) => scores.set(pod, clampScore(1 - (neverUsed.length + i) / (n - 1))));
  return scores;
}
