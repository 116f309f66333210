// Original file: libs/contracts/proto/kvr/index/v1/indexer.proto


export interface SpeculativeInsertRequest {
  'model'?: (string);
  'lora_name'?: (string);
  'pod'?: (string);
  'token_ids'?: (number)[];
  'cache_salt'?: (string);
  'ttl_ms'?: (number);
  /**
   * Instead of token_ids: request keys (decimal uint64), as in ScoreRequest.
   */
  'request_keys'?: (string)[];
}

export interface SpeculativeInsertRequest__Output {
  'model': (string);
  'lora_name': (string);
  'pod': (string);
  'token_ids': (number)[];
  'cache_salt': (string);
  'ttl_ms': (number);
  /**
   * Instead of token_ids: request keys (decimal uint64), as in ScoreRequest.
   */
  'request_keys': (string)[];
}
