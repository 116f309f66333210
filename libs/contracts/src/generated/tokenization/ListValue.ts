// Original file: libs/contracts/proto/tokenization/tokenizer.proto

import type { Value as _tokenization_Value, Value__Output as _tokenization_Value__Output } from '../tokenization/Value';

export interface ListValue {
  'values'?: (_tokenization_Value)[];
}

export interface ListValue__Output {
  'values': (_tokenization_Value__Output)[];
}
