// Original file: libs/contracts/proto/kvr/index/v1/indexer.proto


export interface PodMatch {
  'pod'?: (string);
  'matched_blocks'?: (number);
  'weighted_score'?: (number | string);
  'speculative_blocks'?: (number);
}

export interface PodMatch__Output {
  'pod': (string);
  'matched_blocks': (number);
  'weighted_score': (number);
  'speculative_blocks': (number);
}
