import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { detachedString } from './detached-string';

// A full collection on demand, without starting jest with --expose-gc.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * Heap bytes that one 300-character piece of each of 500 distinct 40 KB strings keeps in use: the
 * heap with the pieces held, minus the heap once they are dropped (both after full collections,
 * so what other tests left behind cancels out).
 */
function retainedBytes(keep: (piece: string) => string): number {
  let kept: string[] = [];
  for (let i = 0; i < 500; i++) {
    const parent = `${'x'.repeat(40_000)}${i}`.split('').join('');
    kept.push(keep(parent.slice(100, 400)));
  }
  gc();
  gc();
  const held = process.memoryUsage().heapUsed;
  // Not through expect(): it would keep a reference to the array.
  if (kept.length !== 500) throw new Error('pieces lost');
  kept = [];
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
