/**
 * The in-memory backend: the reference implementation of the contract in api.ts, used by tests,
 * by the demo without Redis, and as the model the Redis backend is checked against. Single
 * process, not shared between replicas.
 */
import type { BlockKeyer } from '@kvr/block-keys';
import { DEFAULT_TIER_WEIGHTS, type AdminOutcome, type ApplyResult, type BlockIndex, type DeviceTier, type IndexEntry, type IndexStats, type LookupResult, type PodMatch, type PodMessage, type PodPosition, type PodState } from './api';
import { decidePosition, planBatch, type IndexOp } from './planner';

interface EngineBlock {
  readonly requestKeys: readonly bigint[];
  copies: number;
}

/** pod → tier → live block count for one request key. */
type Holders = Map<string, Map<DeviceTier, number>>;

/** Speculative inserts between two sweeps of expired entries. */
const SPECULATIVE_PRUNE_EVERY = 1024;

export interface MemoryIndexOptions {
  readonly keyer: BlockKeyer;
  readonly tierWeights?: Readonly<Record<string, number>>;
  /** Milliseconds clock for speculative expiry. @default Date.now */
  readonly now?: () => number;
}

export class MemoryBlockIndex implements BlockIndex {
  private readonly holders = new Map<bigint, Holders>();
  /** pod → `${tier}|${engineKey}` → block. */
  private readonly engine = new Map<string, Map<string, EngineBlock>>();
  private readonly positions = new Map<string, PodPosition>();
  /** pod → model of its last batch. */
  private readonly models = new Map<string, string>();
  /** request key → pod → expiry (ms). */
  private readonly speculative = new Map<bigint, Map<string, number>>();
  private insertsSincePrune = 0;
  /** Highest fence seen: writes with a lower one are refused. */
  private fence = 0;
  private readonly keyer: BlockKeyer;
  private readonly weights: Readonly<Record<string, number>>;
  private readonly now: () => number;

  constructor(options: MemoryIndexOptions) {
    this.keyer = options.keyer;
    this.weights = options.tierWeights ?? DEFAULT_TIER_WEIGHTS;
    this.now = options.now ?? Date.now;
  }

  async apply(message: PodMessage, options: { fence?: number; acceptGap?: boolean } = {}): Promise<ApplyResult> {
    const base = { admitted: 0, evicted: 0, unknownParents: 0, blockSizeMismatches: 0, unknownEvictions: 0 };
    if (!this.admit(options.fence)) return { outcome: 'fenced', position: this.positions.get(message.pod) ?? null, ...base };
    const decision = decidePosition(this.positions.get(message.pod) ?? null, message, options.acceptGap);
    if (decision.kind !== 'apply') return { outcome: decision.kind, position: this.positions.get(message.pod) ?? null, ...base };
    const result = { ...base };
    if (decision.clearFirst) result.evicted += this.clearPod(message.pod);
    if (message.kind === 'batch') {
      const podEngine = this.engine.get(message.pod);
      const { ops, counts } = planBatch(message.batch.events, message.model, this.keyer, (tier, key) => podEngine?.get(`${tier}|${key}`)?.requestKeys);
      result.unknownParents = counts.unknownParents;
      result.blockSizeMismatches = counts.blockSizeMismatches;
      for (const op of ops) this.applyOp(message.pod, op, result);
    }
    if (message.kind === 'removed') {
      this.positions.delete(message.pod);
      this.models.delete(message.pod);
    } else this.positions.set(message.pod, decision.next);
    if (message.kind === 'batch') this.models.set(message.pod, message.model);
    return { outcome: 'applied', position: this.positions.get(message.pod) ?? null, ...result };
  }

