// Public API of @kvr/scoring: llm-d's scorers as pure functions, the weighted sum, the max-score
// picker with a deterministic tie-break, and the explanation of a decision. No I/O: the gateway
// gathers the inputs (remote scorers, Redis LRU) and hands them in.
export { SCORERS, SCORER_NAMES, clampScore, precisePrefixScore, kvCacheUtilizationScore, queueSizeScores, noHitLruScores } from './scorers';
export type { ScorerName } from './scorers';
export { weightedTotals, rankByScore, tieBreakHash, tokenSeed } from './picker';
export type { WeightedScores, RankedPod } from './picker';
export { formatExplanation } from './explanation';
export type { RouteExplanation, PodExplanation, ScorerOutcome } from './explanation';
export { ApproxPrefixIndex } from './approx-prefix';
export { precisePrefixScoreResponse } from './precise-response';
export type { PrefixMatch, PrefixDetail } from './precise-response';
