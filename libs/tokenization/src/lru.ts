/**
 * A least-recently-used map bounded by a weight budget (here: tokens), built on `Map`'s insertion
 * order: a hit moves the entry to the end, eviction removes from the front. O(1) per operation.
 *
 * A hit re-inserts the entry under the key it was stored with, never under the key it was looked
 * up with: callers look up with slices of a prompt (V8 sliced strings that keep the whole prompt
 * alive), and re-keying by the lookup key kept every recent prompt reachable from the cache until
 * its chunks were touched again (measured: each 7k-token prompt survived two young-generation
 * collections, 14 MB copied per collection and 30–45 ms pauses at 50 req/s).
 */
export class WeightedLru<K, V> {
  private readonly entries = new Map<K, { key: K; value: V; weight: number }>();
  private totalWeight = 0;
  hits = 0;
  misses = 0;
  evictions = 0;

  /** @param maxWeight entries are evicted (oldest first) while the total weight exceeds it */
  constructor(readonly maxWeight: number) {
    if (!(maxWeight > 0)) throw new RangeError('maxWeight must be > 0');
  }

  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.delete(key);
    this.entries.set(entry.key, entry);
    return entry.value;
  }

  /** Stores `value`; an entry heavier than the whole budget is not stored. */
  set(key: K, value: V, weight: number): void {
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.totalWeight -= old.weight;
    }
    if (weight > this.maxWeight) return;
    this.entries.set(key, { key, value, weight });
    this.totalWeight += weight;
    while (this.totalWeight > this.maxWeight) {
      const first = this.entries.keys().next();
      if (first.done) break;
      const evicted = this.entries.get(first.value)!;
      this.entries.delete(first.value);
      this.totalWeight -= evicted.weight;
      this.evictions++;
    }
  }

  clear(): void {
    this.entries.clear();
    this.totalWeight = 0;
  }

  get size(): number {
    return this.entries.size;
  }

  get weight(): number {
    return this.totalWeight;
  }
}
