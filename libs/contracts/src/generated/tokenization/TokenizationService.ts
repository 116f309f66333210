// Original file: libs/contracts/proto/tokenization/tokenizer.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ChatTemplateRequest as _tokenization_ChatTemplateRequest, ChatTemplateRequest__Output as _tokenization_ChatTemplateRequest__Output } from '../tokenization/ChatTemplateRequest';
import type { ChatTemplateResponse as _tokenization_ChatTemplateResponse, ChatTemplateResponse__Output as _tokenization_ChatTemplateResponse__Output } from '../tokenization/ChatTemplateResponse';
import type { InitializeTokenizerRequest as _tokenization_InitializeTokenizerRequest, InitializeTokenizerRequest__Output as _tokenization_InitializeTokenizerRequest__Output } from '../tokenization/InitializeTokenizerRequest';
import type { InitializeTokenizerResponse as _tokenization_InitializeTokenizerResponse, InitializeTokenizerResponse__Output as _tokenization_InitializeTokenizerResponse__Output } from '../tokenization/InitializeTokenizerResponse';
import type { RenderChatCompletionRequest as _tokenization_RenderChatCompletionRequest, RenderChatCompletionRequest__Output as _tokenization_RenderChatCompletionRequest__Output } from '../tokenization/RenderChatCompletionRequest';
import type { RenderChatCompletionResponse as _tokenization_RenderChatCompletionResponse, RenderChatCompletionResponse__Output as _tokenization_RenderChatCompletionResponse__Output } from '../tokenization/RenderChatCompletionResponse';
import type { RenderCompletionRequest as _tokenization_RenderCompletionRequest, RenderCompletionRequest__Output as _tokenization_RenderCompletionRequest__Output } from '../tokenization/RenderCompletionRequest';
import type { RenderCompletionResponse as _tokenization_RenderCompletionResponse, RenderCompletionResponse__Output as _tokenization_RenderCompletionResponse__Output } from '../tokenization/RenderCompletionResponse';
import type { TokenizeRequest as _tokenization_TokenizeRequest, TokenizeRequest__Output as _tokenization_TokenizeRequest__Output } from '../tokenization/TokenizeRequest';
import type { TokenizeResponse as _tokenization_TokenizeResponse, TokenizeResponse__Output as _tokenization_TokenizeResponse__Output } from '../tokenization/TokenizeResponse';

export interface TokenizationServiceClient extends grpc.Client {
  InitializeTokenizer(argument: _tokenization_InitializeTokenizerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tokenization_InitializeTokenizerResponse__Output>): grpc.ClientUnaryCall;
  InitializeTokenizer(argument: _tokenization_InitializeTokenizerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tokenization_InitializeTokenizerResponse__Output>): grpc.ClientUnaryCall;
  InitializeTokenizer(argument: _tokenization_InitializeTokenizerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tokenization_InitializeTokenizerResponse__Output>): grpc.ClientUnaryCall;
  InitializeTokenizer(argument: _tokenization_InitializeTokenizerRequest, callback: grpc.requestCallback<_tokenization_InitializeTokenizerResponse__Output>): grpc.ClientUnaryCall;
  initializeTokenizer(argument: _tokenization_InitializeTokenizerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tokenization_InitializeTokenizerResponse__Output>): grpc.ClientUnaryCall;
  initializeTokenizer(argument: _tokenization_InitializeTokenizerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tokenization_InitializeTokenizerResponse__Output>): grpc.ClientUnaryCall;
  initializeTokenizer(argument: _tokenization_InitializeTokenizerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tokenization_InitializeTokenizerResponse__Output>): grpc.ClientUnaryCall;
  initializeTokenizer(argument: _tokenization_InitializeTokenizerRequest, callback: grpc.requestCallback<_tokenization_InitializeTokenizerResponse__Output>): grpc.ClientUnaryCall;
  
