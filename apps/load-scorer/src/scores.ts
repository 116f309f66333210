/**
 * The two load scorers over a snapshot of pod loads. The math and the names are @kvr/scoring's
 * (llm-d's semantics, shared with the gateway); this file adds what the service needs around
 * them: freshness filtering, the raw inputs as details, and which scorer a request names. Pure:
 * the caller passes the clock and a lookup of the last values, so every rule here is unit-tested.
 *
 *   kv-cache-utilization  score = 1 - kv_cache_usage_perc, clamped to [0, 1]
 *   queue-size            score = (max - waiting) / (max - min) over the scored pods; 1 when max = min
 *
 * A candidate without fresh values (never scraped, or last values older than staleAfterMs) is
 * left out of the answer: a dead pod must not look idle.
 */
import { SCORERS, kvCacheUtilizationScore, queueSizeScores as queueSizeScoreMap } from '@kvr/scoring';
import type { PodLoad } from './pod-load';

export const KV_CACHE_UTILIZATION_SCORER = SCORERS.kvCacheUtilization;
export const QUEUE_SIZE_SCORER = SCORERS.queueSize;
/** The scorers this service serves; the first answers a request that names none. */
export const LOAD_SCORER_NAMES = [KV_CACHE_UTILIZATION_SCORER, QUEUE_SIZE_SCORER] as const;
export type LoadScorerName = (typeof LOAD_SCORER_NAMES)[number];

/** The scorer a request names (empty: the first one); undefined for a name this service does not serve. */
export function resolveScorerName(requested: string): LoadScorerName | undefined {
  if (requested === '') return LOAD_SCORER_NAMES[0];
  return (LOAD_SCORER_NAMES as readonly string[]).includes(requested) ? (requested as LoadScorerName) : undefined;
}

/** A pod's load and when it was read (ms, on the caller's clock). */
export interface TimedPodLoad {
  readonly load: PodLoad;
  readonly at: number;
}

export interface LoadScore {
  readonly pod: string;
  /** In [0, 1]. */
  readonly score: number;
  /** The raw input, e.g. `kv_usage=0.42` or `waiting=3 running=2`. */
  readonly detail: string;
}

const shortNumber = (x: number): string => String(Number(x.toFixed(4)));

/** 1 - KV-cache usage per pod, clamped to [0, 1]. */
export function kvCacheUtilizationScores(loads: ReadonlyArray<readonly [string, PodLoad]>): LoadScore[] {
  return loads.map(([pod, load]) => ({ pod, score: kvCacheUtilizationScore(load.kvUsage), detail: `kv_usage=${shortNumber(load.kvUsage)}` }));
}

/** Min-max normalised waiting queue: the shortest queue scores 1, the longest 0; all equal → 1. */
export function queueSizeScores(loads: ReadonlyArray<readonly [string, PodLoad]>): LoadScore[] {
  const scores = queueSizeScoreMap(new Map(loads.map(([pod, load]) => [pod, load.waiting])));
  return loads.map(([pod, load]) => ({
    pod,
    score: scores.get(pod) ?? 0,
    detail: `waiting=${shortNumber(load.waiting)}${load.running === undefined ? '' : ` running=${shortNumber(load.running)}`}`,
  }));
}

/**
 * Splits the candidates into pods with fresh values (in request order, each once) and pods
 * left out. Fresh: read at most `staleAfterMs` before `now`.
 */
export function freshLoads(
  pods: readonly string[],
  lookup: (pod: string) => TimedPodLoad | undefined,
  now: number,
  staleAfterMs: number,
): { fresh: [string, PodLoad][]; omitted: string[] } {
  const fresh: [string, PodLoad][] = [];
  const omitted: string[] = [];
  const seen = new Set<string>();
  for (const pod of pods) {
    if (seen.has(pod)) continue;
    seen.add(pod);
    const value = lookup(pod);
    if (value !== undefined && now - value.at <= staleAfterMs) fresh.push([pod, value.load]);
    else omitted.push(pod);
  }
  return { fresh, omitted };
}

export interface LoadScoring {
  readonly scorer: LoadScorerName;
  readonly scores: LoadScore[];
  /** Candidates left out for want of fresh values. */
  readonly omitted: string[];
}

/** One Score call: the named scorer over the candidates' fresh loads. */
export function scoreLoads(
  scorer: LoadScorerName,
  pods: readonly string[],
  lookup: (pod: string) => TimedPodLoad | undefined,
  options: { readonly now: number; readonly staleAfterMs: number },
): LoadScoring {
  const { fresh, omitted } = freshLoads(pods, lookup, options.now, options.staleAfterMs);
  const scores = scorer === KV_CACHE_UTILIZATION_SCORER ? kvCacheUtilizationScores(fresh) : queueSizeScores(fresh);
  return { scorer, scores, omitted };
}
