// Original file: libs/contracts/proto/tokenization/tokenizer.proto

import type { ImageUrl as _tokenization_ImageUrl, ImageUrl__Output as _tokenization_ImageUrl__Output } from '../tokenization/ImageUrl';

/**
 * type is "text" or "image_url".
 */
export interface ContentPart {
  'type'?: (string);
  'text'?: (string);
  'image_url'?: (_tokenization_ImageUrl | null);
  '_text'?: "text";
  '_image_url'?: "image_url";
}

/**
 * type is "text" or "image_url".
 */
export interface ContentPart__Output {
  'type': (string);
  'text'?: (string);
  'image_url'?: (_tokenization_ImageUrl__Output | null);
  '_text'?: "text";
  '_image_url'?: "image_url";
}
