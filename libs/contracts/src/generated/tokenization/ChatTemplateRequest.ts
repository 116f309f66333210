// Original file: libs/contracts/proto/tokenization/tokenizer.proto

import type { ConversationTurn as _tokenization_ConversationTurn, ConversationTurn__Output as _tokenization_ConversationTurn__Output } from '../tokenization/ConversationTurn';
import type { ToolDescription as _tokenization_ToolDescription, ToolDescription__Output as _tokenization_ToolDescription__Output } from '../tokenization/ToolDescription';
import type { Document as _tokenization_Document, Document__Output as _tokenization_Document__Output } from '../tokenization/Document';
import type { Value as _tokenization_Value, Value__Output as _tokenization_Value__Output } from '../tokenization/Value';

export interface ChatTemplateRequest {
  'conversation_turns'?: (_tokenization_ConversationTurn)[];
  'tools'?: (_tokenization_ToolDescription)[];
  'documents'?: (_tokenization_Document)[];
  'chat_template'?: (string);
  'return_assistant_tokens_mask'?: (boolean);
  'continue_final_message'?: (boolean);
  'add_generation_prompt'?: (boolean);
  'chat_template_kwargs'?: ({[key: string]: _tokenization_Value});
  'model_name'?: (string);
}

export interface ChatTemplateRequest__Output {
  'conversation_turns': (_tokenization_ConversationTurn__Output)[];
  'tools': (_tokenization_ToolDescription__Output)[];
  'documents': (_tokenization_Document__Output)[];
  'chat_template': (string);
  'return_assistant_tokens_mask': (boolean);
  'continue_final_message': (boolean);
  'add_generation_prompt': (boolean);
  'chat_template_kwargs': ({[key: string]: _tokenization_Value__Output});
  'model_name': (string);
}
