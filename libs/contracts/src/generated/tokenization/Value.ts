// Original file: libs/contracts/proto/tokenization/tokenizer.proto

import type { ListValue as _tokenization_ListValue, ListValue__Output as _tokenization_ListValue__Output } from '../tokenization/ListValue';
import type { StructValue as _tokenization_StructValue, StructValue__Output as _tokenization_StructValue__Output } from '../tokenization/StructValue';

export interface Value {
  'string_value'?: (string);
  'number_value'?: (number | string);
  'bool_value'?: (boolean);
  'list_value'?: (_tokenization_ListValue | null);
  'struct_value'?: (_tokenization_StructValue | null);
  'value'?: "string_value"|"number_value"|"bool_value"|"list_value"|"struct_value";
}

export interface Value__Output {
  'string_value'?: (string);
  'number_value'?: (number);
  'bool_value'?: (boolean);
  'list_value'?: (_tokenization_ListValue__Output | null);
  'struct_value'?: (_tokenization_StructValue__Output | null);
  'value'?: "string_value"|"number_value"|"bool_value"|"list_value"|"struct_value";
}
