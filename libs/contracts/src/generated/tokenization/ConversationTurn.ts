// Original file: libs/contracts/proto/tokenization/tokenizer.proto

import type { ChatMessage as _tokenization_ChatMessage, ChatMessage__Output as _tokenization_ChatMessage__Output } from '../tokenization/ChatMessage';

export interface ConversationTurn {
  'messages'?: (_tokenization_ChatMessage)[];
}

export interface ConversationTurn__Output {
  'messages': (_tokenization_ChatMessage__Output)[];
}
