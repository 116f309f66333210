/**
 * What the collector publishes to `kv.events.<partition>.<model>.<pod>` and the indexer consumes.
 *
 * A message is either an event batch or a pod-reset marker; which one is in the `Kvr-Kind`
 * header. An event batch's data is the vLLM msgpack payload exactly as the pod sent it (frame 2
 * of the ZMQ message): nothing is re-encoded, so the stream is a faithful, replayable log of
 * what the engine said. Everything the indexer needs besides the payload travels in headers.
 */
export const HEADER_KIND = 'Kvr-Kind';
/** Pod id, `<ip>:<port>` (also in the subject, encoded; the header is the plain form). */
export const HEADER_POD = 'Kvr-Pod';
/** Model name from the topic (plain form). */
export const HEADER_MODEL = 'Kvr-Model';
/** The engine's batch sequence number, decimal uint64. */
export const HEADER_ENGINE_SEQ = 'Kvr-Engine-Seq';
/** The batch's own `ts` (engine wall clock, seconds, as a decimal). Lets a collector tell a restart from a duplicate. */
export const HEADER_ENGINE_TS = 'Kvr-Engine-Ts';
/** When the collector received the batch from the pod (ms since the epoch, decimal). */
export const HEADER_RECEIVED_AT = 'Kvr-Received-At';
/**
 * Engine epoch: increases each time the collector sees the engine restart (its sequence went
 * back). (epoch, seq) orders a pod's batches across restarts; the indexer skips anything at or
 * below what it already applied.
 */
export const HEADER_EPOCH = 'Kvr-Epoch';
/** For resets: why (`engine_restart`, `unrecoverable_gap`, `pod_removed`, `operator`). */
export const HEADER_RESET_REASON = 'Kvr-Reset-Reason';
/** For dead letters: why the payload was rejected (a DecodeError reason code). */
export const HEADER_DLQ_REASON = 'Kvr-Dlq-Reason';
/** JetStream's own de-duplication header; see `messageId`. */
export const HEADER_MSG_ID = 'Nats-Msg-Id';

/**
 * `batch`: an event payload. `reset`: forget everything about the pod (restart, unrecoverable
 * gap, removal). `added` / `removed`: the pod appeared in / left discovery (a removal is followed
 * by nothing; the indexer clears the pod as for a reset).
 */
export type MessageKind = 'batch' | 'reset' | 'added' | 'removed';

export type ResetReason = 'engine_restart' | 'unrecoverable_gap' | 'pod_removed' | 'operator';

/**
 * `Nats-Msg-Id` of a pod's batch: the same (pod, epoch, seq) always gives the same id, so
 * active-active collector replicas publishing the same batch are de-duplicated by JetStream
 * within the stream's duplicate window.
 */
export function messageId(kind: MessageKind, podId: string, epoch: number, engineSeq: bigint): string {
  return `${kind}:${podId}:${epoch}:${engineSeq.toString()}`;
}
