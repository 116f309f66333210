/**
 * Faster gRPC (de)serializers for messages that carry long `repeated uint32` fields: the token ids
 * of the tokenizer's answers (7k of them for a 7k-token prompt) and of Score requests.
 *
 * proto-loader's codecs go through protobufjs `fromObject` + `encode` and `decode` + `toObject`,
 * one writer operation per id: 0.86 ms to serialize and 0.44 ms to parse the 7,010 ids of one
 * RenderCompletion answer on this project's benchmark machine, on the gateway's critical path
 * (`libs/contracts/bench/packed-codec.bench.ts` compares both in one run).
 * These codecs handle only the repeated uint32 fields themselves, in one tight loop each, and leave
 * every other field to protobufjs, so the result is the same object proto-loader would give.
 *
 * Wire format: standard protobuf, readable by any implementation (the reference sidecar included).
 * - Writing: protobufjs encodes the message without the hot fields, then each non-empty hot field
 *   follows as one packed record `tag(field, LEN) · length · varint…`, all in one buffer. Fields
 *   may come in any order on the wire and parsers concatenate repeated fields, so this equals
 *   protobufjs' output to every reader (the bytes differ only in field order).
 * - Reading: one pass over the top-level records. Hot fields are read packed (wire type 2) or
 *   unpacked (wire type 0), several records appending; varints up to 10 bytes keep their low 32
 *   bits as protobufjs does; everything else is handed to protobufjs as it came. A group (wire
 *   types 3/4, proto2 only) sends the whole message to protobufjs.
 * - Element conversion is protobufjs' (`value >>> 0`), so out-of-range input encodes the same.
 */
import type { MessageTypeDefinition as LoadedMessageType, PackageDefinition } from '@grpc/proto-loader';

type AnyMessageType = LoadedMessageType<unknown, unknown>;
type Serialize = (value: unknown) => Buffer;
type Deserialize = (bytes: Buffer) => unknown;

/** A `repeated uint32` field of a message: its key in the loaded objects and its field number. */
export interface PackedUint32Field {
  readonly name: string;
  readonly number: number;
}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

