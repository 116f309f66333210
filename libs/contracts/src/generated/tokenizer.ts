import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { ChatMessage as _tokenization_ChatMessage, ChatMessage__Output as _tokenization_ChatMessage__Output } from './tokenization/ChatMessage';
import type { ChatTemplateRequest as _tokenization_ChatTemplateRequest, ChatTemplateRequest__Output as _tokenization_ChatTemplateRequest__Output } from './tokenization/ChatTemplateRequest';
import type { ChatTemplateResponse as _tokenization_ChatTemplateResponse, ChatTemplateResponse__Output as _tokenization_ChatTemplateResponse__Output } from './tokenization/ChatTemplateResponse';
import type { ContentPart as _tokenization_ContentPart, ContentPart__Output as _tokenization_ContentPart__Output } from './tokenization/ContentPart';
import type { ConversationTurn as _tokenization_ConversationTurn, ConversationTurn__Output as _tokenization_ConversationTurn__Output } from './tokenization/ConversationTurn';
import type { Document as _tokenization_Document, Document__Output as _tokenization_Document__Output } from './tokenization/Document';
import type { ImageUrl as _tokenization_ImageUrl, ImageUrl__Output as _tokenization_ImageUrl__Output } from './tokenization/ImageUrl';
import type { InitializeTokenizerRequest as _tokenization_InitializeTokenizerRequest, InitializeTokenizerRequest__Output as _tokenization_InitializeTokenizerRequest__Output } from './tokenization/InitializeTokenizerRequest';
import type { InitializeTokenizerResponse as _tokenization_InitializeTokenizerResponse, InitializeTokenizerResponse__Output as _tokenization_InitializeTokenizerResponse__Output } from './tokenization/InitializeTokenizerResponse';
import type { ListValue as _tokenization_ListValue, ListValue__Output as _tokenization_ListValue__Output } from './tokenization/ListValue';
import type { MultiModalFeatures as _tokenization_MultiModalFeatures, MultiModalFeatures__Output as _tokenization_MultiModalFeatures__Output } from './tokenization/MultiModalFeatures';
import type { PlaceholderRange as _tokenization_PlaceholderRange, PlaceholderRange__Output as _tokenization_PlaceholderRange__Output } from './tokenization/PlaceholderRange';
import type { PlaceholderRangeList as _tokenization_PlaceholderRangeList, PlaceholderRangeList__Output as _tokenization_PlaceholderRangeList__Output } from './tokenization/PlaceholderRangeList';
import type { RenderChatCompletionRequest as _tokenization_RenderChatCompletionRequest, RenderChatCompletionRequest__Output as _tokenization_RenderChatCompletionRequest__Output } from './tokenization/RenderChatCompletionRequest';
import type { RenderChatCompletionResponse as _tokenization_RenderChatCompletionResponse, RenderChatCompletionResponse__Output as _tokenization_RenderChatCompletionResponse__Output } from './tokenization/RenderChatCompletionResponse';
import type { RenderCompletionRequest as _tokenization_RenderCompletionRequest, RenderCompletionRequest__Output as _tokenization_RenderCompletionRequest__Output } from './tokenization/RenderCompletionRequest';
import type { RenderCompletionResponse as _tokenization_RenderCompletionResponse, RenderCompletionResponse__Output as _tokenization_RenderCompletionResponse__Output } from './tokenization/RenderCompletionResponse';
import type { StringList as _tokenization_StringList, StringList__Output as _tokenization_StringList__Output } from './tokenization/StringList';
import type { StructValue as _tokenization_StructValue, StructValue__Output as _tokenization_StructValue__Output } from './tokenization/StructValue';
import type { TokenizationServiceClient as _tokenization_TokenizationServiceClient, TokenizationServiceDefinition as _tokenization_TokenizationServiceDefinition } from './tokenization/TokenizationService';
import type { TokenizeRequest as _tokenization_TokenizeRequest, TokenizeRequest__Output as _tokenization_TokenizeRequest__Output } from './tokenization/TokenizeRequest';
import type { TokenizeResponse as _tokenization_TokenizeResponse, TokenizeResponse__Output as _tokenization_TokenizeResponse__Output } from './tokenization/TokenizeResponse';
import type { ToolDescription as _tokenization_ToolDescription, ToolDescription__Output as _tokenization_ToolDescription__Output } from './tokenization/ToolDescription';
import type { Value as _tokenization_Value, Value__Output as _tokenization_Value__Output } from './tokenization/Value';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  tokenization: {
    ChatMessage: MessageTypeDefinition<_tokenization_ChatMessage, _tokenization_ChatMessage__Output>
    ChatTemplateRequest: MessageTypeDefinition<_tokenization_ChatTemplateRequest, _tokenization_ChatTemplateRequest__Output>
    ChatTemplateResponse: MessageTypeDefinition<_tokenization_ChatTemplateResponse, _tokenization_ChatTemplateResponse__Output>
    ContentPart: MessageTypeDefinition<_tokenization_ContentPart, _tokenization_ContentPart__Output>
    ConversationTurn: MessageTypeDefinition<_tokenization_ConversationTurn, _tokenization_ConversationTurn__Output>
    Document: MessageTypeDefinition<_tokenization_Document, _tokenization_Document__Output>
    ImageUrl: MessageTypeDefinition<_tokenization_ImageUrl, _tokenization_ImageUrl__Output>
    InitializeTokenizerRequest: MessageTypeDefinition<_tokenization_InitializeTokenizerRequest, _tokenization_InitializeTokenizerRequest__Output>
    InitializeTokenizerResponse: MessageTypeDefinition<_tokenization_InitializeTokenizerResponse, _tokenization_InitializeTokenizerResponse__Output>
    ListValue: MessageTypeDefinition<_tokenization_ListValue, _tokenization_ListValue__Output>
    MultiModalFeatures: MessageTypeDefinition<_tokenization_MultiModalFeatures, _tokenization_MultiModalFeatures__Output>
    PlaceholderRange: MessageTypeDefinition<_tokenization_PlaceholderRange, _tokenization_PlaceholderRange__Output>
    PlaceholderRangeList: MessageTypeDefinition<_tokenization_PlaceholderRangeList, _tokenization_PlaceholderRangeList__Output>
    RenderChatCompletionRequest: MessageTypeDefinition<_tokenization_RenderChatCompletionRequest, _tokenization_RenderChatCompletionRequest__Output>
    RenderChatCompletionResponse: MessageTypeDefinition<_tokenization_RenderChatCompletionResponse, _tokenization_RenderChatCompletionResponse__Output>
    RenderCompletionRequest: MessageTypeDefinition<_tokenization_RenderCompletionRequest, _tokenization_RenderCompletionRequest__Output>
    RenderCompletionResponse: MessageTypeDefinition<_tokenization_RenderCompletionResponse, _tokenization_RenderCompletionResponse__Output>
    StringList: MessageTypeDefinition<_tokenization_StringList, _tokenization_StringList__Output>
    StructValue: MessageTypeDefinition<_tokenization_StructValue, _tokenization_StructValue__Output>
    TokenizationService: SubtypeConstructor<typeof grpc.Client, _tokenization_TokenizationServiceClient> & { service: _tokenization_TokenizationServiceDefinition }
    TokenizeRequest: MessageTypeDefinition<_tokenization_TokenizeRequest, _tokenization_TokenizeRequest__Output>
    TokenizeResponse: MessageTypeDefinition<_tokenization_TokenizeResponse, _tokenization_TokenizeResponse__Output>
    ToolDescription: MessageTypeDefinition<_tokenization_ToolDescription, _tokenization_ToolDescription__Output>
    Value: MessageTypeDefinition<_tokenization_Value, _tokenization_Value__Output>
  }
}

