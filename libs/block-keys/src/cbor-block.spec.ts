import { encodeBlock, hashBlock } from './block-keyer';
import { randomInt, randomText, randomTokens, randomUint64, referenceEncodeBlock, referenceFnv1a64, seededRandom, thrownCode } from './testing';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('encodeBlock (hand-written canonical CBOR)', () => {
  it('writes the spec bytes for the root payload and the first block of vector A', () => {
    // upstream-spec §3.4, re-verified with Python cbor2 canonical.
    expect(hex(encodeBlock(0xcbf29ce484222325n, null, 'test-model'))).toBe('831bcbf29ce484222325f66a746573742d6d6f64656c');
    const tokens = Array.from({ length: 16 }, (_, i) => i + 1);
    expect(hex(encodeBlock(0xf31309635ef2add0n, tokens, null))).toBe('831bf31309635ef2add0900102030405060708090a0b0c0d0e0f10f6');
  });

  it('writes every integer width class like cbor2 (ecosystem note §9 vector)', () => {
    expect(hex(encodeBlock(0xffffffffffffffffn, [1, 255, 256, 65536, 151643], null))).toBe(
      '831bffffffffffffffff850118ff1901001a000100001a0002505bf6',
    );
  });

  it('writes MMHash extras as an array of {"Hash": id} maps', () => {
    expect(hex(encodeBlock(5n, [], [{ Hash: 'img' }, { Hash: 'salt' }]))).toBe('83058082a1644861736863696d67a164486173686473616c74');
  });

  it('writes an empty MMHash list as an empty array (the keyer, not the encoder, maps it to null)', () => {
    expect(hex(encodeBlock(1n, [7], []))).toBe('8301810780');
  });

  const parents = [0n, 1n, 23n, 24n, 255n, 256n, 65535n, 65536n, 0xffffffffn, 0x100000000n, (1n << 63n) - 1n, 1n << 63n, (1n << 64n) - 1n];
  it.each(parents.map((p) => [p]))('encodes parent %s in shortest form like cborg', (parent) => {
    expect(hex(encodeBlock(parent, [0], null))).toBe(hex(referenceEncodeBlock(parent, [0], null)));
  });

  it.each([[0], [1], [23], [24], [255], [256], [65535], [65536], [70000]])('encodes a %i-token array head like cborg', (n) => {
    const tokens = new Array<number>(n).fill(3);
    expect(hex(encodeBlock(9n, tokens, null))).toBe(hex(referenceEncodeBlock(9n, tokens, null)));
  });

  it('matches cborg byte for byte on random payloads', () => {
    const rand = seededRandom(20260612);
    for (let n = 0; n < 500; n++) {
      const parent = randomUint64(rand);
      const tokens = rand() < 0.05 ? null : randomTokens(rand, randomInt(rand, 130));
      const kind = randomInt(rand, 3);
      const extra =
        kind === 0 ? null : kind === 1 ? randomText(rand) : Array.from({ length: 1 + randomInt(rand, 3) }, () => ({ Hash: randomText(rand) }));
      const ours = encodeBlock(parent, tokens, extra);
      const theirs = referenceEncodeBlock(parent, tokens, extra);
      expect(hex(ours)).toBe(hex(theirs));
      expect(hashBlock(parent, tokens, extra)).toBe(referenceFnv1a64(theirs));
    }
  });

  it('accepts typed arrays of token ids', () => {
    const ids = Uint32Array.of(0, 24, 256, 65536, 0xffffffff);
    expect(hex(encodeBlock(42n, ids, null))).toBe(hex(referenceEncodeBlock(42n, Array.from(ids), null)));
  });

  it('returns a fresh copy (the encoder buffer is reused)', () => {
    const first = encodeBlock(1n, [1], null);
    encodeBlock(2n, [2, 3, 4], null);
    expect(hex(first)).toBe('83018101f6');
  });

  it.each([
    ['a parent ≥ 2^64', () => encodeBlock(1n << 64n, [1], null), 'INVALID_UINT64'],
    ['a negative parent', () => encodeBlock(-1n, [1], null), 'INVALID_UINT64'],
    ['a negative token', () => encodeBlock(1n, [-1], null), 'INVALID_TOKEN'],
    ['a token ≥ 2^32', () => encodeBlock(1n, [2 ** 32], null), 'INVALID_TOKEN'],
    ['an extra entry without Hash', () => encodeBlock(1n, [1], [{} as { Hash: string }]), 'INVALID_EXTRA'],
    ['an extra that is a number', () => encodeBlock(1n, [1], 5 as unknown as null), 'INVALID_EXTRA'],
  ])('rejects %s', (_label, fn, code) => {
    expect(thrownCode(fn)).toBe(code);
  });
});
