// Original file: libs/contracts/proto/kvr/index/v1/indexer.proto


export interface LookupRequest {
  'model'?: (string);
  'lora_name'?: (string);
  /**
   * Candidate pods; empty = every pod that holds the first block.
   */
  'pods'?: (string)[];
  'token_ids'?: (number)[];
  'cache_salt'?: (string);
  /**
   * Instead of token_ids: request keys (decimal uint64), e.g. from kvctl hash.
   */
  'request_keys'?: (string)[];
}

export interface LookupRequest__Output {
  'model': (string);
  'lora_name': (string);
  /**
   * Candidate pods; empty = every pod that holds the first block.
   */
  'pods': (string)[];
  'token_ids': (number)[];
  'cache_salt': (string);
  /**
   * Instead of token_ids: request keys (decimal uint64), e.g. from kvctl hash.
   */
  'request_keys': (string)[];
}
