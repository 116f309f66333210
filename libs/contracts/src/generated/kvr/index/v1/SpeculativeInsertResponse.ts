// Original file: libs/contracts/proto/kvr/index/v1/indexer.proto


export interface SpeculativeInsertResponse {
  'blocks'?: (number);
}

export interface SpeculativeInsertResponse__Output {
  'blocks': (number);
}
