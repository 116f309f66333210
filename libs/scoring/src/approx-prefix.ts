/**
 * The approximate prefix scorer (GAIE's approach): no KV events — the router remembers which pod
 * it sent each request's blocks to, and scores a new request by the run of its leading blocks it
 * sent to each pod before. Cheap and event-free, but blind to evictions and to anything another
 * router replica or a restart changed: the benchmark's `approx` mode measures what that costs.
 */
export class ApproxPrefixIndex {
  /** Block key → pods it was routed to, in insertion order (the Map's order is the LRU order). */
  private readonly blocks = new Map<bigint, Set<string>>();

  /** @param capacity most block keys remembered; the least recently routed are forgotten first */
  constructor(private readonly capacity = 500_000) {}

  get size(): number {
    return this.blocks.size;
  }

  /** Leading blocks of `keys` routed to each candidate before (0 for the others). */
  match(keys: readonly bigint[], candidates: readonly string[]): Map<string, number> {
    const matched = new Map<string, number>(candidates.map((pod) => [pod, 0]));
    let active = new Set(candidates);
    for (const key of keys) {
      const pods = this.blocks.get(key);
      if (!pods) break;
      const still = new Set<string>();
      for (const pod of active) {
        if (!pods.has(pod)) continue;
        still.add(pod);
        matched.set(pod, (matched.get(pod) as number) + 1);
      }
      if (still.size === 0) break;
      active = still;
    }
    return matched;
  }

  /** The request with these block keys went to `pod`. */
  record(keys: readonly bigint[], pod: string): void {
    for (const key of keys) {
      const pods = this.blocks.get(key) ?? new Set<string>();
      this.blocks.delete(key); // re-insert: most recently used last
      pods.add(pod);
      this.blocks.set(key, pods);
    }
    while (this.blocks.size > this.capacity) {
      const oldest = this.blocks.keys().next().value as bigint;
      this.blocks.delete(oldest);
    }
  }
}
