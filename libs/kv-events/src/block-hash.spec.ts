import { blockHashFromBytes, blockHashFromInt, signedBlockHash, UINT64_MAX } from './index';

describe('block hash conversion', () => {
  it('takes the last 8 bytes of a digest, big-endian (vLLM: int.from_bytes(d, "big") & (2**64-1))', () => {
    const sha256 = Buffer.from('00112233445566778899aabbccddeeff0123456789abcdeffedcba9876543210', 'hex');
    expect(blockHashFromBytes(sha256)).toBe(0xfedcba9876543210n);
    const xxh128 = Buffer.from('ffffffffffffffff8000000000000005', 'hex');
    expect(blockHashFromBytes(xxh128)).toBe(2n ** 63n + 5n);
    expect(blockHashFromBytes(new Uint8Array(8).fill(0xff))).toBe(UINT64_MAX);
  });

  it('left-pads digests shorter than 8 bytes', () => {
    expect(blockHashFromBytes(Uint8Array.of(1, 2, 3))).toBe(0x010203n);
    expect(blockHashFromBytes(new Uint8Array(0))).toBe(0n);
  });

  it('reads a view at an offset inside a larger buffer', () => {
    const buffer = Buffer.from('aa0000000000000001bb', 'hex');
    expect(blockHashFromBytes(buffer.subarray(1, 9))).toBe(1n);
  });

  it('maps negative ints to uint64 two’s complement and keeps non-negative ones', () => {
    expect(blockHashFromInt(-1)).toBe(UINT64_MAX);
    expect(blockHashFromInt(-(2n ** 63n))).toBe(2n ** 63n);
    expect(blockHashFromInt(-123_456_789)).toBe(2n ** 64n - 123_456_789n);
    expect(blockHashFromInt(42)).toBe(42n);
    expect(blockHashFromInt(UINT64_MAX)).toBe(UINT64_MAX);
  });

  it('refuses non-integers and values outside int64 ∪ uint64', () => {
    expect(() => blockHashFromInt(1.5)).toThrow(RangeError);
    expect(() => blockHashFromInt(2 ** 60)).toThrow(/safe integer/);
    expect(() => blockHashFromInt(2n ** 64n)).toThrow(RangeError);
    expect(() => blockHashFromInt(-(2n ** 63n) - 1n)).toThrow(RangeError);
  });

  it('signedBlockHash is the inverse of the negative-int rule', () => {
    for (const signed of [-1n, -(2n ** 63n), -5n, 0n, 7n, 2n ** 63n - 1n]) expect(signedBlockHash(blockHashFromInt(signed))).toBe(signed);
  });
});
