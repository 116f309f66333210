// Original file: libs/contracts/proto/tokenization/tokenizer.proto


export interface StringList {
  'values'?: (string)[];
}

export interface StringList__Output {
  'values': (string)[];
}
