// Original file: libs/contracts/proto/tokenization/tokenizer.proto

import type { StringList as _tokenization_StringList, StringList__Output as _tokenization_StringList__Output } from '../tokenization/StringList';
import type { PlaceholderRangeList as _tokenization_PlaceholderRangeList, PlaceholderRangeList__Output as _tokenization_PlaceholderRangeList__Output } from '../tokenization/PlaceholderRangeList';

export interface MultiModalFeatures {
  'mm_hashes'?: ({[key: string]: _tokenization_StringList});
  'mm_placeholders'?: ({[key: string]: _tokenization_PlaceholderRangeList});
}

export interface MultiModalFeatures__Output {
  'mm_hashes': ({[key: string]: _tokenization_StringList__Output});
  'mm_placeholders': ({[key: string]: _tokenization_PlaceholderRangeList__Output});
}
