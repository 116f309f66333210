// Original file: libs/contracts/proto/kvr/index/v1/indexer.proto


export interface IndexEntry {
  'request_key'?: (string);
  'pod'?: (string);
  'tier'?: (string);
  'blocks'?: (number);
  'speculative'?: (boolean);
}

export interface IndexEntry__Output {
  'request_key': (string);
  'pod': (string);
  'tier': (string);
  'blocks': (number);
  'speculative': (boolean);
}
