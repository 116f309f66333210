import { DecodeError } from './errors';

/**
 * A small MessagePack reader driven by the caller's schema, instead of a generic decoder (msgpackr)
 * followed by a walk over the resulting objects. Why:
 * - speed: token ids dominate a payload (64 blocks × 64 tokens per batch); decoding them in one
 *   tight loop is about twice as fast as msgpackr's generic `unpack` (measured in
 *   bench/decode.bench.ts and the README);
 * - exact types: an int stays distinguishable from a float, uint64 arrives as bigint, bin as bytes;
 * - hostile input: no extension types are interpreted (msgpackr would build records, Dates, ...),
 *   every length is checked against the bytes left before anything is allocated, and nesting depth
 *   is bounded, so garbage can only ever produce a DecodeError.
 *
 * Contract: `try*` methods return `undefined` (or -1 for headers) WITHOUT consuming anything when the
 * next value has a different type; every method throws DecodeError(reason `msgpack`) when the bytes
 * are not well-formed MessagePack (truncated, reserved 0xc1, extension types, invalid UTF-8).
 * Format bytes follow the MessagePack spec (github.com/msgpack/msgpack/blob/master/spec.md).
 */

/** Generic values (extra_keys, skipped fields) nest at most this deep; vLLM's extra_keys nest 2–3 levels (per-block list → tuple → tuple). */
export const MAX_NESTING_DEPTH = 64;

