import { FNV1A64_OFFSET_BASIS, FNV1A64_PRIME, fnv1a64 } from './fnv1a64';
import { randomInt, referenceFnv1a64, seededRandom } from './testing';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('fnv1a64', () => {
  // Published FNV-1a 64-bit vectors (same values from Python and Go hash/fnv).
  it.each([
    ['', 'cbf29ce484222325'],
    ['a', 'af63dc4c8601ec8c'],
    ['b', 'af63df4c8601f1a5'],
    ['c', 'af63de4c8601eff2'],
    ['foo', 'dcb27518fed9d577'],
    ['foob', 'dd120e790c2512af'],
    ['fooba', 'cac165afa2fef40a'],
    ['foobar', '85944171f73967e8'],
    ['42', '07ee7e07b4b19223'],
  ])('FNV-1a-64(%j) = %s', (input, hex) => {
    expect(fnv1a64(ascii(input))).toBe(BigInt(`0x${hex}`));
  });

  it('hashes high bytes (0xff) without sign errors', () => {
    expect(fnv1a64(Uint8Array.of(0xff, 0xff, 0xff))).toBe(0xf998341be47bae14n);
  });

  it('exports the standard offset basis and prime', () => {
    expect(FNV1A64_OFFSET_BASIS).toBe(14695981039346656037n);
    expect(FNV1A64_PRIME).toBe(1099511628211n);
  });

  it('matches a BigInt FNV over random byte strings (carry paths)', () => {
    const rand = seededRandom(7);
    for (let n = 0; n < 300; n++) {
      const bytes = new Uint8Array(randomInt(rand, 200));
      for (let i = 0; i < bytes.length; i++) bytes[i] = randomInt(rand, 256);
      expect(fnv1a64(bytes)).toBe(referenceFnv1a64(bytes));
    }
  });

  it('returns values above 2^63 as positive bigints', () => {
    // "a" hashes to 0xaf63…, whose top bit is set.
    const h = fnv1a64(ascii('a'));
    expect(h > 1n << 63n).toBe(true);
    expect(h < 1n << 64n).toBe(true);
  });
});
