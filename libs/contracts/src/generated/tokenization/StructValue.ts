// Original file: libs/contracts/proto/tokenization/tokenizer.proto

import type { Value as _tokenization_Value, Value__Output as _tokenization_Value__Output } from '../tokenization/Value';

export interface StructValue {
  'fields'?: ({[key: string]: _tokenization_Value});
}

export interface StructValue__Output {
  'fields': ({[key: string]: _tokenization_Value__Output});
}
