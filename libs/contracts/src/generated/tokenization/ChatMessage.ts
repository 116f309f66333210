// Original file: libs/contracts/proto/tokenization/tokenizer.proto

import type { ContentPart as _tokenization_ContentPart, ContentPart__Output as _tokenization_ContentPart__Output } from '../tokenization/ContentPart';

export interface ChatMessage {
  'role'?: (string);
  'content'?: (string);
  'content_parts'?: (_tokenization_ContentPart)[];
  'tool_calls_json'?: (string);
  '_content'?: "content";
  '_tool_calls_json'?: "tool_calls_json";
}

export interface ChatMessage__Output {
  'role': (string);
  'content'?: (string);
  'content_parts': (_tokenization_ContentPart__Output)[];
  'tool_calls_json'?: (string);
  '_content'?: "content";
  '_tool_calls_json'?: "tool_calls_json";
}
