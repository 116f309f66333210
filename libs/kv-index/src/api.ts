/**
 * The block index: which pods hold which prefix blocks, by request key (the router's key,
 * `@kvr/block-keys`), fed by the pods' KV events in order. This file is the contract every
 * backend implements (in memory here; Redis in the indexer's adapter) and the conformance suite
 * (`@kvr/kv-index/testing`) checks.
 *
 * Dual keys (upstream-spec §3.5): a pod's `BlockStored` names its blocks by engine hash and
 * carries their tokens. The index computes request keys from the tokens (chained from the
 * parent's request key, resolved through the pod's engine-key map) and stores
 *   request key → {pod, tier}: a count of the pod's live engine blocks with that key, per tier
 *   (pod, engine key) → request keys, tier, copies
 * `BlockRemoved` carries engine keys only; the map turns them back into request keys. Engine keys
 * are per pod: unseeded vLLM pods hash the same tokens differently, seeded ones identically.
 *
 * Copies: vLLM stores a block twice when two requests compute the same prefix at once, and
 * removes each copy separately (see libs/sim-engine/README.md). The index counts copies, so a pod
 * stays indexed for a key until its last copy is removed.
 */
import type { KvEventBatch } from '@kvr/kv-events';

/** Where a block lives on a pod: `gpu` (vLLM's `GPU` medium), `cpu` (offloading), or what the event says, lower-cased. */
export type DeviceTier = string;

/** A pod's place in its own event stream: engine epoch and last applied engine sequence. */
export interface PodPosition {
  readonly epoch: number;
  /** Last applied engine sequence in this epoch; null right after a reset (any sequence may follow). */
  readonly seq: bigint | null;
}

/** One message of a pod's stream, as the indexer consumes it. */
export type PodMessage =
  | {
      readonly kind: 'batch';
      readonly pod: string;
      /** Model from the topic; a LoRA adapter named in an event replaces it for that event's keys. */
      readonly model: string;
      readonly epoch: number;
      readonly seq: bigint;
      readonly batch: KvEventBatch;
    }
  | {
      readonly kind: 'reset';
      readonly pod: string;
      readonly epoch: number;
      /** Why (engine_restart, unrecoverable_gap, operator, …), for logs and metrics. */
      readonly reason: string;
    }
  | { readonly kind: 'removed'; readonly pod: string; readonly epoch: number };

/**
 * What applying a message did:
 * - `applied`: written (for a batch: it was the pod's next one);
 * - `duplicate`: at or before the pod's position (a redelivery) — ack and move on;
 * - `early`: a batch after a gap in the pod's sequence — its predecessor is not in yet; NAK with
 *   a delay (or, after enough attempts, `applyAfterGap`);
 * - `fenced`: the writer's lease fence is older than the newest seen — it must stop writing.
 */
export type ApplyOutcome = 'applied' | 'duplicate' | 'early' | 'fenced';

export interface ApplyResult {
  readonly outcome: ApplyOutcome;
  readonly position: PodPosition | null;
  /** (request key, tier) entries the pod gained / lost: an entry as `stats().entries` counts them. */
  readonly admitted: number;
  readonly evicted: number;
  /** BlockStored events dropped because their parent engine key was unknown (as llm-d does). */
  readonly unknownParents: number;
  /** BlockStored events whose block size differs from the index's (keys computed anyway, alarm). */
  readonly blockSizeMismatches: number;
  /** BlockRemoved engine keys the pod never stored (or already removed). */
  readonly unknownEvictions: number;
}

/** Per candidate pod: how many leading request keys it holds, and their tier-weighted score. */
export interface PodMatch {
  readonly pod: string;
  /** Consecutive blocks from the first one held by the pod (any tier). */
  readonly matchedBlocks: number;
  /** Sum over those blocks of the best tier weight the pod has for each. */
  readonly weightedScore: number;
  /** Of the matched blocks, how many only by a speculative entry. */
  readonly speculativeBlocks: number;
}

export interface LookupResult {
  readonly totalBlocks: number;
  /** One entry per candidate pod, in the candidates' order (pods with no match have 0). */
  readonly pods: readonly PodMatch[];
}

export interface IndexEntry {
  readonly requestKey: bigint;
  readonly pod: string;
  readonly tier: DeviceTier;
  /** Live engine blocks of the pod with this key (copies included); 0 for speculative-only entries. */
  readonly blocks: number;
  readonly speculative: boolean;
}

export interface IndexStats {
  readonly requestKeys: number;
  readonly entries: number;
  readonly pods: number;
  readonly engineKeys: number;
  readonly speculativeEntries: number;
}

/** One engine block of a pod as the index holds it: what a snapshot stores per block. */
export interface EngineBlockState {
  readonly tier: DeviceTier;
  readonly engineKey: bigint;
  /** Live copies (vLLM may store a block twice; each copy is removed separately). */
  readonly copies: number;
  /** The request keys the block covers (one per block for a full block; see the file comment). */
  readonly requestKeys: readonly bigint[];
}

/**
 * Everything the index knows of one pod, read atomically: its position in its stream, the model
 * its last batch named, and its engine blocks. The request key → pod entries follow from the
 * blocks, so this is all a snapshot needs. Speculative entries are not part of it.
 */
export interface PodState {
  readonly pod: string;
  readonly model: string | null;
  readonly position: PodPosition;
  readonly blocks: readonly EngineBlockState[];
}

/** Outcome of an operator write (restore, forget): `fenced` when a newer lease holder wrote since. */
export type AdminOutcome = 'applied' | 'fenced';

export interface BlockIndex {
  /** Applies one message of a pod's stream (see {@link ApplyOutcome}). `fence`: the writer's lease fence. */
  apply(message: PodMessage, options?: { fence?: number; acceptGap?: boolean }): Promise<ApplyResult>;
  /** Longest consecutive prefix of `keys` each candidate holds, in one read. */
  lookup(keys: readonly bigint[], candidates: readonly string[]): Promise<LookupResult>;
  /** For each key, the pods holding it for real (any tier), sorted: for explaining a lookup. */
  blockHolders(keys: readonly bigint[]): Promise<string[][]>;
  /** Speculative entries (the gateway's routing decision) that expire after `ttlMs`; real events supersede them. */
  speculativeInsert(keys: readonly bigint[], pod: string, ttlMs: number): Promise<void>;
  /** The pod's position in its stream, or null when the index has never seen it. */
  position(pod: string): Promise<PodPosition | null>;
  /** Every live entry (optionally one pod's), for kvctl dump and tests; `limit` caps the count. */
  dump(options?: { pod?: string; limit?: number }): Promise<IndexEntry[]>;
  stats(): Promise<IndexStats>;
  /** Every pod with a position, sorted. */
  pods(): Promise<string[]>;
  /** The pod's whole state, read atomically; null when the index has never seen it. */
  exportPod(pod: string): Promise<PodState | null>;
  /** Replaces everything of `state.pod` with `state`, atomically for readers (restoring a snapshot). */
  replacePod(state: PodState, options?: { fence?: number }): Promise<AdminOutcome>;
  /** Forgets the pod: its blocks and its position (as a `removed` message does, whatever its epoch). */
  forgetPod(pod: string, options?: { fence?: number }): Promise<AdminOutcome>;
  close(): Promise<void>;
}

/** Tier weights for scoring (llm-d's defaults: gpu 1.0, cpu 0.8; unknown tiers and speculative entries 1.0). */
export const DEFAULT_TIER_WEIGHTS: Readonly<Record<string, number>> = Object.freeze({ gpu: 1, cpu: 0.8 });
