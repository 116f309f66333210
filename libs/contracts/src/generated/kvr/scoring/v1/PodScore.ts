// Original file: libs/contracts/proto/kvr/scoring/v1/scorer.proto


export interface PodScore {
  'pod'?: (string);
  /**
   * Normalised score in [0, 1].
   */
  'score'?: (number | string);
  /**
   * Scorer-specific evidence, e.g. matched prefix blocks for the precise-prefix scorer.
   */
  'matched_blocks'?: (number);
  /**
   * Raw input of the score for explanations, e.g. "queue=3" or "kv_usage=0.42".
   */
  'detail'?: (string);
}

export interface PodScore__Output {
  'pod': (string);
  /**
   * Normalised score in [0, 1].
   */
  'score': (number);
  /**
   * Scorer-specific evidence, e.g. matched prefix blocks for the precise-prefix scorer.
   */
  'matched_blocks': (number);
  /**
   * Raw input of the score for explanations, e.g. "queue=3" or "kv_usage=0.42".
   */
  'detail': (string);
}
