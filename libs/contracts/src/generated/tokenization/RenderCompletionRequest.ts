// Original file: libs/contracts/proto/tokenization/tokenizer.proto


export interface RenderCompletionRequest {
  'model_name'?: (string);
  'prompt'?: (string);
}

export interface RenderCompletionRequest__Output {
  'model_name': (string);
  'prompt': (string);
}