  RenderChatCompletion(argument: _tokenization_RenderChatCompletionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tokenization_RenderChatCompletionResponse__Output>): grpc.ClientUnaryCall;
  RenderChatCompletion(argument: _tokenization_RenderChatCompletionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tokenization_RenderChatCompletionResponse__Output>): grpc.ClientUnaryCall;
  RenderChatCompletion(argument: _tokenization_RenderChatCompletionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tokenization_RenderChatCompletionResponse__Output>): grpc.ClientUnaryCall;
  RenderChatCompletion(argument: _tokenization_RenderChatCompletionRequest, callback: grpc.requestCallback<_tokenization_RenderChatCompletionResponse__Output>): grpc.ClientUnaryCall;
  renderChatCompletion(argument: _tokenization_RenderChatCompletionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tokenization_RenderChatCompletionResponse__Output>): grpc.ClientUnaryCall;
  renderChatCompletion(argument: _tokenization_RenderChatCompletionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tokenization_RenderChatCompletionResponse__Output>): grpc.ClientUnaryCall;
  renderChatCompletion(argument: _tokenization_RenderChatCompletionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tokenization_RenderChatCompletionResponse__Output>): grpc.ClientUnaryCall;
  renderChatCompletion(argument: _tokenization_RenderChatCompletionRequest, callback: grpc.requestCallback<_tokenization_RenderChatCompletionResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Deprecated upstream in favour of RenderChatCompletion; kept for wire compatibility.
   */
  RenderChatTemplate(argument: _tokenization_ChatTemplateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tokenization_ChatTemplateResponse__Output>): grpc.ClientUnaryCall;
  RenderChatTemplate(argument: _tokenization_ChatTemplateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tokenization_ChatTemplateResponse__Output>): grpc.ClientUnaryCall;
  RenderChatTemplate(argument: _tokenization_ChatTemplateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tokenization_ChatTemplateResponse__Output>): grpc.ClientUnaryCall;
  RenderChatTemplate(argument: _tokenization_ChatTemplateRequest, callback: grpc.requestCallback<_tokenization_ChatTemplateResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Deprecated upstream in favour of RenderChatCompletion; kept for wire compatibility.
   */
  renderChatTemplate(argument: _tokenization_ChatTemplateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tokenization_ChatTemplateResponse__Output>): grpc.ClientUnaryCall;
  renderChatTemplate(argument: _tokenization_ChatTemplateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tokenization_ChatTemplateResponse__Output>): grpc.ClientUnaryCall;
  renderChatTemplate(argument: _tokenization_ChatTemplateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tokenization_ChatTemplateResponse__Output>): grpc.ClientUnaryCall;
  renderChatTemplate(argument: _tokenization_ChatTemplateRequest, callback: grpc.requestCallback<_tokenization_ChatTemplateResponse__Output>): grpc.ClientUnaryCall;
  
  RenderCompletion(argument: _tokenization_RenderCompletionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tokenization_RenderCompletionResponse__Output>): grpc.ClientUnaryCall;
  RenderCompletion(argument: _tokenization_RenderCompletionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tokenization_RenderCompletionResponse__Output>): grpc.ClientUnaryCall;
  RenderCompletion(argument: _tokenization_RenderCompletionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tokenization_RenderCompletionResponse__Output>): grpc.ClientUnaryCall;
  RenderCompletion(argument: _tokenization_RenderCompletionRequest, callback: grpc.requestCallback<_tokenization_RenderCompletionResponse__Output>): grpc.ClientUnaryCall;
  renderCompletion(argument: _tokenization_RenderCompletionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tokenization_RenderCompletionResponse__Output>): grpc.ClientUnaryCall;
  renderCompletion(argument: _tokenization_RenderCompletionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tokenization_RenderCompletionResponse__Output>): grpc.ClientUnaryCall;
  renderCompletion(argument: _tokenization_RenderCompletionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tokenization_RenderCompletionResponse__Output>): grpc.ClientUnaryCall;
  renderCompletion(argument: _tokenization_RenderCompletionRequest, callback: grpc.requestCallback<_tokenization_RenderCompletionResponse__Output>): grpc.ClientUnaryCall;
  
  Tokenize(argument: _tokenization_TokenizeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tokenization_TokenizeResponse__Output>): grpc.ClientUnaryCall;
  Tokenize(argument: _tokenization_TokenizeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tokenization_TokenizeResponse__Output>): grpc.ClientUnaryCall;
  Tokenize(argument: _tokenization_TokenizeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tokenization_TokenizeResponse__Output>): grpc.ClientUnaryCall;
  Tokenize(argument: _tokenization_TokenizeRequest, callback: grpc.requestCallback<_tokenization_TokenizeResponse__Output>): grpc.ClientUnaryCall;
  tokenize(argument: _tokenization_TokenizeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tokenization_TokenizeResponse__Output>): grpc.ClientUnaryCall;
  tokenize(argument: _tokenization_TokenizeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tokenization_TokenizeResponse__Output>): grpc.ClientUnaryCall;
  tokenize(argument: _tokenization_TokenizeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tokenization_TokenizeResponse__Output>): grpc.ClientUnaryCall;
  tokenize(argument: _tokenization_TokenizeRequest, callback: grpc.requestCallback<_tokenization_TokenizeResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface TokenizationServiceHandlers extends grpc.UntypedServiceImplementation {
  InitializeTokenizer: grpc.handleUnaryCall<_tokenization_InitializeTokenizerRequest__Output, _tokenization_InitializeTokenizerResponse>;
  
  RenderChatCompletion: grpc.handleUnaryCall<_tokenization_RenderChatCompletionRequest__Output, _tokenization_RenderChatCompletionResponse>;
  
  /**
   * Deprecated upstream in favour of RenderChatCompletion; kept for wire compatibility.
   */
  RenderChatTemplate: grpc.handleUnaryCall<_tokenization_ChatTemplateRequest__Output, _tokenization_ChatTemplateResponse>;
  
  RenderCompletion: grpc.handleUnaryCall<_tokenization_RenderCompletionRequest__Output, _tokenization_RenderCompletionResponse>;
  
  Tokenize: grpc.handleUnaryCall<_tokenization_TokenizeRequest__Output, _tokenization_TokenizeResponse>;
  
}

export interface TokenizationServiceDefinition extends grpc.ServiceDefinition {
  InitializeTokenizer: MethodDefinition<_tokenization_InitializeTokenizerRequest, _tokenization_InitializeTokenizerResponse, _tokenization_InitializeTokenizerRequest__Output, _tokenization_InitializeTokenizerResponse__Output>
  RenderChatCompletion: MethodDefinition<_tokenization_RenderChatCompletionRequest, _tokenization_RenderChatCompletionResponse, _tokenization_RenderChatCompletionRequest__Output, _tokenization_RenderChatCompletionResponse__Output>
  RenderChatTemplate: MethodDefinition<_tokenization_ChatTemplateRequest, _tokenization_ChatTemplateResponse, _tokenization_ChatTemplateRequest__Output, _tokenization_ChatTemplateResponse__Output>
  RenderCompletion: MethodDefinition<_tokenization_RenderCompletionRequest, _tokenization_RenderCompletionResponse, _tokenization_RenderCompletionRequest__Output, _tokenization_RenderCompletionResponse__Output>
  Tokenize: MethodDefinition<_tokenization_TokenizeRequest, _tokenization_TokenizeResponse, _tokenization_TokenizeRequest__Output, _tokenization_TokenizeResponse__Output>
}
