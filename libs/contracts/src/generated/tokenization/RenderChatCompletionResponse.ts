// Original file: libs/contracts/proto/tokenization/tokenizer.proto

import type { MultiModalFeatures as _tokenization_MultiModalFeatures, MultiModalFeatures__Output as _tokenization_MultiModalFeatures__Output } from '../tokenization/MultiModalFeatures';

export interface RenderChatCompletionResponse {
  'request_id'?: (string);
  'token_ids'?: (number)[];
  'features'?: (_tokenization_MultiModalFeatures | null);
  'success'?: (boolean);
  'error_message'?: (string);
}

export interface RenderChatCompletionResponse__Output {
  'request_id': (string);
  'token_ids': (number)[];
  'features': (_tokenization_MultiModalFeatures__Output | null);
  'success': (boolean);
  'error_message': (string);
}
