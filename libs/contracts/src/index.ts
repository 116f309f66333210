export { encodeSubjectToken, decodeSubjectToken, SubjectTokenError } from './subject-token';
export {
  EVENTS_PREFIX,
  DEAD_LETTER_PREFIX,
  INDEXER_CONTROL_PREFIX,
  EVENTS_STREAM,
  DEAD_LETTER_STREAM,
  ALL_EVENTS_FILTER,
  eventsSubject,
  parseEventsSubject,
  partitionFilter,
  deadLetterSubject,
  reindexSubject,
  partitionForPod,
  SubjectError,
} from './subjects';
export type { EventsSubject } from './subjects';
export {
  HEADER_KIND,
  HEADER_POD,
  HEADER_MODEL,
  HEADER_ENGINE_SEQ,
  HEADER_ENGINE_TS,
  HEADER_RECEIVED_AT,
  HEADER_EPOCH,
  HEADER_RESET_REASON,
  HEADER_DLQ_REASON,
  HEADER_MSG_ID,
  messageId,
} from './jetstream';
export type { MessageKind, ResetReason } from './jetstream';
export { DEFAULT_REDIS_PREFIX, ENGINE_BUCKETS, REDIS_LAYOUT_VERSION, decodeKey, encodeKey, engineBucketOf, redisKeys, noHitLruKeys } from './redis-keys';
export type { RedisKeys } from './redis-keys';
export { protoDir, TOKENIZER_PROTO, SCORER_PROTO, INDEXER_PROTO, PROTO_LOADER_OPTIONS, loadProtoDefinition, loadGrpcPackage } from './proto-files';
export { withPackedUint32Codecs, packedUint32Fields, packedUint32Serializer, packedUint32Deserializer, encodePackedUint32 } from './packed-codec';
export type { PackedUint32Field } from './packed-codec';
export type { RenderCompletionRequest } from './generated/tokenization/RenderCompletionRequest';
export type { RenderCompletionResponse } from './generated/tokenization/RenderCompletionResponse';
export type { RenderChatCompletionRequest } from './generated/tokenization/RenderChatCompletionRequest';
export type { RenderChatCompletionResponse } from './generated/tokenization/RenderChatCompletionResponse';
export type { TokenizeRequest } from './generated/tokenization/TokenizeRequest';
export type { TokenizeResponse } from './generated/tokenization/TokenizeResponse';
export type { ProtoGrpcType as TokenizerProtoGrpcType } from './generated/tokenizer';
export type { ProtoGrpcType as ScorerProtoGrpcType } from './generated/scorer';
export type { ScoreRequest, ScoreRequest__Output } from './generated/kvr/scoring/v1/ScoreRequest';
export type { ScoreResponse, ScoreResponse__Output } from './generated/kvr/scoring/v1/ScoreResponse';
export type { PodScore } from './generated/kvr/scoring/v1/PodScore';
export type { ProtoGrpcType as IndexerProtoGrpcType } from './generated/indexer';
export type { LookupRequest, LookupRequest__Output } from './generated/kvr/index/v1/LookupRequest';
export type { LookupResponse__Output } from './generated/kvr/index/v1/LookupResponse';
export type { ExplainResponse__Output } from './generated/kvr/index/v1/ExplainResponse';
export type { DumpRequest__Output } from './generated/kvr/index/v1/DumpRequest';
export type { DumpResponse__Output } from './generated/kvr/index/v1/DumpResponse';
export type { SpeculativeInsertRequest__Output } from './generated/kvr/index/v1/SpeculativeInsertRequest';
export type { StatsResponse__Output } from './generated/kvr/index/v1/StatsResponse';
export type { ChatMessage as ProtoChatMessage, ChatMessage__Output as ProtoChatMessageOutput } from './generated/tokenization/ChatMessage';
export type { ContentPart__Output as ProtoContentPartOutput } from './generated/tokenization/ContentPart';
export type { RenderChatCompletionRequest__Output as RenderChatCompletionRequestOutput } from './generated/tokenization/RenderChatCompletionRequest';
export type { RenderCompletionRequest__Output as RenderCompletionRequestOutput } from './generated/tokenization/RenderCompletionRequest';
export type { TokenizeRequest__Output as TokenizeRequestOutput } from './generated/tokenization/TokenizeRequest';
export type { InitializeTokenizerRequest__Output as InitializeTokenizerRequestOutput } from './generated/tokenization/InitializeTokenizerRequest';
export type { InitializeTokenizerResponse } from './generated/tokenization/InitializeTokenizerResponse';
export type { ChatTemplateRequest__Output as ChatTemplateRequestOutput } from './generated/tokenization/ChatTemplateRequest';
export type { ChatTemplateResponse } from './generated/tokenization/ChatTemplateResponse';
export type { Value__Output as ProtoValueOutput } from './generated/tokenization/Value';
export type { TokenizationServiceHandlers, TokenizationServiceClient } from './generated/tokenization/TokenizationService';
export { indexerBackends, indexerConsumerName } from './indexer-control';
export type { IndexerBackends, PartitionRebuildReport, ReindexReply, ReindexRequest } from './indexer-control';
