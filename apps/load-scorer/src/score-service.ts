/**
 * What a Score call does, transport aside: pick the scorer the request names, score the
 * candidates from the last scraped values, count the call. Reads memory only; never waits for a
 * scrape.
 */
import type { ScoreRequest__Output, ScoreResponse } from '@kvr/contracts';
import type { LoadScorerMetrics } from './metrics';
import { LOAD_SCORER_NAMES, resolveScorerName, scoreLoads, type TimedPodLoad } from './scores';

/** The request names a scorer this service does not serve (→ gRPC INVALID_ARGUMENT). */
export class UnknownScorerError extends Error {
  override readonly name = 'UnknownScorerError';
  constructor(readonly scorer: string) {
    super(`unknown scorer "${scorer}"; this service serves ${LOAD_SCORER_NAMES.map((n) => `"${n}"`).join(', ')} (empty: "${LOAD_SCORER_NAMES[0]}")`);
  }
}

/** Where the last values come from (the scraper), and its clock. */
export interface LoadSource {
  load(pod: string): TimedPodLoad | undefined;
  clock(): number;
}

export interface LoadScoreServiceOptions {
  readonly source: LoadSource;
  readonly staleAfterMs: number;
  readonly metrics: Pick<LoadScorerMetrics, 'scores' | 'omittedPods'>;
}

export class LoadScoreService {
  constructor(private readonly options: LoadScoreServiceOptions) {}

  score(request: Pick<ScoreRequest__Output, 'pods' | 'scorer'>): ScoreResponse {
    const { source, metrics } = this.options;
    const scorer = resolveScorerName(request.scorer ?? '');
    if (scorer === undefined) {
      metrics.scores.inc({ scorer: 'unknown', outcome: 'invalid' });
      throw new UnknownScorerError(request.scorer);
    }
    try {
      const result = scoreLoads(scorer, request.pods ?? [], (pod) => source.load(pod), { now: source.clock(), staleAfterMs: this.options.staleAfterMs });
      metrics.scores.inc({ scorer, outcome: 'ok' });
      if (result.omitted.length > 0) metrics.omittedPods.inc({ scorer }, result.omitted.length);
      return {
        scorer,
        request_blocks: 0,
        scores: result.scores.map((s) => ({ pod: s.pod, score: s.score, matched_blocks: 0, detail: s.detail })),
      };
    } catch (err) {
      metrics.scores.inc({ scorer, outcome: 'error' });
      throw err;
    }
  }
}
