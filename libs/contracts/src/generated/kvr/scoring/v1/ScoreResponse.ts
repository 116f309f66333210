// Original file: libs/contracts/proto/kvr/scoring/v1/scorer.proto

import type { PodScore as _kvr_scoring_v1_PodScore, PodScore__Output as _kvr_scoring_v1_PodScore__Output } from '../../../kvr/scoring/v1/PodScore';

export interface ScoreResponse {
  /**
   * Scorer name: "precise-prefix", "kv-cache-utilization", "queue-size".
   */
  'scorer'?: (string);
  'scores'?: (_kvr_scoring_v1_PodScore)[];
  /**
   * Number of full blocks in the request (precise-prefix only).
   */
  'request_blocks'?: (number);
}

export interface ScoreResponse__Output {
  /**
   * Scorer name: "precise-prefix", "kv-cache-utilization", "queue-size".
   */
  'scorer': (string);
  'scores': (_kvr_scoring_v1_PodScore__Output)[];
  /**
   * Number of full blocks in the request (precise-prefix only).
   */
  'request_blocks': (number);
}
