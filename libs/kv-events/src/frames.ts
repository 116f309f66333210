import { UINT64_MAX } from './block-hash';
import { decodeKvEventBatch, describeJsValue, inspectKvEventBatch, type KvEventBatchSummary } from './decode-batch';
import { encodeKvEventBatch, type WireLayout } from './encode-batch';
import { captureDecode, DecodeError, type DecodeResult } from './errors';
import { type DecodedKvEventBatch, type KvEventBatch } from './events';
import { parseKvEventTopic, type KvEventTopic } from './topic';

/**
 * Live PUB messages: exactly three frames `[topic, seq, payload]`
 * (vLLM `ZmqEventPublisher._publisher_thread`, `kv_events.py@0181ea31`):
 * - topic: UTF-8 bytes of `KVEventsConfig.topic` (may be empty);
 * - seq: 8 bytes, unsigned big-endian (`seq.to_bytes(8, "big")`), 0 for the first batch after the
 *   publisher started, +1 per message;
 * - payload: the msgpack batch (decode-batch.ts).
 *
 * We require the seq frame to be exactly 8 bytes; llm-d only rejects shorter ones and reads the
 * first 8 of longer ones, which vLLM never sends.
 */

export const SEQ_FRAME_LENGTH = 8;

/** A decoded live message. */
export interface KvEventMessage {
  readonly topic: KvEventTopic;
  readonly seq: bigint;
  readonly batch: DecodedKvEventBatch;
}

/** What {@link encodeKvEventMessage} needs: the topic string, the sequence number and the batch. */
export interface KvEventMessageInput {
  readonly topic: string;
  readonly seq: bigint | number;
  readonly batch: KvEventBatch;
}

/** 8 bytes, unsigned big-endian. Throws RangeError outside 0..2^64-1. */
export function encodeSeqFrame(seq: bigint | number): Buffer {
  const value = typeof seq === 'number' ? (Number.isSafeInteger(seq) ? BigInt(seq) : Number.NaN) : seq;
  if (typeof value !== 'bigint' || value < 0n || value > UINT64_MAX) throw new RangeError(`sequence number ${String(seq)} is not a uint64`);
  const frame = Buffer.alloc(SEQ_FRAME_LENGTH);
  frame.writeBigUInt64BE(value);
  return frame;
}

export function decodeSeqFrame(frame: Uint8Array): DecodeResult<bigint> {
  return captureDecode(() => readSeqFrame(frame, 'seq'));
}

/** Decodes `[topic, seq, payload]`. Never throws. */
export function decodeKvEventMessage(frames: readonly Uint8Array[]): DecodeResult<KvEventMessage> {
  return captureDecode(() => {
    const { topic, seq, payload } = readMessageFrames(frames);
    return { topic, seq, batch: unwrapBatch(payload) };
  });
}

/** Topic and sequence of a live message, and its payload frame unread; throws DecodeError. */
function readMessageFrames(frames: readonly Uint8Array[]): { topic: KvEventTopic; seq: bigint; payload: unknown } {
  if (!Array.isArray(frames)) throw new DecodeError('frame_type', `frames must be an array, got ${describeJsValue(frames)}`);
  if (frames.length !== 3) throw new DecodeError('frame_count', `expected 3 frames [topic, seq, payload], got ${frames.length}`);
  const [topicFrame, seqFrame, payload] = frames as readonly unknown[];
  const topic = parseKvEventTopic(readTopicFrame(topicFrame, 'frame 0 (topic)'));
  const seq = readSeqFrame(seqFrame, 'frame 1 (seq)');
  return { topic, seq, payload };
}

/** A live message checked with {@link inspectKvEventBatch}: valid, with its timestamp and counts. */
export interface KvEventMessageSummary {
  readonly topic: KvEventTopic;
  readonly seq: bigint;
  readonly summary: KvEventBatchSummary;
}

/** {@link decodeKvEventMessage}'s checks and errors, without materialising token ids and hashes. */
export function inspectKvEventMessage(frames: readonly Uint8Array[]): DecodeResult<KvEventMessageSummary> {
  return captureDecode(() => {
    const { topic, seq, payload } = readMessageFrames(frames);
    checkFrame(payload, 'payload frame');
    const result = inspectKvEventBatch(payload as Uint8Array);
    if (!result.ok) throw result.error;
    return { topic, seq, summary: result.value };
  });
}

/** `[topic, seq, payload]` as vLLM's publisher sends them. Throws for invalid input, like encodeKvEventBatch. */
export function encodeKvEventMessage(message: KvEventMessageInput, layout?: WireLayout): [Buffer, Buffer, Buffer] {
  return [Buffer.from(message.topic, 'utf8'), encodeSeqFrame(message.seq), encodeKvEventBatch(message.batch, layout)];
}

const topicDecoder = new TextDecoder('utf-8', { fatal: true });

/** @internal Throws DecodeError. */
export function readTopicFrame(frame: unknown, what: string): string {
  checkFrame(frame, what);
  try {
    return topicDecoder.decode(frame);
  } catch (err: unknown) {
    throw new DecodeError('topic_utf8', `${what} is not valid UTF-8`, { cause: err });
  }
}

/** @internal Throws DecodeError. */
export function readSeqFrame(frame: unknown, what: string): bigint {
  checkFrame(frame, what);
  if (frame.length !== SEQ_FRAME_LENGTH) throw new DecodeError('seq_length', `${what} has ${frame.length} bytes; expected ${SEQ_FRAME_LENGTH} (uint64 big-endian)`);
  const hi = ((frame[0]! << 24) | (frame[1]! << 16) | (frame[2]! << 8) | frame[3]!) >>> 0;
  const lo = ((frame[4]! << 24) | (frame[5]! << 16) | (frame[6]! << 8) | frame[7]!) >>> 0;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** @internal Throws DecodeError. */
export function checkFrame(frame: unknown, what: string): asserts frame is Uint8Array {
  if (!(frame instanceof Uint8Array)) throw new DecodeError('frame_type', `${what} must be a Uint8Array or Buffer, got ${describeJsValue(frame)}`);
}

/** @internal Decodes a payload frame, rethrowing its DecodeError. */
export function unwrapBatch(payload: unknown): DecodedKvEventBatch {
  checkFrame(payload, 'payload frame');
  const result = decodeKvEventBatch(payload);
  if (!result.ok) throw result.error;
  return result.value;
}
