// Original file: libs/contracts/proto/tokenization/tokenizer.proto

import type { Value as _tokenization_Value, Value__Output as _tokenization_Value__Output } from '../tokenization/Value';

export interface Document {
  'document'?: ({[key: string]: _tokenization_Value});
}

export interface Document__Output {
  'document': ({[key: string]: _tokenization_Value__Output});
}
