/**
 * A MessagePack writer that picks the same formats as msgspec's encoder (what vLLM publishes with),
 * so our encoder reproduces vLLM's bytes exactly. msgpackr cannot be used for this: it writes every
 * bigint as 9-byte int64 (`d3 …`, even 5n) and integers above 2^32 as float64.
 *
 * msgspec's choices (checked by the golden fixtures produced with Python msgpack, which chooses the
 * same ones): integers in the smallest format (positive fixint, u8/16/32/64; negative fixint,
 * i8/16/32/64), floats always float64 (Python floats are doubles), str as fixstr/str8/16/32 (str8
 * included: the "new" spec), bytes as bin8/16/32, arrays fixarray/array16/32, maps fixmap/map16/32.
 */
/**
 * Marks a number to be written as float64 even when it is integral (JS has one number type; msgspec
 * writes a Python float as float64 regardless of its value). Only {@link MsgpackWriter.writeValue}
 * looks for it; used by test builders for hand-made payloads.
 */
export class Float64 {
  constructor(readonly value: number) {}
}

export class MsgpackWriter {
  private buffer: Buffer;
  private pos = 0;

  constructor(initialCapacity = 1024) {
    this.buffer = Buffer.allocUnsafe(initialCapacity);
  }

  /** A copy of the bytes written so far. */
  toBuffer(): Buffer {
    return Buffer.from(this.buffer.subarray(0, this.pos));
  }

  writeNil(): void {
    this.ensure(1);
    this.buffer[this.pos++] = 0xc0;
  }

  writeBoolean(value: boolean): void {
    this.ensure(1);
    this.buffer[this.pos++] = value ? 0xc3 : 0xc2;
  }

  /** An integer in its smallest format. Throws RangeError outside int64 ∪ uint64 or for non-integers. */
  writeInteger(value: number | bigint): void {
    if (typeof value === 'number') {
      if (!Number.isSafeInteger(value)) {
        if (!Number.isInteger(value)) throw new RangeError(`cannot write ${value} as a MessagePack integer`);
        this.writeBigInteger(BigInt(value));
        return;
      }
      this.writeSafeInteger(value);
      return;
    }
    this.writeBigInteger(value);
  }

  /** Always float64 (`cb`), like msgspec for a Python float, even when the value is integral. */
  writeFloat64(value: number): void {
    this.ensure(9);
    this.buffer[this.pos] = 0xcb;
    this.buffer.writeDoubleBE(value, this.pos + 1);
    this.pos += 9;
  }

  writeString(value: string): void {
    const length = Buffer.byteLength(value, 'utf8');
    if (length < 32) {
      this.ensure(1 + length);
      this.buffer[this.pos++] = 0xa0 | length;
    } else if (length < 0x100) {
      this.ensure(2 + length);
      this.buffer[this.pos++] = 0xd9;
      this.buffer[this.pos++] = length;
    } else if (length < 0x1_0000) {
      this.ensure(3 + length);
      this.buffer[this.pos++] = 0xda;
      this.buffer.writeUInt16BE(length, this.pos);
      this.pos += 2;
    } else {
      this.ensure(5 + length);
      this.buffer[this.pos++] = 0xdb;
      this.buffer.writeUInt32BE(length, this.pos);
      this.pos += 4;
    }
    this.pos += this.buffer.write(value, this.pos, length, 'utf8');
  }

  writeBinary(value: Uint8Array): void {
    const length = value.length;
    if (length < 0x100) {
      this.ensure(2 + length);
      this.buffer[this.pos++] = 0xc4;
      this.buffer[this.pos++] = length;
    } else if (length < 0x1_0000) {
      this.ensure(3 + length);
      this.buffer[this.pos++] = 0xc5;
      this.buffer.writeUInt16BE(length, this.pos);
      this.pos += 2;
    } else {
      this.ensure(5 + length);
      this.buffer[this.pos++] = 0xc6;
      this.buffer.writeUInt32BE(length, this.pos);
      this.pos += 4;
    }
    this.buffer.set(value, this.pos);
    this.pos += length;
  }

  writeArrayHeader(count: number): void {
    this.writeContainerHeader(count, 0x90, 0xdc, 0xdd);
  }

  writeMapHeader(count: number): void {
    this.writeContainerHeader(count, 0x80, 0xde, 0xdf);
  }

