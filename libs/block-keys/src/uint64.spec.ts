import { thrownCode as code } from './testing';
import { isUint64, parseUint64, toUint64Decimal, toUint64Hex, UINT64_MAX } from './uint64';

describe('uint64 helpers', () => {
  it('formats keys as canonical decimal and fixed-width hex', () => {
    expect(toUint64Decimal(0n)).toBe('0');
    expect(toUint64Decimal(UINT64_MAX)).toBe('18446744073709551615');
    expect(toUint64Decimal(9540012594951042066n)).toBe('9540012594951042066');
    expect(toUint64Hex(0x951e7a4e202ae46n)).toBe('0951e7a4e202ae46');
    expect(toUint64Hex(UINT64_MAX)).toBe('ffffffffffffffff');
  });

  it('refuses to format values outside [0, 2^64)', () => {
    expect(code(() => toUint64Decimal(-1n))).toBe('INVALID_UINT64');
    expect(code(() => toUint64Decimal(1n << 64n))).toBe('INVALID_UINT64');
    expect(code(() => toUint64Hex(1n << 64n))).toBe('INVALID_UINT64');
  });

  it('round-trips decimal strings, bigints and safe numbers', () => {
    for (const v of [0n, 1n, 0xffffffffn, 1n << 63n, UINT64_MAX]) expect(parseUint64(toUint64Decimal(v))).toBe(v);
    expect(parseUint64(12345)).toBe(12345n);
    expect(parseUint64(UINT64_MAX)).toBe(UINT64_MAX);
  });

  it.each([
    ['-1'],
    ['18446744073709551616'],
    ['007'],
    ['1e3'],
    [' 1'],
    ['0x10'],
    [''],
    ['123456789012345678901'],
  ])('rejects the string %j', (s) => {
    expect(code(() => parseUint64(s))).toBe('INVALID_UINT64');
  });

  it('rejects numbers that are negative, fractional or already rounded', () => {
    expect(code(() => parseUint64(-1))).toBe('INVALID_UINT64');
    expect(code(() => parseUint64(1.5))).toBe('INVALID_UINT64');
    expect(code(() => parseUint64(2 ** 64))).toBe('INVALID_UINT64');
    expect(code(() => parseUint64(Number.NaN))).toBe('INVALID_UINT64');
    expect(code(() => parseUint64(-1n))).toBe('INVALID_UINT64');
  });

  it('isUint64 marks the range edges', () => {
    expect([isUint64(-1n), isUint64(0n), isUint64(UINT64_MAX), isUint64(UINT64_MAX + 1n)]).toEqual([false, true, true, false]);
  });
});
