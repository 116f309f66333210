// Original file: libs/contracts/proto/tokenization/tokenizer.proto


export interface ChatTemplateResponse {
  'rendered_prompt'?: (string);
  'success'?: (boolean);
  'error_message'?: (string);
}

export interface ChatTemplateResponse__Output {
  'rendered_prompt': (string);
  'success': (boolean);
  'error_message': (string);
}
