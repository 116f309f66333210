import { clampScore } from './scorers';

/** One scorer's contribution to a decision. Pods the scorer did not score get nothing from it. */
export interface WeightedScores {
  readonly scorer: string;
  readonly weight: number;
  readonly scores: ReadonlyMap<string, number>;
}

/**
 * `total[pod] = Σ weight × clamp(score, 0, 1)` over the scorers, as llm-d's scheduler profile
 * sums them (weights are not normalised by their sum). Every candidate appears, at 0 if no
 * scorer scored it.
 */
export function weightedTotals(candidates: readonly string[], contributions: readonly WeightedScores[]): Map<string, number> {
  const totals = new Map<string, number>();
  for (const pod of candidates) totals.set(pod, 0);
  for (const { weight, scores } of contributions) {
    if (weight <= 0) continue;
    for (const [pod, score] of scores) {
      const total = totals.get(pod);
      if (total !== undefined) totals.set(pod, total + weight * clampScore(score));
    }
  }
  return totals;
}

export interface RankedPod {
  readonly pod: string;
  readonly total: number;
}

/**
 * FNV-1a 32-bit of a string's UTF-16 code units: the tie-break hash. Not a security property;
 * it only has to be cheap and the same in every replica.
 */
export function tieBreakHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/**
 * max-score picker: pods by total, best first. llm-d breaks ties at random; here equal totals
 * are ordered by a hash of the request's seed and the pod id, so two gateway replicas with the
 * same state pick the same pod, while different requests still spread over tied pods.
 */
export function rankByScore(totals: ReadonlyMap<string, number>, seed: string): RankedPod[] {
  const ranked = [...totals].map(([pod, total]) => ({ pod, total, tie: tieBreakHash(`${seed}|${pod}`) }));
  ranked.sort((a, b) => b.total - a.total || a.tie - b.tie || (a.pod < b.pod ? -1 : a.pod > b.pod ? 1 : 0));
  return ranked.map(({ pod, total }) => ({ pod, total }));
}

/**
 * A request's tie-break seed from its prompt token ids (FNV-1a 32 over the ids): the same prompt
 * gives the same seed in every replica. Cheap: one multiply per token.
 */
export function tokenSeed(tokenIds: ArrayLike<number>): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < tokenIds.length; i++) {
    hash ^= (tokenIds[i] as number) >>> 0;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16);
}
