// Original file: libs/contracts/proto/tokenization/tokenizer.proto


export interface RenderCompletionResponse {
  'request_id'?: (string);
  'token_ids'?: (number)[];
  'success'?: (boolean);
  'error_message'?: (string);
}

export interface RenderCompletionResponse__Output {
  'request_id': (string);
  'token_ids': (number)[];
  'success': (boolean);
  'error_message': (string);
}
