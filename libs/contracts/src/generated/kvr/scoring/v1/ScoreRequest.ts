// Original file: libs/contracts/proto/kvr/scoring/v1/scorer.proto


export interface ScoreRequest {
  /**
   * Model name as the request names it (also the request-key root unless lora_name is set).
   */
  'model'?: (string);
  /**
   * LoRA adapter name, when the request targets an adapter; roots the request keys instead of model.
   */
  'lora_name'?: (string);
  /**
   * Candidate pods, as "<ip>:<port>" ids.
   */
  'pods'?: (string)[];
  /**
   * Prompt token ids as the pod will compute them (rendered chat template included).
   */
  'token_ids'?: (number)[];
  /**
   * vLLM cache_salt of the request, folded into block 0's key.
   */
  'cache_salt'?: (string);
  /**
   * Caller's request id, for traces and logs only.
   */
  'request_id'?: (string);
  /**
   * Which of the service's scorers answers, for services that serve several (the load-scorer:
   * "kv-cache-utilization" or "queue-size"); empty = the service's first scorer.
   */
  'scorer'?: (string);
  /**
   * Instead of token_ids (prefix scorers): the request keys (decimal uint64) the caller computed
   * with the same block size and hash seed, e.g. the gateway: ~110 keys rather than ~7,000 ids
   * for a 7k-token prompt. When set, token_ids, cache_salt and the model's key root are not used.
   */
  'request_keys'?: (string)[];
}

export interface ScoreRequest__Output {
  /**
   * Model name as the request names it (also the request-key root unless lora_name is set).
   */
  'model': (string);
  /**
   * LoRA adapter name, when the request targets an adapter; roots the request keys instead of model.
   */
  'lora_name': (string);
  /**
   * Candidate pods, as "<ip>:<port>" ids.
   */
  'pods': (string)[];
  /**
   * Prompt token ids as the pod will compute them (rendered chat template included).
   */
  'token_ids': (number)[];
  /**
   * vLLM cache_salt of the request, folded into block 0's key.
   */
  'cache_salt': (string);
  /**
   * Caller's request id, for traces and logs only.
   */
  'request_id': (string);
  /**
   * Which of the service's scorers answers, for services that serve several (the load-scorer:
   * "kv-cache-utilization" or "queue-size"); empty = the service's first scorer.
   */
  'scorer': (string);
  /**
   * Instead of token_ids (prefix scorers): the request keys (decimal uint64) the caller computed
   * with the same block size and hash seed, e.g. the gateway: ~110 keys rather than ~7,000 ids
   * for a 7k-token prompt. When set, token_ids, cache_salt and the model's key root are not used.
   */
  'request_keys': (string)[];
}
