/**
 * The precise-prefix Scorer answer built from an index lookup: what the indexer sends over gRPC,
 * and what a gateway that reads the index's Redis itself builds, so that both paths explain a
 * decision with the same numbers. `detail` is JSON with the speculative share and the tier-weighted
 * run, which the gateway reads back to tell confirmed hits from speculative ones.
 */
import type { ScoreResponse__Output } from '@kvr/contracts';
import { precisePrefixScore, SCORERS } from './scorers';

/** One candidate's match, as every BlockIndex backend returns it. */
export interface PrefixMatch {
  readonly pod: string;
  readonly matchedBlocks: number;
  readonly weightedScore: number;
  readonly speculativeBlocks: number;
}

/** What a precise-prefix detail JSON carries (every field optional for senders that omit some). */
export interface PrefixDetail {
  readonly matchedBlocks?: number;
  readonly speculativeBlocks?: number;
  readonly weighted?: number;
}

export function precisePrefixScoreResponse(requestBlocks: number, matches: readonly PrefixMatch[]): ScoreResponse__Output {
  return {
    scorer: SCORERS.precisePrefix,
    request_blocks: requestBlocks,
    scores: matches.map((m) => ({
      pod: m.pod,
      score: precisePrefixScore(m.weightedScore, requestBlocks),
      matched_blocks: m.matchedBlocks,
      detail: JSON.stringify({ matchedBlocks: m.matchedBlocks, speculativeBlocks: m.speculativeBlocks, weighted: m.weightedScore } satisfies PrefixDetail),
    })),
  };
}
