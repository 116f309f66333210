// Original file: libs/contracts/proto/tokenization/tokenizer.proto


export interface TokenizeRequest {
  'input'?: (string);
  'model_name'?: (string);
  'add_special_tokens'?: (boolean);
}

export interface TokenizeRequest__Output {
  'input': (string);
  'model_name': (string);
  'add_special_tokens': (boolean);
}
