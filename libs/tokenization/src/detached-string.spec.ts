import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { detachedString } from './detached-string';
import { WeightedLru } from './lru';

// A full collection on demand, without starting jest with --expose-gc.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * Heap bytes that the first 300 characters of each of 500 distinct 40 KB strings keep in use: the
 * heap with the pieces held, minus the heap once they are dropped (both after full collections,
 * so what other tests left behind cancels out).
 */
function retainedBytes(keep: (piece: string) => string): number {
  return heldBy((parents) => parents.map((parent) => keep(parent.slice(0, 300))));
}

/** Heap bytes that what `hold` builds from 500 distinct 40 KB strings (distinct in their first 300 characters) keeps in use. */
function heldBy(hold: (parents: string[]) => unknown): number {
  const parents = Array.from({ length: 500 }, (_, i) => `${i} ${'x'.repeat(40_000)}`.split('').join(''));
  let kept: unknown = hold(parents);
  parents.length = 0;
  gc();
  gc();
  const held = process.memoryUsage().heapUsed;
  // Not through expect(): it would keep a reference.
  if (kept === undefined) throw new Error('nothing held');
  kept = undefined;
  gc();
  gc();
  return held - process.memoryUsage().heapUsed;
}

describe('detachedString', () => {
  it('has the same characters', () => {
    const parent = 'prefix ' + 'ünïcödé 東京 '.repeat(10) + ' suffix';
    for (const [start, end] of [[0, 5], [3, 40], [7, parent.length]] as const) expect(detachedString(parent.slice(start, end))).toBe(parent.slice(start, end));
  });

  it('keeps no parent string alive, where a plain slice keeps all of them (20 MB)', () => {
    expect(retainedBytes((piece) => piece)).toBeGreaterThan(10_000_000);
    expect(retainedBytes(detachedString)).toBeLessThan(2_000_000);
  });
});

describe('WeightedLru hits', () => {
  // The chunk cache is looked up with slices of each prompt; a hit must not re-key the entry by
  // that slice, or every recent prompt stays reachable from the cache.
  const lookedUpWithSlices = (reKey: boolean) => (parents: string[]): WeightedLru<string, number> => {
    const lru = new WeightedLru<string, number>(10_000);
    parents.forEach((parent, i) => lru.set(detachedString(parent.slice(0, 300)), i, 1));
    for (const parent of parents) {
      const piece = parent.slice(0, 300);
      const value = lru.get(piece);
      // What the cache did before: delete and set under the key it was asked with.
      if (reKey && value !== undefined) lru.set(piece, value, 1);
    }
    return lru;
  };

  it('keep the key the entry was stored with, not the slice it was looked up with', () => {
    expect(heldBy(lookedUpWithSlices(true))).toBeGreaterThan(10_000_000);
    expect(heldBy(lookedUpWithSlices(false))).toBeLessThan(2_000_000);
  });
});
