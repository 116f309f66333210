// Original file: libs/contracts/proto/kvr/index/v1/indexer.proto


export interface BlockHolders {
  'request_key'?: (string);
  'pods'?: (string)[];
}

export interface BlockHolders__Output {
  'request_key': (string);
  'pods': (string)[];
}
