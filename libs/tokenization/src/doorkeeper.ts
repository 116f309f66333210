import { fnv1aUtf16 } from './chunking';

/**
 * Admission filter of the chunk cache: a chunk is cached the second time it is seen, not the
 * first. Prompts of a fleet are a few long shared prefixes (system prompts, documents, earlier
 * turns) followed by text seen once (the question). Caching every chunk on first sight filled the
 * cache with questions that never recur, and each of their entries outlived two young-generation
 * collections, so V8 copied and promoted it: in the gateway with in-process tokenization at
 * 50 req/s, about 11 new entries (≈ 18 KB) per request, the largest share of the bytes promoted.
 *
 * It remembers 30-bit hashes of chunk texts (never the texts: holding them is what it avoids) in
 * two generations of at most `capacity` hashes each; when the young one fills, it becomes the old
 * one and the previous old one is dropped, so a chunk is remembered for between one and two
 * generations of distinct first sightings. A hash collision only admits a chunk one sighting early,
 * which changes what is cached, never what an encode returns.
 */
export class Doorkeeper {
  private young = new Set<number>();
  private old = new Set<number>();

  /** @param capacity hashes per generation (memory: about 16 bytes each, for two generations) */
  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError('capacity must be ≥ 1');
  }

  /** True when `text` was offered before (admit it); otherwise remembers it and returns false. */
  offer(text: string): boolean {
    const hash = textHash(text);
    if (this.young.has(hash) || this.old.has(hash)) return true;
    if (this.young.size >= this.capacity) {
      this.old = this.young;
      this.young = new Set();
    }
    this.young.add(hash);
    return false;
  }

  clear(): void {
    this.young.clear();
    this.old.clear();
  }

  /** Hashes remembered (both generations). */
  get size(): number {
    return this.young.size + this.old.size;
  }
}

/**
 * FNV-1a over UTF-16 code units (the chunk planner's hash), folded to 30 bits so that the value is
 * a V8 small integer (a Set of them stores no heap number per entry). One pass, no allocation.
 */
export function textHash(text: string): number {
  const h = fnv1aUtf16(text, 0, text.length);
  return (h ^ (h >>> 30)) & 0x3fffffff;
}
