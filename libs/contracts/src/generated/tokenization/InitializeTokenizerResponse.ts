// Original file: libs/contracts/proto/tokenization/tokenizer.proto


export interface InitializeTokenizerResponse {
  'success'?: (boolean);
  'error_message'?: (string);
}

export interface InitializeTokenizerResponse__Output {
  'success': (boolean);
  'error_message': (string);
}
