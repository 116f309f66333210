// The internal MessagePack reader and writer, checked against two independent implementations:
// Python msgpack (the stand-in for vLLM's msgspec: same format choices) for the writer's bytes,
// and msgpackr for the reader's values.
import { spawnSync } from 'node:child_process';
import { Packr, Unpackr } from 'msgpackr';
import { createPrng, Float64, type Prng } from './testing';
import { MsgpackReader } from './msgpack-reader';
import { MsgpackWriter } from './msgpack-writer';

function write(value: unknown): Buffer {
  const writer = new MsgpackWriter(1); // tiny initial capacity: exercises growth
  writer.writeValue(value);
  return writer.toBuffer();
}

function read(bytes: Uint8Array): unknown {
  const reader = new MsgpackReader(bytes);
  const value = reader.readValue();
  reader.expectEnd();
  return value;
}

/** Maps both libraries' representations to one: safe bigints → number, Buffer → Uint8Array, objects → plain. */
function normalise(value: unknown): unknown {
  if (typeof value === 'bigint') return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  if (value instanceof Uint8Array) return `bytes:${Buffer.from(value).toString('hex')}`;
  if (value instanceof Float64) return value.value;
  if (Array.isArray(value)) return value.map(normalise);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalise(v)]));
  return value;
}

function randomValue(prng: Prng, depth: number): unknown {
  switch (prng.int(depth > 3 ? 8 : 10)) {
    case 0:
      return null;
    case 1:
      return prng.chance(0.5);
    case 2:
      return prng.pick([0, 127, 128, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, -1, -32, -33, -128, -129, -32_768, -32_769, -(2 ** 31), -(2 ** 31) - 1, -(2 ** 53) + 1]);
    case 3:
      return prng.pick([2n ** 64n - 1n, 2n ** 63n, 2n ** 53n, -(2n ** 63n), -(2n ** 53n) - 1n, prng.uint64()]);
    case 4:
      return new Float64(prng.pick([0.5, -1.25, 1e300, 3, 1_700_000_000.5]));
    case 5:
      return prng.pick(['', 'a', 'x'.repeat(31), 'x'.repeat(32), 'x'.repeat(255), 'x'.repeat(256), 'ü'.repeat(20), '日本語']);
    case 6:
      return prng.bytes(prng.pick([0, 1, 32, 255, 256]));
    case 7:
      return prng.int(1000);
    case 8:
      // Header-width boundaries at the top only, so nesting stays small.
      return Array.from({ length: prng.pick(depth === 0 ? [0, 1, 15, 16, 17] : [0, 1, 2]) }, () => randomValue(prng, depth + 1));
    default: {
      const map: Record<string, unknown> = {};
      for (let i = prng.pick(depth === 0 ? [0, 1, 15, 16] : [0, 1, 2]); i > 0; i--) map[`k${i}`] = randomValue(prng, depth + 1);
      return map;
    }
  }
}

describe('MsgpackWriter', () => {
  it('chooses the same formats as Python msgpack (msgspec) for every width boundary', () => {
    const values: [string, unknown][] = [];
    const ints = [0n, 127n, 128n, 255n, 256n, 65_535n, 65_536n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n];
    for (const i of ints) values.push([`int:${i}`, i]);
    for (const i of [-1n, -32n, -33n, -128n, -129n, -32_768n, -32_769n, -(2n ** 31n), -(2n ** 31n) - 1n, -(2n ** 63n)]) values.push([`int:${i}`, i]);
    for (const n of [0, 31, 32, 255, 256, 65_535, 65_536]) values.push([`str:${n}`, 'é'.repeat(n / 2) + 'x'.repeat(n % 2)]);
    for (const n of [0, 255, 256, 65_536]) values.push([`bin:${n}`, new Uint8Array(n).fill(7)]);
    for (const n of [0, 15, 16, 65_536]) values.push([`arr:${n}`, new Array<number>(n).fill(1)]);
    for (const n of [15, 16]) values.push([`map:${n}`, Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]))]);
    values.push(['float:1700000000.5', new Float64(1_700_000_000.5)], ['float:2.0', new Float64(2)], ['nil', null], ['true', true], ['false', false]);

    // Python rebuilds each value from its description and packs it like msgspec would.
    const script = `
import sys, msgpack
for line in sys.stdin.read().split("\\n"):
    if not line: continue
    kind, _, arg = line.partition(":")
    if kind == "int": v = int(arg)
    elif kind == "str": n = int(arg); v = "\\u00e9" * (n // 2) + "x" * (n % 2)
    elif kind == "bin": v = b"\\x07" * int(arg)
    elif kind == "arr": v = [1] * int(arg)
    elif kind == "map": v = {"k%d" % i: i for i in range(int(arg))}
    elif kind == "float": v = float(arg)
    else: v = {"nil": None, "true": True, "false": False}[kind]
    print(msgpack.packb(v, use_bin_type=True).hex())
`;
    const run = spawnSync('/usr/bin/python3', ['-c', script], { input: values.map(([d]) => d).join('\n'), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (run.status !== 0) throw new Error(`/usr/bin/python3 failed (apt-get install python3-msgpack?): ${run.stderr}`);
    const pythonHex = run.stdout.trim().split('\n');
    expect(pythonHex).toHaveLength(values.length);
    values.forEach(([description, value], i) => {
      expect([description, write(value).toString('hex')]).toEqual([description, pythonHex[i]]);
    });
  });

  it('refuses values msgpack cannot carry', () => {
    expect(() => write(2n ** 64n)).toThrow(RangeError);
    expect(() => write(-(2n ** 63n) - 1n)).toThrow(RangeError);
    expect(() => write(Symbol('x'))).toThrow(TypeError);
    expect(() => new MsgpackWriter().writeInteger(1.5)).toThrow(RangeError);
  });
});

describe('MsgpackReader', () => {
  it('reads what our writer wrote, and what msgpackr reads from it', () => {
    const prng = createPrng(11);
    const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
    for (let i = 0; i < 2000; i++) {
      const value = randomValue(prng, 0);
      const bytes = write(value);
      const ours = read(bytes);
      expect(normalise(ours)).toEqual(normalise(value));
      expect(normalise(ours)).toEqual(normalise(unpackr.unpack(bytes)));
    }
  });

  it('reads msgpackr’s encodings (other format choices, e.g. 64-bit ints written as int64)', () => {
    const prng = createPrng(12);
    const packr = new Packr({ useRecords: false });
    const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
    for (let i = 0; i < 2000; i++) {
      const value = randomValue(prng, 0);
      const plain = JSON.parse(JSON.stringify(normalise(value), (_k, v: unknown) => (typeof v === 'bigint' ? `${v}` : v))) as unknown;
      const withBigints = prng.chance(0.5) ? plain : [plain, prng.uint64(), -(2n ** 60n)];
      const bytes = packr.pack(withBigints);
      expect(normalise(read(bytes))).toEqual(normalise(unpackr.unpack(bytes)));
    }
  });

  it('skips exactly one value of any kind', () => {
    const prng = createPrng(13);
    for (let i = 0; i < 500; i++) {
      const bytes = Buffer.concat([write(randomValue(prng, 0)), write('after')]);
      const reader = new MsgpackReader(bytes);
      reader.skipValue();
      expect(reader.tryReadString()).toBe('after');
      expect(reader.atEnd).toBe(true);
    }
  });
});