  /**
   * Any plain value: null/undefined → nil, boolean, number (integers as integers, others float64),
   * bigint, string, Uint8Array → bin, {@link Float64} → float64, arrays, Map, and plain objects (own
   * enumerable keys in order) as maps. The inverse of MsgpackReader.readValue, so opaque fields (extra_keys) survive a round
   * trip byte-for-byte unless a float64 held an integral value (it comes back as an integer).
   */
  writeValue(value: unknown): void {
    if (value === null || value === undefined) this.writeNil();
    else if (typeof value === 'boolean') this.writeBoolean(value);
    else if (typeof value === 'number') {
      if (Number.isInteger(value)) this.writeInteger(value);
      else this.writeFloat64(value);
    } else if (typeof value === 'bigint') this.writeInteger(value);
    else if (typeof value === 'string') this.writeString(value);
    else if (value instanceof Uint8Array) this.writeBinary(value);
    else if (value instanceof Float64) this.writeFloat64(value.value);
    else if (Array.isArray(value)) {
      this.writeArrayHeader(value.length);
      for (const element of value as unknown[]) this.writeValue(element);
    } else if (value instanceof Map) {
      this.writeMapHeader(value.size);
      for (const [key, element] of value as Map<unknown, unknown>) {
        this.writeValue(key);
        this.writeValue(element);
      }
    } else if (typeof value === 'object') {
      const keys = Object.keys(value);
      this.writeMapHeader(keys.length);
      for (const key of keys) {
        this.writeString(key);
        this.writeValue((value as Record<string, unknown>)[key]);
      }
    } else {
      throw new TypeError(`cannot write a ${typeof value} as MessagePack`);
    }
  }

  private writeSafeInteger(value: number): void {
    this.ensure(9);
    const buffer = this.buffer;
    if (value >= 0) {
      if (value < 0x80) buffer[this.pos++] = value;
      else if (value < 0x100) {
        buffer[this.pos++] = 0xcc;
        buffer[this.pos++] = value;
      } else if (value < 0x1_0000) {
        // Plain byte stores: token ids take this path thousands of times per batch, and
        // Buffer#writeUInt16BE/32BE validate their arguments on every call.
        buffer[this.pos] = 0xcd;
        buffer[this.pos + 1] = value >>> 8;
        buffer[this.pos + 2] = value & 0xff;
        this.pos += 3;
      } else if (value < 0x1_0000_0000) {
        buffer[this.pos] = 0xce;
        buffer[this.pos + 1] = value >>> 24;
        buffer[this.pos + 2] = (value >>> 16) & 0xff;
        buffer[this.pos + 3] = (value >>> 8) & 0xff;
        buffer[this.pos + 4] = value & 0xff;
        this.pos += 5;
      } else {
        buffer[this.pos++] = 0xcf;
        buffer.writeBigUInt64BE(BigInt(value), this.pos);
        this.pos += 8;
      }
    } else if (value >= -0x20) {
      buffer[this.pos++] = value & 0xff;
    } else if (value >= -0x80) {
      buffer[this.pos++] = 0xd0;
      buffer.writeInt8(value, this.pos);
      this.pos += 1;
    } else if (value >= -0x8000) {
      buffer[this.pos++] = 0xd1;
      buffer.writeInt16BE(value, this.pos);
      this.pos += 2;
    } else if (value >= -0x8000_0000) {
      buffer[this.pos++] = 0xd2;
      buffer.writeInt32BE(value, this.pos);
      this.pos += 4;
    } else {
      buffer[this.pos++] = 0xd3;
      buffer.writeBigInt64BE(BigInt(value), this.pos);
      this.pos += 8;
    }
  }

  private writeBigInteger(value: bigint): void {
    if (value >= -0x8000_0000n && value < 0x1_0000_0000n) {
      this.writeSafeInteger(Number(value));
      return;
    }
    this.ensure(9);
    if (value >= 0n) {
      if (value > 0xffff_ffff_ffff_ffffn) throw new RangeError(`integer ${value} does not fit in uint64`);
      this.buffer[this.pos++] = 0xcf;
      this.buffer.writeBigUInt64BE(value, this.pos);
    } else {
      if (value < -0x8000_0000_0000_0000n) throw new RangeError(`integer ${value} does not fit in int64`);
      this.buffer[this.pos++] = 0xd3;
      this.buffer.writeBigInt64BE(value, this.pos);
    }
    this.pos += 8;
  }

  private writeContainerHeader(count: number, fixBase: number, format16: number, format32: number): void {
    this.ensure(5);
    if (count < 16) this.buffer[this.pos++] = fixBase | count;
    else if (count < 0x1_0000) {
      this.buffer[this.pos++] = format16;
      this.buffer.writeUInt16BE(count, this.pos);
      this.pos += 2;
    } else {
      this.buffer[this.pos++] = format32;
      this.buffer.writeUInt32BE(count, this.pos);
      this.pos += 4;
    }
  }

  private ensure(extra: number): void {
    const needed = this.pos + extra;
    if (needed <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(needed, this.buffer.length * 2));
    this.buffer.copy(grown, 0, 0, this.pos);
    this.buffer = grown;
  }
}
