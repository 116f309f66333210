// Original file: libs/contracts/proto/kvr/index/v1/indexer.proto


export interface DumpRequest {
  'pod'?: (string);
  'limit'?: (number);
}

export interface DumpRequest__Output {
  'pod': (string);
  'limit': (number);
}
