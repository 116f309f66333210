import { UINT64_MAX } from './block-hash';
import { describeJsValue } from './decode-batch';
import { captureDecode, DecodeError, type DecodeResult } from './errors';
import { type DecodedKvEventBatch } from './events';
import { checkFrame, encodeSeqFrame, readSeqFrame, readTopicFrame, unwrapBatch } from './frames';

/**
 * The replay protocol of vLLM's ROUTER socket (`KVEventsConfig.replay_endpoint`;
 * `ZmqEventPublisher._service_replay`, spec §1.5). Pure frame builders/parsers; no sockets.
 *
 * Request, as a DEALER sends it: `["", seq8]` (the empty delimiter a REQ socket would add). The
 * pod's ROUTER sees `[identity, "", seq8]` and answers, for every buffered batch with seq ≥ start,
 * in order, then an end marker. Two upstream generations of the answer (DEALER view, identity
 * already stripped by ZMQ):
 *
 * | generation | data | end marker |
 * |---|---|---|
 * | `without_topic` (`kv_events.py@b4e69e0a`, `@0181ea31`) | `["", seq8, payload]` | `["", END, ""]` |
 * | `with_topic` (newer; vLLM test `test_replay_includes_topic`, `tests/distributed/test_events.py@05d3142f`) | `["", topic, seq8, payload]` | `["", "", END, ""]` |
 *
 * END = `(-1).to_bytes(8, "big", signed=True)` = `ff ff ff ff ff ff ff ff`. vLLM's own client
 * recognises the end by the empty last frame; we additionally require END before it.
 */

/** The seq value of the end marker: 2^64-1, i.e. int64 -1. */
export const REPLAY_END_SEQ = UINT64_MAX;

/** Which generation of vLLM's replay answer to produce (see the table above). */
export type ReplayResponseFormat = 'with_topic' | 'without_topic';

/** A replay request as the pod's ROUTER receives it. */
export interface ReplayRequest {
  /** ZMQ routing identity of the requesting DEALER; send the answer frames after it. */
  readonly identity: Uint8Array;
  readonly startSeq: bigint;
}

/** One decoded replay answer: a buffered batch, or the end of the replay. */
export type ReplayResponse =
  | {
      readonly kind: 'batch';
      /** The topic frame; null when the answer had none (`without_topic`, or an empty topic via a REQ socket: indistinguishable). */
      readonly topic: string | null;
      readonly seq: bigint;
      readonly batch: DecodedKvEventBatch;
    }
  | { readonly kind: 'end' };

/** What a buffered batch is replayed from: vLLM keeps `(seq, payload bytes)` and the publisher's topic. */
export interface ReplayBatchInput {
  readonly topic: string;
  readonly seq: bigint | number;
  readonly payload: Uint8Array;
}

const EMPTY = Buffer.alloc(0);

/** The frames a DEALER sends to ask for every batch from `startSeq` on: `["", seq8]`. */
export function encodeReplayRequest(startSeq: bigint | number): Buffer[] {
  return [EMPTY, encodeSeqFrame(startSeq)];
}

/** Parses what a ROUTER receives: exactly `[identity, "", seq8]` (vLLM ignores anything else). Never throws. */
export function decodeReplayRequest(frames: readonly Uint8Array[]): DecodeResult<ReplayRequest> {
  return captureDecode(() => {
    if (!Array.isArray(frames)) throw new DecodeError('frame_type', `frames must be an array, got ${describeJsValue(frames)}`);
    if (frames.length !== 3) throw new DecodeError('frame_count', `a replay request has 3 frames [identity, "", seq], got ${frames.length}`);
    const [identity, delimiter, seq] = frames as readonly unknown[];
    checkFrame(identity, 'frame 0 (identity)');
    checkFrame(delimiter, 'frame 1 (delimiter)');
    if (delimiter.length !== 0) throw new DecodeError('replay_shape', `frame 1 of a replay request must be the empty delimiter, got ${delimiter.length} bytes`);
    return { identity, startSeq: readSeqFrame(seq, 'frame 2 (start seq)') };
  });
}

/** Frames a ROUTER sends (after the identity frame) to replay one buffered batch. */
export function encodeReplayBatch(input: ReplayBatchInput, format: ReplayResponseFormat): Buffer[] {
  const seq = encodeSeqFrame(input.seq);
  const payload = Buffer.from(input.payload);
  return format === 'with_topic' ? [EMPTY, Buffer.from(input.topic, 'utf8'), seq, payload] : [EMPTY, seq, payload];
}

/** Frames a ROUTER sends (after the identity frame) to end a replay. */
export function encodeReplayEnd(format: ReplayResponseFormat): Buffer[] {
  const end = encodeSeqFrame(REPLAY_END_SEQ);
  return format === 'with_topic' ? [EMPTY, EMPTY, end, EMPTY] : [EMPTY, end, EMPTY];
}

/**
 * Parses one answer as a DEALER (or REQ) receives it, in either generation:
 * - end marker: last frame empty, the frame before it END, any frames before that empty
 *   (delimiter and/or empty topic), 2 to 4 frames in all;
 * - data: `["", topic, seq, payload]` (DEALER, with_topic), `[x, seq, payload]` (x = "" → DEALER,
 *   without_topic; else REQ, with_topic and x is the topic), `[seq, payload]` (REQ, without_topic).
 * Never throws.
 */
export function decodeReplayResponse(frames: readonly Uint8Array[]): DecodeResult<ReplayResponse> {
  return captureDecode((): ReplayResponse => {
    if (!Array.isArray(frames)) throw new DecodeError('frame_type', `frames must be an array, got ${describeJsValue(frames)}`);
    frames.forEach((frame, index) => checkFrame(frame, `frame ${index}`));
    const count = frames.length;
    if (count < 2 || count > 4) throw new DecodeError('frame_count', `a replay answer has 2 to 4 frames, got ${count}`);
    const last = frames[count - 1]!;
    if (last.length === 0) {
      const seq = readSeqFrame(frames[count - 2], `frame ${count - 2} (end seq)`);
      if (seq !== REPLAY_END_SEQ) throw new DecodeError('replay_shape', `an answer with an empty last frame must carry the end seq ff…ff, got ${seq}`);
      for (let i = 0; i < count - 2; i++) {
        if (frames[i]!.length !== 0) throw new DecodeError('replay_shape', `frame ${i} of the end marker must be empty, got ${frames[i]!.length} bytes`);
      }
      return { kind: 'end' };
    }
    let topic: string | null = null;
    if (count === 4) {
      if (frames[0]!.length !== 0) throw new DecodeError('replay_shape', `frame 0 of a 4-frame replay answer must be the empty delimiter, got ${frames[0]!.length} bytes`);
      topic = readTopicFrame(frames[1], 'frame 1 (topic)');
    } else if (count === 3 && frames[0]!.length !== 0) {
      topic = readTopicFrame(frames[0], 'frame 0 (topic)');
    }
    const seq = readSeqFrame(frames[count - 2], `frame ${count - 2} (seq)`);
    return { kind: 'batch', topic, seq, batch: unwrapBatch(frames[count - 1]) };
  });
}