  private applyOp(pod: string, op: IndexOp, result: { admitted: number; evicted: number; unknownEvictions: number }): void {
    if (op.op === 'clear') {
      result.evicted += this.clearPod(pod);
      return;
    }
    let podEngine = this.engine.get(pod);
    const id = `${op.tier}|${op.engineKey}`;
    if (op.op === 'store') {
      if (!podEngine) this.engine.set(pod, (podEngine = new Map()));
      const existing = podEngine.get(id);
      if (existing) {
        existing.copies++;
        return;
      }
      podEngine.set(id, { requestKeys: op.requestKeys, copies: 1 });
      for (const key of op.requestKeys) if (this.addHolder(key, pod, op.tier, 1)) result.admitted++;
      return;
    }
    const block = podEngine?.get(id);
    if (!block) {
      result.unknownEvictions++;
      return;
    }
    if (--block.copies > 0) return;
    podEngine?.delete(id);
    for (const key of block.requestKeys) if (this.addHolder(key, pod, op.tier, -1)) result.evicted++;
  }

  /** Adjusts a (key, pod, tier) block count; true when that entry appeared or went. */
  private addHolder(key: bigint, pod: string, tier: DeviceTier, delta: number): boolean {
    let holders = this.holders.get(key);
    if (!holders) this.holders.set(key, (holders = new Map()));
    let tiers = holders.get(pod);
    if (!tiers) holders.set(pod, (tiers = new Map()));
    const before = tiers.get(tier) ?? 0;
    const count = before + delta;
    if (count > 0) tiers.set(tier, count);
    else tiers.delete(tier);
    if (tiers.size === 0) holders.delete(pod);
    if (holders.size === 0) this.holders.delete(key);
    if (delta > 0) this.speculative.get(key)?.delete(pod); // real events supersede speculation
    // An entry is (request key, pod, tier), as in stats and in the Redis backend.
    return delta > 0 ? before === 0 : before > 0 && count <= 0;
  }

  /** Forgets every block of the pod; returns how many (request key, tier) entries it lost. */
  private clearPod(pod: string): number {
    const podEngine = this.engine.get(pod);
    if (!podEngine) return 0;
    let lost = 0;
    for (const [id, block] of podEngine) {
      const tier = id.slice(0, id.indexOf('|'));
      for (const key of block.requestKeys) {
        const holders = this.holders.get(key);
        const tiers = holders?.get(pod);
        if (!holders || !tiers) continue;
        if (tiers.delete(tier)) lost++;
        if (tiers.size === 0) holders.delete(pod);
        if (holders.size === 0) this.holders.delete(key);
      }
    }
    this.engine.delete(pod);
    return lost;
  }

  async lookup(keys: readonly bigint[], candidates: readonly string[]): Promise<LookupResult> {
    const now = this.now();
    const pods: PodMatch[] = candidates.map((pod) => {
      let matchedBlocks = 0;
      let weightedScore = 0;
      let speculativeBlocks = 0;
      for (const key of keys) {
        const tiers = this.holders.get(key)?.get(pod);
        if (tiers && tiers.size > 0) {
          let best = 0;
          for (const tier of tiers.keys()) best = Math.max(best, this.weights[tier] ?? 1);
          weightedScore += best;
        } else if ((this.speculative.get(key)?.get(pod) ?? 0) > now) {
          weightedScore += 1;
          speculativeBlocks++;
        } else break;
        matchedBlocks++;
      }
      return { pod, matchedBlocks, weightedScore, speculativeBlocks };
    });
    return { totalBlocks: keys.length, pods };
  }

  async blockHolders(keys: readonly bigint[]): Promise<string[][]> {
    return keys.map((key) => [...(this.holders.get(key)?.keys() ?? [])].sort());
  }

  async speculativeInsert(keys: readonly bigint[], pod: string, ttlMs: number): Promise<void> {
    const now = this.now();
    const expiry = now + ttlMs;
    // Expired entries are dropped every so many inserts, so a long-running process (the
    // standalone stack) does not keep every request's keys.
    if (++this.insertsSincePrune >= SPECULATIVE_PRUNE_EVERY) this.pruneSpeculative(now);
    for (const key of keys) {
      if (this.holders.get(key)?.has(pod)) continue;
      let pods = this.speculative.get(key);
      if (!pods) this.speculative.set(key, (pods = new Map()));
      pods.set(pod, Math.max(expiry, pods.get(pod) ?? 0));
    }
  }