function writeVarint(out: Buffer, pos: number, value: number): number {
  let v = value;
  while (v >= 0x80) {
    out[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[pos++] = v;
  return pos;
}

/** Most bytes one packed record of `count` values can take: tag and length varints, ≤ 5 bytes per value. */
function packedCapacity(count: number): number {
  return 10 + 5 * count;
}

/**
 * Writes one packed record of `values` (each converted once with `>>> 0`) for field `number` at
 * `pos` of `out`, which has `packedCapacity(values.length)` bytes free there; returns the end.
 * One pass: the varints are written where a 5-byte length would leave them, then moved left by
 * what the real length saves (a memmove, cheaper than a sizing pass over the values).
 */
function writePackedRecord(out: Buffer, pos: number, number: number, values: ArrayLike<unknown>): number {
  const n = values.length;
  const tag = ((number << 3) | WIRE_LEN) >>> 0;
  const lengthAt = writeVarint(out, pos, tag);
  const payloadAt = lengthAt + 5;
  let at = payloadAt;
  for (let i = 0; i < n; i++) {
    let v = (values[i] as number) >>> 0;
    // Inline varint: most token ids take 2–3 bytes.
    while (v >= 0x80) {
      out[at++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    out[at++] = v;
  }
  const payload = at - payloadAt;
  const bodyAt = writeVarint(out, lengthAt, payload);
  if (bodyAt < payloadAt) out.copyWithin(bodyAt, payloadAt, at);
  return bodyAt + payload;
}

/** One packed record of `values` (converted with `>>> 0`) for field `number`. */
export function encodePackedUint32(number: number, values: ArrayLike<unknown>): Buffer {
  const out = Buffer.allocUnsafe(packedCapacity(values.length));
  return out.subarray(0, writePackedRecord(out, 0, number, values));
}

function truncated(): RangeError {
  return new RangeError('protobuf message truncated');
}

/**
 * Reads the varint at `pos` of `bytes` (before `end`), into `cursor.value` (low 32 bits, unsigned)
 * and `cursor.pos`. Up to 10 bytes, as protobuf allows for 64-bit values.
 */
function readVarint(bytes: Buffer, pos: number, end: number, cursor: { pos: number; value: number }): void {
  let value = 0;
  let shift = 0;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw truncated();
    const byte = bytes[pos++] as number;
    if (shift < 32) value |= (byte & 0x7f) << shift;
    shift += 7;
    if (byte < 0x80) {
      cursor.pos = pos;
      cursor.value = value >>> 0;
      return;
    }
  }
  throw new RangeError('protobuf varint longer than 10 bytes');
}

/** Position after the record whose value starts at `pos` with this wire type; -1 for a group. */
function skipValue(bytes: Buffer, pos: number, end: number, wire: number, cursor: { pos: number; value: number }): number {
  switch (wire) {
    case WIRE_VARINT:
      readVarint(bytes, pos, end, cursor);
      return cursor.pos;
    case WIRE_FIXED64:
      if (pos + 8 > end) throw truncated();
      return pos + 8;
    case WIRE_LEN: {
      readVarint(bytes, pos, end, cursor);
      const after = cursor.pos + cursor.value;
      if (after > end) throw truncated();
      return after;
    }
    case WIRE_FIXED32:
      if (pos + 4 > end) throw truncated();
      return pos + 4;
    default:
      return -1;
  }
}

/** Serializer: protobufjs for everything but `fields`, which follow as packed records. */
export function packedUint32Serializer(original: Serialize, fields: readonly PackedUint32Field[]): Serialize {
  return (value: unknown): Buffer => {
    if (typeof value !== 'object' || value === null) return original(value);
    const source = value as Record<string, unknown>;
    let rest: Record<string, unknown> | undefined;
    let capacity = 0;
    for (const field of fields) {
      const values = source[field.name];
      // Anything but an array is protobufjs' to accept or refuse.
      if (!Array.isArray(values)) continue;
      rest ??= Object.assign({}, source);
      rest[field.name] = [];
      if (values.length > 0) capacity += packedCapacity(values.length);
    }
    if (!rest) return original(value);
    const head = original(rest);
    if (capacity === 0) return head;
    // One buffer for the whole message: protobufjs' part, then each hot field written in place.
    const out = Buffer.allocUnsafe(head.length + capacity);
    let pos = head.copy(out, 0);
    for (const field of fields) {
      const values = source[field.name];
      if (Array.isArray(values) && values.length > 0) pos = writePackedRecord(out, pos, field.number, values);
    }
    return out.subarray(0, pos);
  };
}

/**
 * The `count` varints of a packed record `[pos, stop)` into an array created at its final length.
 * A last varint cut off by `stop` (all its bytes ≥ 0x80, so not counted) throws in readVarint.
 */
function fillPacked(bytes: Buffer, pos: number, stop: number, count: number, cursor: { pos: number; value: number }): number[] {
  const values = new Array<number>(count);
  let at = 0;
  while (pos < stop) {
    const b0 = bytes[pos] as number;
    if (b0 < 0x80) {
      values[at++] = b0;
      pos += 1;
      continue;
    }
    if (pos + 2 < stop) {
      const b1 = bytes[pos + 1] as number;
      if (b1 < 0x80) {
        values[at++] = (b0 & 0x7f) | (b1 << 7);
        pos += 2;
        continue;
      }
      const b2 = bytes[pos + 2] as number;
      if (b2 < 0x80) {
        values[at++] = (b0 & 0x7f) | ((b1 & 0x7f) << 7) | (b2 << 14);
        pos += 3;
        continue;
      }
    }
    readVarint(bytes, pos, stop, cursor);
    values[at++] = cursor.value;
    pos = cursor.pos;
  }
  return values;
}

/** Deserializer: `fields` read here, every other record parsed by protobufjs as proto-loader would. */
export function packedUint32Deserializer(original: Deserialize, fields: readonly PackedUint32Field[]): Deserialize {
  const nameOf = new Map(fields.map((f) => [f.number, f.name]));
  return (bytes: Buffer): unknown => {
    const end = bytes.length;
    const cursor = { pos: 0, value: 0 };
    const hot = new Map<string, number[]>();
    // Byte ranges of the records protobufjs reads, merged when adjacent.
    const rest: number[] = [];
    let pos = 0;
    while (pos < end) {
      const start = pos;
      readVarint(bytes, pos, end, cursor);
      pos = cursor.pos;
      const fieldNumber = cursor.value >>> 3;
      const wire = cursor.value & 7;
      const name = nameOf.get(fieldNumber);
      if (name !== undefined && (wire === WIRE_LEN || wire === WIRE_VARINT)) {
        let values = hot.get(name);
        if (!values) hot.set(name, (values = []));
        if (wire === WIRE_VARINT) {
          readVarint(bytes, pos, end, cursor);
          values.push(cursor.value);
          pos = cursor.pos;
        } else {
          readVarint(bytes, pos, end, cursor);
          const stop = cursor.pos + cursor.value;
          if (stop > end) throw truncated();
          pos = cursor.pos;
          // Sized once (every varint ends in a byte < 0x80): pushing 7k ids one by one regrows
          // the array about twenty times, twice its final size in garbage per response.
          let count = 0;
          for (let i = pos; i < stop; i++) if ((bytes[i] as number) < 0x80) count++;
          const record = fillPacked(bytes, pos, stop, count, cursor);
          if (values.length === 0) hot.set(name, record);
          else for (const v of record) values.push(v); // the field split over several records: rare
          pos = stop;
        }
        continue;
      }
      pos = skipValue(bytes, pos, end, wire, cursor);
      if (pos < 0) return original(bytes);
      const last = rest.length;
      if (last > 0 && rest[last - 1] === start) rest[last - 1] = pos;
      else rest.push(start, pos);
    }
    let others: Buffer;
    if (rest.length === 0) others = Buffer.alloc(0);
    else if (rest.length === 2) others = bytes.subarray(rest[0], rest[1]);
    else {
      const parts: Buffer[] = [];
      for (let i = 0; i < rest.length; i += 2) parts.push(bytes.subarray(rest[i], rest[i + 1]));
      others = Buffer.concat(parts);
    }
    const message = original(others) as Record<string, unknown>;
    for (const [name, values] of hot) message[name] = values;
    return message;
  };
}

interface DescriptorField {
  readonly name: string;
  readonly number: number;
  readonly label: string;
  readonly type: string;
}

/** The `repeated uint32` fields of a loaded message type (keys as loaded with `keepCase`). */
export function packedUint32Fields(type: AnyMessageType): PackedUint32Field[] {
  const descriptor = type.type as { field?: readonly DescriptorField[] };
  return (descriptor.field ?? []).filter((f) => f.label === 'LABEL_REPEATED' && f.type === 'TYPE_UINT32').map((f) => ({ name: f.name, number: f.number }));
}

interface LoadedMethod {
  path: string;
  requestType: AnyMessageType;
  responseType: AnyMessageType;
  requestSerialize: Serialize;
  requestDeserialize: Deserialize;
  responseSerialize: Serialize;
  responseDeserialize: Deserialize;
}

/**
 * Installs the packed-uint32 codecs on every method of every service in `definition` whose request
 * or response has `repeated uint32` fields (in place; returns `definition`). The definition must
 * have been loaded with `keepCase: true` (PROTO_LOADER_OPTIONS), so object keys are the proto names.
 */
export function withPackedUint32Codecs(definition: PackageDefinition): PackageDefinition {
  for (const entry of Object.values(definition)) {
    if ('format' in entry) continue; // a message or enum type, not a service
    for (const method of Object.values(entry) as unknown as LoadedMethod[]) {
      const requestFields = packedUint32Fields(method.requestType);
      if (requestFields.length > 0) {
        method.requestSerialize = packedUint32Serializer(method.requestSerialize, requestFields);
        method.requestDeserialize = packedUint32Deserializer(method.requestDeserialize, requestFields);
      }
      const responseFields = packedUint32Fields(method.responseType);
      if (responseFields.length > 0) {
        method.responseSerialize = packedUint32Serializer(method.responseSerialize, responseFields);
        method.responseDeserialize = packedUint32Deserializer(method.responseDeserialize, responseFields);
      }
    }
  }
  return definition;
}