const TWO_POW_32 = 0x1_0000_0000;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export class MsgpackReader {
  private pos = 0;
  private readonly end: number;

  constructor(private readonly bytes: Uint8Array) {
    this.end = bytes.length;
  }

  get position(): number {
    return this.pos;
  }

  get atEnd(): boolean {
    return this.pos >= this.end;
  }

  /** Rewinds to a position previously read from {@link position} (for a second pass over a map). */
  seek(position: number): void {
    this.pos = position;
  }

  /** Throws unless every byte was consumed: vLLM never sends trailing bytes after the batch. */
  expectEnd(): void {
    if (this.pos !== this.end) {
      throw new DecodeError('msgpack', `${this.end - this.pos} trailing byte(s) after the MessagePack value (offset ${this.pos})`);
    }
  }

  /**
   * The next format byte, not consumed. Throws for bytes that can never start a value we accept
   * (reserved 0xc1, extension types), so that malformed input is reported as `msgpack` wherever
   * it appears rather than as a shape or type mismatch.
   */
  peek(): number {
    if (this.pos >= this.end) throw this.truncated(1);
    const format = this.bytes[this.pos]!;
    if (format === 0xc1 || (format >= 0xc7 && format <= 0xc9) || (format >= 0xd4 && format <= 0xd8)) throw this.unsupported(format);
    return format;
  }

  /** Human name of the next value's type, for error messages. */
  describeNext(): string {
    if (this.pos >= this.end) return 'end of data';
    return describeFormat(this.bytes[this.pos]!);
  }

  tryReadNil(): boolean {
    if (this.peek() !== 0xc0) return false;
    this.pos++;
    return true;
  }

  /** Array header → element count, or -1 (nothing consumed) when the next value is not an array. */
  tryReadArrayHeader(): number {
    const format = this.peek();
    let count: number;
    if (format >= 0x90 && format <= 0x9f) {
      this.pos++;
      count = format & 0x0f;
    } else if (format === 0xdc) {
      count = this.readUint(1, 2);
    } else if (format === 0xdd) {
      count = this.readUint(1, 4);
    } else {
      return -1;
    }
    // Every element takes at least one byte: refuse counts the data cannot hold before allocating.
    if (count > this.end - this.pos) throw new DecodeError('msgpack', `array of ${count} elements at offset ${this.pos} exceeds the ${this.end - this.pos} bytes left`);
    return count;
  }

  /** Map header → entry count, or -1 (nothing consumed) when the next value is not a map. */
  tryReadMapHeader(): number {
    const format = this.peek();
    let count: number;
    if (format >= 0x80 && format <= 0x8f) {
      this.pos++;
      count = format & 0x0f;
    } else if (format === 0xde) {
      count = this.readUint(1, 2);
    } else if (format === 0xdf) {
      count = this.readUint(1, 4);
    } else {
      return -1;
    }
    if (count * 2 > this.end - this.pos) throw new DecodeError('msgpack', `map of ${count} entries at offset ${this.pos} exceeds the ${this.end - this.pos} bytes left`);
    return count;
  }

  tryReadString(): string | undefined {
    const format = this.peek();
    let length: number;
    if (format >= 0xa0 && format <= 0xbf) {
      this.pos++;
      length = format & 0x1f;
    } else if (format === 0xd9) {
      length = this.readUint(1, 1);
    } else if (format === 0xda) {
      length = this.readUint(1, 2);
    } else if (format === 0xdb) {
      length = this.readUint(1, 4);
    } else {
      return undefined;
    }
    return this.readUtf8(length);
  }

  /** A bin value, copied (so the result never pins or aliases the caller's frame buffer). */
  tryReadBinary(): Uint8Array | undefined {
    const format = this.peek();
    let length: number;
    if (format === 0xc4) length = this.readUint(1, 1);
    else if (format === 0xc5) length = this.readUint(1, 2);
    else if (format === 0xc6) length = this.readUint(1, 4);
    else return undefined;
    this.need(length);
    // Always a plain Uint8Array copy: Buffer#slice would return a view of the frame. Digests (16
    // or 32 bytes) are copied byte by byte, which is cheaper than creating a subarray to copy from.
    const start = this.pos;
    let copy: Uint8Array;
    if (length <= 64) {
      copy = new Uint8Array(length);
      for (let i = 0; i < length; i++) copy[i] = this.bytes[start + i]!;
    } else {
      copy = new Uint8Array(this.bytes.subarray(start, start + length));
    }
    this.pos += length;
    return copy;
  }

  /**
   * Any msgpack integer, as a number when it is a safe integer and as a bigint otherwise
   * (uint64 above 2^53, int64 below -2^53). `undefined` for non-integers, floats included.
   */
  tryReadInteger(): number | bigint | undefined {
    const format = this.peek();
    if (format <= 0x7f) {
      this.pos++;
      return format;
    }
    if (format >= 0xe0) {
      this.pos++;
      return format - 0x100;
    }
    switch (format) {
      case 0xcc:
        return this.readUint(1, 1);
      case 0xcd:
        return this.readUint(1, 2);
      case 0xce:
        return this.readUint(1, 4);
      case 0xcf: {
        this.need(9);
        const hi = this.uint32At(this.pos + 1);
        const lo = this.uint32At(this.pos + 5);
        this.pos += 9;
        if (hi < 0x20_0000) return hi * TWO_POW_32 + lo; // < 2^53: exact as a number
        return (BigInt(hi) << 32n) | BigInt(lo);
      }
      case 0xd0: {
        const value = this.readUint(1, 1);
        return value >= 0x80 ? value - 0x100 : value;
      }
      case 0xd1: {
        const value = this.readUint(1, 2);
        return value >= 0x8000 ? value - 0x1_0000 : value;
      }
      case 0xd2: {
        const value = this.readUint(1, 4);
        return value >= 0x8000_0000 ? value - TWO_POW_32 : value;
      }
      case 0xd3: {
        this.need(9);
        const hi = this.uint32At(this.pos + 1);
        const lo = this.uint32At(this.pos + 5);
        this.pos += 9;
        const signedHi = hi >= 0x8000_0000 ? hi - TWO_POW_32 : hi;
        // |value| < 2^53 ⇔ signedHi in [-2^21, 2^21): exact as a number.
        if (signedHi >= -0x20_0000 && signedHi < 0x20_0000) return signedHi * TWO_POW_32 + lo;
        return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
      }
      default:
        return undefined;
    }
  }

  /**
   * A block hash as its uint64 value (ints; negatives as two's complement) or its raw bytes (bin).
   * `undefined` for anything else. Kept separate from tryReadInteger so uint64s never take a detour
   * through number.
   */
  tryReadHash(): bigint | Uint8Array | undefined {
    const format = this.peek();
    if (format === 0xcf) {
      this.need(9);
      const hi = this.uint32At(this.pos + 1);
      const lo = this.uint32At(this.pos + 5);
      this.pos += 9;
      return (BigInt(hi) << 32n) | BigInt(lo);
    }
    if (format === 0xd3) {
      this.need(9);
      const hi = this.uint32At(this.pos + 1);
      const lo = this.uint32At(this.pos + 5);
      this.pos += 9;
      return (BigInt(hi) << 32n) | BigInt(lo); // the 8 bytes ARE the two's complement
    }
    if (format >= 0xc4 && format <= 0xc6) return this.tryReadBinary();
    const small = this.tryReadInteger();
    if (small === undefined) return undefined;
    // Only 0xcf/0xd3 can produce bigint and those were handled above.
    const value = BigInt(small);
    return value < 0n ? BigInt.asUintN(64, value) : value;
  }

  /** Any number: float32/float64 or an integer (converted, possibly losing precision). */
  tryReadNumber(): number | undefined {
    const format = this.peek();
    if (format === 0xcb) {
      this.need(9);
      const value = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.pos + 1, 8).getFloat64(0);
      this.pos += 9;
      return value;
    }
    if (format === 0xca) {
      this.need(5);
      const value = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.pos + 1, 4).getFloat32(0);
      this.pos += 5;
      return value;
    }
    const integer = this.tryReadInteger();
    return typeof integer === 'bigint' ? Number(integer) : integer;
  }

  /**
   * An array whose elements are all safe integers (token ids), decoded in one loop. Returns
   * `undefined` (nothing consumed) if the next value is not an array; throws `onBadElement(index,
   * found)` if an element is not a safe integer.
   */
  tryReadSafeIntegerArray(onBadElement: (index: number, found: string) => Error): number[] | undefined {
    const count = this.tryReadArrayHeader();
    if (count < 0) return undefined;
    const out = new Array<number>(count);
    const bytes = this.bytes;
    const end = this.end;
    // The position lives in a local inside the loop (V8 keeps it in a register); it is written
    // back before any call that reads this.pos.
    let pos = this.pos;
    for (let i = 0; i < count; i++) {
      const format = bytes[pos];
      // Inline fast paths for the widths token ids use; everything else goes the general way.
      if (format !== undefined && format <= 0x7f) {
        out[i] = format;
        pos += 1;
      } else if (format === 0xce && pos + 5 <= end) {
        out[i] = ((bytes[pos + 1]! << 24) | (bytes[pos + 2]! << 16) | (bytes[pos + 3]! << 8) | bytes[pos + 4]!) >>> 0;
        pos += 5;
      } else if (format === 0xcd && pos + 3 <= end) {
        out[i] = (bytes[pos + 1]! << 8) | bytes[pos + 2]!;
        pos += 3;
      } else if (format === 0xcc && pos + 2 <= end) {
        out[i] = bytes[pos + 1]!;
        pos += 2;
      } else {
        this.pos = pos;
        if (pos >= end) throw this.truncated(1);
        const found = this.describeNext();
        const value = this.tryReadInteger();
        if (typeof value !== 'number') throw onBadElement(i, value === undefined ? found : `integer ${value} (not a safe integer)`);
        out[i] = value;
        pos = this.pos;
      }
    }
    this.pos = pos;
    return out;
  }

  /**
   * Like {@link tryReadSafeIntegerArray} — same checks, same errors — but keeps nothing: for
   * callers that need to know a payload is valid, not its token ids. Returns the element count,
   * or -1 (nothing consumed) if the next value is not an array.
   */
  trySkipSafeIntegerArray(onBadElement: (index: number, found: string) => Error): number {
    const count = this.tryReadArrayHeader();
    if (count < 0) return -1;
    const bytes = this.bytes;
    const end = this.end;
    let pos = this.pos;
    for (let i = 0; i < count; i++) {
      const format = bytes[pos];
      if (format !== undefined && format <= 0x7f) pos += 1;
      else if (format === 0xce && pos + 5 <= end) pos += 5;
      else if (format === 0xcd && pos + 3 <= end) pos += 3;
      else if (format === 0xcc && pos + 2 <= end) pos += 2;
      else {
        this.pos = pos;
        if (pos >= end) throw this.truncated(1);
        const found = this.describeNext();
        const value = this.tryReadInteger();
        if (typeof value !== 'number') throw onBadElement(i, value === undefined ? found : `integer ${value} (not a safe integer)`);
        pos = this.pos;
      }
    }
    this.pos = pos;
    return count;
  }

  /** Like {@link tryReadHash} (same accepted forms) but only moves past the value: true if it was a hash. */
  trySkipHash(): boolean {
    const format = this.peek();
    if (format === 0xcf || format === 0xd3) {
      this.need(9);
      this.pos += 9;
      return true;
    }
    if (format >= 0xc4 && format <= 0xc6) return this.tryReadBinary() !== undefined;
    return this.tryReadInteger() !== undefined;
  }

  /**
   * Any value as plain JS: null, boolean, number (ints within ±2^53 and floats), bigint (larger ints),
   * string, Uint8Array (bin, copied), arrays, and maps as null-prototype objects when every key is a
   * string (a JS Map otherwise). Extension types are rejected.
   */
  readValue(depth = 0): unknown {
    if (depth > MAX_NESTING_DEPTH) throw new DecodeError('msgpack', `values nested deeper than ${MAX_NESTING_DEPTH} levels at offset ${this.pos}`);
    const format = this.peek();
    if (format === 0xc0) {
      this.pos++;
      return null;
    }
    if (format === 0xc2 || format === 0xc3) {
      this.pos++;
      return format === 0xc3;
    }
    if (format === 0xca || format === 0xcb) return this.tryReadNumber();
    const integer = this.tryReadInteger();
    if (integer !== undefined) return integer;
    const string = this.tryReadString();
    if (string !== undefined) return string;
    const binary = this.tryReadBinary();
    if (binary !== undefined) return binary;
    const arrayLength = this.tryReadArrayHeader();
    if (arrayLength >= 0) {
      const array = new Array<unknown>(arrayLength);
      for (let i = 0; i < arrayLength; i++) array[i] = this.readValue(depth + 1);
      return array;
    }
    const mapSize = this.tryReadMapHeader();
    if (mapSize >= 0) return this.readMapEntries(mapSize, depth);
    throw this.unsupported(format);
  }

  /** Skips one value of any type (unknown fields, unknown events) without materialising it. */
  skipValue(depth = 0): void {
    if (depth > MAX_NESTING_DEPTH) throw new DecodeError('msgpack', `values nested deeper than ${MAX_NESTING_DEPTH} levels at offset ${this.pos}`);
    const format = this.peek();
    if (format <= 0x7f || format >= 0xe0 || format === 0xc0 || format === 0xc2 || format === 0xc3) {
      this.pos++;
      return;
    }
    const fixedSize = FIXED_SIZES[format];
    if (fixedSize !== undefined) {
      this.need(fixedSize);
      this.pos += fixedSize;
      return;
    }
    if ((format >= 0xa0 && format <= 0xbf) || (format >= 0xd9 && format <= 0xdb) || (format >= 0xc4 && format <= 0xc6)) {
      const length = format >= 0xa0 && format <= 0xbf ? (this.pos++, format & 0x1f) : this.readUint(1, LENGTH_WIDTHS[format]!);
      this.need(length);
      this.pos += length;
      return;
    }
    const arrayLength = this.tryReadArrayHeader();
    if (arrayLength >= 0) {
      for (let i = 0; i < arrayLength; i++) this.skipValue(depth + 1);
      return;
    }
    const mapSize = this.tryReadMapHeader();
    if (mapSize >= 0) {
      for (let i = 0; i < mapSize * 2; i++) this.skipValue(depth + 1);
      return;
    }
    throw this.unsupported(format);
  }

  private readMapEntries(size: number, depth: number): unknown {
    const keys: unknown[] = [];
    const values: unknown[] = [];
    let allStringKeys = true;
    for (let i = 0; i < size; i++) {
      const key = this.readValue(depth + 1);
      if (typeof key !== 'string') allStringKeys = false;
      keys.push(key);
      values.push(this.readValue(depth + 1));
    }
    if (!allStringKeys) return new Map(keys.map((key, i) => [key, values[i]]));
    // A null prototype makes keys such as "__proto__" plain data, never a prototype change.
    const object = Object.create(null) as Record<string, unknown>;
    for (let i = 0; i < size; i++) object[keys[i] as string] = values[i];
    return object;
  }

  /** Reads an unsigned big-endian integer of `width` bytes that starts `skip` bytes ahead, consuming both. */
  private readUint(skip: number, width: 1 | 2 | 4): number {
    this.need(skip + width);
    const at = this.pos + skip;
    const bytes = this.bytes;
    let value: number;
    if (width === 1) value = bytes[at]!;
    else if (width === 2) value = (bytes[at]! << 8) | bytes[at + 1]!;
    else value = this.uint32At(at);
    this.pos = at + width;
    return value;
  }

  private uint32At(at: number): number {
    const bytes = this.bytes;
    return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
  }

  private readUtf8(length: number): string {
    this.need(length);
    const bytes = this.bytes;
    const start = this.pos;
    // Tags, map keys and field values such as "GPU" repeat in every event: look them up in a
    // small cache instead of building a string each time (the biggest per-event cost otherwise).
    if (length > 0 && length <= SHORT_STRING_MAX) {
      const slot = (length * 31 + bytes[start]! * 7 + bytes[start + length - 1]! * 131 + bytes[start + (length >> 1)]!) & (SHORT_STRING_SLOTS - 1);
      const cached = shortStrings[slot];
      if (cached !== undefined && cached.bytes.length === length && sameBytes(cached.bytes, bytes, start)) {
        this.pos += length;
        return cached.text;
      }
      const text = this.decodeUtf8(start, length);
      // A copy: Buffer#slice would alias the caller's frame, which may be reused and then match wrongly.
      shortStrings[slot] = { bytes: new Uint8Array(bytes.subarray(start, start + length)), text };
      return text;
    }
    return this.decodeUtf8(start, length);
  }

  private decodeUtf8(start: number, length: number): string {
    const bytes = this.bytes;
    let text: string;
    try {
      text = utf8.decode(bytes.subarray(start, start + length));
    } catch (err: unknown) {
      throw new DecodeError('msgpack', `invalid UTF-8 in the string at offset ${start}`, { cause: err });
    }
    this.pos += length;
    return text;
  }

  private need(count: number): void {
    if (this.pos + count > this.end) throw this.truncated(count);
  }

  private truncated(count: number): DecodeError {
    return new DecodeError('msgpack', `truncated: needed ${count} byte(s) at offset ${this.pos}, ${Math.max(0, this.end - this.pos)} left`);
  }

  private unsupported(format: number): DecodeError {
    return new DecodeError('msgpack', `unsupported MessagePack format byte 0x${format.toString(16).padStart(2, '0')} (${describeFormat(format)}) at offset ${this.pos}`);
  }
}

