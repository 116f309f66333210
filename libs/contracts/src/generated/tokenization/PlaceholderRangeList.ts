// Original file: libs/contracts/proto/tokenization/tokenizer.proto

import type { PlaceholderRange as _tokenization_PlaceholderRange, PlaceholderRange__Output as _tokenization_PlaceholderRange__Output } from '../tokenization/PlaceholderRange';

export interface PlaceholderRangeList {
  'ranges'?: (_tokenization_PlaceholderRange)[];
}

export interface PlaceholderRangeList__Output {
  'ranges': (_tokenization_PlaceholderRange__Output)[];
}
