// Original file: libs/contracts/proto/tokenization/tokenizer.proto


export interface ImageUrl {
  'url'?: (string);
}

export interface ImageUrl__Output {
  'url': (string);
}
