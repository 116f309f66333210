// Original file: libs/contracts/proto/tokenization/tokenizer.proto

import type { ChatMessage as _tokenization_ChatMessage, ChatMessage__Output as _tokenization_ChatMessage__Output } from '../tokenization/ChatMessage';

export interface RenderChatCompletionRequest {
  'model_name'?: (string);
  'messages'?: (_tokenization_ChatMessage)[];
  'tools_json'?: (string);
  'chat_template'?: (string);
  /**
   * The server treats an unset value as true, as vLLM does.
   */
  'add_generation_prompt'?: (boolean);
  'continue_final_message'?: (boolean);
  /**
   * JSON object, e.g. {"enable_thinking": false}.
   */
  'chat_template_kwargs'?: (string);
  '_tools_json'?: "tools_json";
  '_add_generation_prompt'?: "add_generation_prompt";
  '_chat_template_kwargs'?: "chat_template_kwargs";
}

export interface RenderChatCompletionRequest__Output {
  'model_name': (string);
  'messages': (_tokenization_ChatMessage__Output)[];
  'tools_json'?: (string);
  'chat_template': (string);
  /**
   * The server treats an unset value as true, as vLLM does.
   */
  'add_generation_prompt'?: (boolean);
  'continue_final_message': (boolean);
  /**
   * JSON object, e.g. {"enable_thinking": false}.
   */
  'chat_template_kwargs'?: (string);
  '_tools_json'?: "tools_json";
  '_add_generation_prompt'?: "add_generation_prompt";
  '_chat_template_kwargs'?: "chat_template_kwargs";
}
