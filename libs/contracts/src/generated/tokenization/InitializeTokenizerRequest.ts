// Original file: libs/contracts/proto/tokenization/tokenizer.proto


export interface InitializeTokenizerRequest {
  'model_name'?: (string);
  'enable_thinking'?: (boolean);
  'add_generation_prompt'?: (boolean);
}

export interface InitializeTokenizerRequest__Output {
  'model_name': (string);
  'enable_thinking': (boolean);
  'add_generation_prompt': (boolean);
}
