// Original file: libs/contracts/proto/tokenization/tokenizer.proto


export interface PlaceholderRange {
  'offset'?: (number);
  'length'?: (number);
}

export interface PlaceholderRange__Output {
  'offset': (number);
  'length': (number);
}
