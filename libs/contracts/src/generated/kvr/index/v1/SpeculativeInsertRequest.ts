// Original file: libs/contracts/proto/kvr/index/v1/indexer.proto


export interface SpeculativeInsertRequest {
  'model'?: (string);
  'lora_name'?: (string);
  'pod'?: (string);
  'token_ids'?: (number)[];
  'cache_salt'?: (string);
  'ttl_ms'?: (number);
}

export interface SpeculativeInsertRequest__Output {
  'model': (string);
  'lora_name': (string);
  'pod': (string);
  'token_ids': (number)[];
  'cache_salt': (string);
  'ttl_ms': (number);
}