/** Strings up to this many bytes go through the cache (vLLM's longest key, kv_cache_spec_sliding_window, has 28). */
const SHORT_STRING_MAX = 32;
const SHORT_STRING_SLOTS = 512;
/** Process-wide, direct-mapped; entries are immutable, so sharing between readers is safe. */
const shortStrings: ({ readonly bytes: Uint8Array; readonly text: string } | undefined)[] = new Array(SHORT_STRING_SLOTS);

function sameBytes(cached: Uint8Array, bytes: Uint8Array, start: number): boolean {
  for (let i = 0; i < cached.length; i++) if (cached[i] !== bytes[start + i]) return false;
  return true;
}

/** Total sizes (format byte included) of fixed-size scalars, for skipValue. */
const FIXED_SIZES: Readonly<Record<number, number>> = {
  0xca: 5,
  0xcb: 9,
  0xcc: 2,
  0xcd: 3,
  0xce: 5,
  0xcf: 9,
  0xd0: 2,
  0xd1: 3,
  0xd2: 5,
  0xd3: 9,
};

/** Width of the length field of str8/16/32 and bin8/16/32. */
const LENGTH_WIDTHS: Readonly<Record<number, 1 | 2 | 4>> = { 0xd9: 1, 0xda: 2, 0xdb: 4, 0xc4: 1, 0xc5: 2, 0xc6: 4 };

/** What a format byte announces, for messages like "expected an integer, found str". */
export function describeFormat(format: number): string {
  if (format <= 0x7f || format >= 0xe0 || (format >= 0xcc && format <= 0xd3)) return 'integer';
  if (format <= 0x8f || format === 0xde || format === 0xdf) return 'map';
  if (format <= 0x9f || format === 0xdc || format === 0xdd) return 'array';
  if (format <= 0xbf || (format >= 0xd9 && format <= 0xdb)) return 'string';
  if (format === 0xc0) return 'nil';
  if (format === 0xc2 || format === 0xc3) return 'boolean';
  if (format >= 0xc4 && format <= 0xc6) return 'bytes';
  if (format === 0xca || format === 0xcb) return 'float';
  if (format === 0xc1) return 'reserved byte 0xc1';
  return 'extension type';
}