  private pruneSpeculative(now: number): void {
    this.insertsSincePrune = 0;
    for (const [key, pods] of this.speculative) {
      for (const [pod, expiry] of pods) if (expiry <= now) pods.delete(pod);
      if (pods.size === 0) this.speculative.delete(key);
    }
  }

  /** Request keys with a speculative entry (live or expired, not yet pruned). */
  get speculativeKeys(): number {
    return this.speculative.size;
  }

  async position(pod: string): Promise<PodPosition | null> {
    return this.positions.get(pod) ?? null;
  }

  async dump(options: { pod?: string; limit?: number } = {}): Promise<IndexEntry[]> {
    const out: IndexEntry[] = [];
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    for (const [requestKey, holders] of this.holders) {
      for (const [pod, tiers] of holders) {
        if (options.pod !== undefined && pod !== options.pod) continue;
        for (const [tier, blocks] of tiers) {
          if (out.length >= limit) return out;
          out.push({ requestKey, pod, tier, blocks, speculative: false });
        }
      }
    }
    const now = this.now();
    for (const [requestKey, pods] of this.speculative) {
      for (const [pod, expiry] of pods) {
        if (expiry <= now || (options.pod !== undefined && pod !== options.pod)) continue;
        if (out.length >= limit) return out;
        out.push({ requestKey, pod, tier: '', blocks: 0, speculative: true });
      }
    }
    return out;
  }

  async stats(): Promise<IndexStats> {
    let entries = 0;
    for (const holders of this.holders.values()) for (const tiers of holders.values()) entries += tiers.size;
    let engineKeys = 0;
    for (const podEngine of this.engine.values()) engineKeys += podEngine.size;
    const now = this.now();
    let speculativeEntries = 0;
    for (const pods of this.speculative.values()) for (const expiry of pods.values()) if (expiry > now) speculativeEntries++;
    return { requestKeys: this.holders.size, entries, pods: this.engine.size, engineKeys, speculativeEntries };
  }

  async pods(): Promise<string[]> {
    return [...this.positions.keys()].sort();
  }

  async exportPod(pod: string): Promise<PodState | null> {
    const position = this.positions.get(pod);
    if (!position) return null;
    const blocks = [...(this.engine.get(pod) ?? new Map<string, EngineBlock>())].map(([id, block]) => {
      const bar = id.indexOf('|');
      return { tier: id.slice(0, bar), engineKey: BigInt(id.slice(bar + 1)), copies: block.copies, requestKeys: block.requestKeys };
    });
    return { pod, model: this.models.get(pod) ?? null, position, blocks };
  }

  /** Checks a writer's fence and remembers it; false when a newer writer has been seen. */
  private admit(fence: number | undefined): boolean {
    if (fence === undefined) return true;
    if (fence < this.fence) return false;
    this.fence = fence;
    return true;
  }

  async replacePod(state: PodState, options: { fence?: number } = {}): Promise<AdminOutcome> {
    if (!this.admit(options.fence)) return 'fenced';
    this.clearPod(state.pod);
    const podEngine = new Map<string, EngineBlock>();
    for (const block of state.blocks) {
      podEngine.set(`${block.tier}|${block.engineKey}`, { requestKeys: block.requestKeys, copies: block.copies });
      for (const key of block.requestKeys) this.addHolder(key, state.pod, block.tier, 1);
    }
    if (podEngine.size > 0) this.engine.set(state.pod, podEngine);
    this.positions.set(state.pod, state.position);
    if (state.model !== null) this.models.set(state.pod, state.model);
    else this.models.delete(state.pod);
    return 'applied';
  }

  async forgetPod(pod: string, options: { fence?: number } = {}): Promise<AdminOutcome> {
    if (!this.admit(options.fence)) return 'fenced';
    this.clearPod(pod);
    this.positions.delete(pod);
    this.models.delete(pod);
    return 'applied';
  }

  async close(): Promise<void> {
    // nothing held outside this object
  }
}
