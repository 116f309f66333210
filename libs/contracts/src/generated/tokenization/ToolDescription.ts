// Original file: libs/contracts/proto/tokenization/tokenizer.proto

import type { Value as _tokenization_Value, Value__Output as _tokenization_Value__Output } from '../tokenization/Value';

export interface ToolDescription {
  'tool'?: ({[key: string]: _tokenization_Value});
}

export interface ToolDescription__Output {
  'tool': ({[key: string]: _tokenization_Value__Output});
}
