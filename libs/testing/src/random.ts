import { seededRandom as mulberry32 } from '@kvr/loadgen';
/**
 * A seeded pseudo-random generator for property-style tests: the same seed gives the same
 * sequence on every run and machine, so a failing random case can be replayed. mulberry32:
 * 32-bit state, fast, statistically fine for test inputs (not for anything secret).
 */
export interface Prng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [0, maxExclusive); maxExclusive ≤ 2^32. */
  int(maxExclusive: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** Uniform over the whole uint64 range. */
  uint64(): bigint;
  bytes(length: number): Uint8Array;
}

export function createPrng(seed: number): Prng {
  // The generator itself is the benchmark's (one mulberry32 in the repo).
  const next = mulberry32(seed).next;
  const int = (maxExclusive: number): number => Math.floor(next() * maxExclusive);
  const uint32 = (): bigint => BigInt(Math.floor(next() * 0x1_0000_0000));
  return {
    next,
    int,
    chance: (p) => next() < p,
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new RangeError('pick from an empty list');
      return items[int(items.length)]!;
    },
    uint64: () => (uint32() << 32n) | uint32(),
    bytes: (length) => Uint8Array.from({ length }, () => int(256)),
  };
}

/** Just the `[0, 1)` stream of `createPrng(seed)`, for code that takes a `() => number`. */
export function seededRandom(seed: number): () => number {
  return createPrng(seed).next;
}
