// Public API of @kvr/kv-events: the vLLM KV-event wire format (decode and encode), no I/O.
// Test builders live behind `@kvr/kv-events/testing`.

export { DecodeError } from './errors';
export type { DecodeErrorReason, DecodeResult } from './errors';

export {
  KV_EVENT_TYPES,
  MEDIUM_GPU,
  MEDIUM_CPU,
  BLOCK_STORED_WIRE_FIELDS,
  BLOCK_REMOVED_WIRE_FIELDS,
  MIN_BLOCK_STORED_FIELDS,
  MIN_BLOCK_REMOVED_FIELDS,
} from './events';
export type {
  KvEventType,
  KvEvent,
  BlockStoredEvent,
  BlockRemovedEvent,
  AllBlocksClearedEvent,
  KvEventBatch,
  DecodedKvEventBatch,
  UnknownKvEvent,
} from './events';

export { UINT64_MAX, blockHashFromBytes, blockHashFromInt, signedBlockHash } from './block-hash';

export { decodeKvEventBatch, inspectKvEventBatch } from './decode-batch';
export type { KvEventBatchSummary } from './decode-batch';
export { encodeKvEventBatch, WIRE_LAYOUTS } from './encode-batch';
export type { WireLayout } from './encode-batch';

export { KV_TOPIC_PREFIX, parseKvEventTopic, formatKvEventTopic } from './topic';
export type { KvEventTopic } from './topic';

export { SEQ_FRAME_LENGTH, encodeSeqFrame, decodeSeqFrame, decodeKvEventMessage, encodeKvEventMessage, inspectKvEventMessage } from './frames';
export type { KvEventMessage, KvEventMessageInput, KvEventMessageSummary } from './frames';

export {
  REPLAY_END_SEQ,
  encodeReplayRequest,
  decodeReplayRequest,
  encodeReplayBatch,
  encodeReplayEnd,
  decodeReplayResponse,
} from './replay';
export type { ReplayRequest, ReplayResponse, ReplayResponseFormat, ReplayBatchInput } from './replay';
