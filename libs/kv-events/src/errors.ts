/**
 * Why a frame set or payload was rejected. Stable, machine-readable codes: collectors count
 * rejected messages by `reason`, so renaming one is a breaking change.
 *
 * - `frame_type`   a frame is not a Uint8Array/Buffer (a caller bug or a transport surprise)
 * - `frame_count`  a live message is not exactly `[topic, seq, payload]`
 * - `seq_length`   a sequence frame is not exactly 8 bytes
 * - `topic_utf8`   the topic frame is not valid UTF-8
 * - `msgpack`      the payload is not well-formed MessagePack (truncated, trailing bytes, reserved
 *                  byte 0xc1, an extension type, invalid UTF-8 in a string, nesting too deep, ...)
 * - `batch_shape`  the top-level value is not a `[ts, events, dp_rank?]` array or a batch map
 * - `event_shape`  an event is neither an array nor a map, has no string tag, or is too short
 *                  or lacks a required key for its type
 * - `field_type`   a known field holds a value of the wrong type (e.g. token_ids not a list of ints)
 * - `hash_type`    a block hash is not an integer in the int64/uint64 range nor a byte string
 * - `replay_shape` a replay response matches neither the data nor the end-marker layout
 * - `internal`     a bug in this library surfaced while decoding; reported instead of thrown so the
 *                  "decode never throws" contract holds (tests assert it never happens)
 */
export type DecodeErrorReason =
  | 'frame_type'
  | 'frame_count'
  | 'seq_length'
  | 'topic_utf8'
  | 'msgpack'
  | 'batch_shape'
  | 'event_shape'
  | 'field_type'
  | 'hash_type'
  | 'replay_shape'
  | 'internal';

/**
 * The only error the decoders produce (as the `error` of a failed {@link DecodeResult}; they never
 * throw). `path` locates the offending value inside the payload, e.g. `events[2].token_ids[17]`,
 * using the wire (snake_case) field names so it can be matched against vLLM's struct definitions.
 */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  readonly reason: DecodeErrorReason;
  readonly path: string | undefined;

  constructor(reason: DecodeErrorReason, message: string, options: { path?: string; cause?: unknown } = {}) {
    super(options.path === undefined ? message : `${options.path}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
    this.path = options.path;
  }
}

/**
 * Result of every top-level decoder: consumers branch on `ok` and never need try/catch. The error
 * side is always a {@link DecodeError}.
 */
export type DecodeResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: DecodeError };

/**
 * Runs a decoder body that reports problems by throwing DecodeError, and turns the outcome into a
 * DecodeResult. Anything else thrown is a bug in this library: it is wrapped as reason `internal`
 * (with the original as `cause`) so that callers still never see an exception.
 * @internal
 */
export function captureDecode<T>(body: () => T): DecodeResult<T> {
  try {
    return { ok: true, value: body() };
  } catch (err: unknown) {
    if (err instanceof DecodeError) return { ok: false, error: err };
    const detail = err instanceof Error ? err.message : String(err);
    return { ok: false, error: new DecodeError('internal', `unexpected failure while decoding: ${detail}`, { cause: err }) };
  }
}
