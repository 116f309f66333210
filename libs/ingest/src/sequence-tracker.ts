/**
 * Per-pod sequence tracking for the collector: what to do with each batch a pod's PUB socket
 * delivers, given what has already been published for that pod. Pure and synchronous; the
 * collector performs the decisions (replay, epoch bump, publish) and reports back.
 *
 * vLLM numbers the batches of one engine process 0, 1, 2, … (upstream-spec §1.2) and stamps each
 * with its wall-clock `ts`. A restarted engine starts again at 0. So, for a batch (seq, ts) and the
 * last published (lastSeq, lastTs) of the current epoch:
 *
 *   nothing published yet in this epoch   seq = 0 → publish;  seq > 0 → gap [0, seq)
 *   seq = lastSeq + 1                      publish
 *   seq > lastSeq + 1                      gap [lastSeq + 1, seq)
 *   seq ≤ lastSeq, ts > lastTs             engine restart: new epoch, then as "nothing published"
 *   seq ≤ lastSeq, ts ≤ lastTs             duplicate (already published) → drop
 *
 * The `ts` test separates a restart from a duplicate without a fixed threshold: one engine's
 * batches carry increasing timestamps, and a batch already published cannot be newer than the
 * last one published. (llm-d-router treats every `seq < last` as a restart and `seq = last` as a
 * duplicate; that misreads a late duplicate, e.g. from a second replay, as a restart.)
 */

export interface PublishedPosition {
  /** Engine epoch (restart count as the collectors agree on it). */
  readonly epoch: number;
  /** Last engine sequence published in this epoch; null when none yet. */
  readonly seq: bigint | null;
  /** `ts` of that batch (seconds, engine wall clock); null when unknown. */
  readonly ts: number | null;
}

export type SequenceDecision =
  | { readonly kind: 'publish' }
  | { readonly kind: 'duplicate' }
  /** Batches [from, to] are missing before this one; try replay, else publish a reset. */
  | { readonly kind: 'gap'; readonly from: bigint; readonly to: bigint }
  /** The engine restarted: bump the epoch, publish a reset, then decide again (as a first batch). */
  | { readonly kind: 'restart' };

export function decideSequence(position: PublishedPosition, seq: bigint, ts: number): SequenceDecision {
  if (position.seq === null) return seq === 0n ? { kind: 'publish' } : { kind: 'gap', from: 0n, to: seq - 1n };
  if (seq === position.seq + 1n) return { kind: 'publish' };
  if (seq > position.seq + 1n) return { kind: 'gap', from: position.seq + 1n, to: seq - 1n };
  if (position.ts !== null && ts > position.ts) return { kind: 'restart' };
  return { kind: 'duplicate' };
}

/** Mutable per-pod position, advanced as batches are published. */
export class PodPosition {
  epoch: number;
  seq: bigint | null;
  ts: number | null;

  constructor(start: PublishedPosition) {
    this.epoch = start.epoch;
    this.seq = start.seq;
    this.ts = start.ts;
  }

  decide(seq: bigint, ts: number): SequenceDecision {
    return decideSequence(this, seq, ts);
  }

  /** Records that batch (seq, ts) was handed to the publisher. */
  published(seq: bigint, ts: number): void {
    this.seq = seq;
    this.ts = ts;
  }

  /** A new engine epoch: nothing published in it yet. */
  newEpoch(epoch: number): void {
    if (epoch <= this.epoch) throw new RangeError(`epoch must increase: ${this.epoch} → ${epoch}`);
    this.epoch = epoch;
    this.seq = null;
    this.ts = null;
  }

  /**
   * After a reset for an unrecoverable gap: continue from the batch after the gap, as if the
   * missing ones had been published (the reset told the indexer to forget this pod).
   */
  skipTo(seqBefore: bigint, ts: number | null): void {
    this.seq = seqBefore;
    this.ts = ts;
  }

  snapshot(): PublishedPosition {
    return { epoch: this.epoch, seq: this.seq, ts: this.ts };
  }
}

/**
 * Which replayed batches fill a gap [from, to]: those in range, in order, strictly consecutive
 * from `from`. Returns the usable prefix and whether it reaches `to`.
 */
export function fillGap<T extends { readonly seq: bigint }>(from: bigint, to: bigint, replayed: readonly T[]): { fill: T[]; complete: boolean } {
  const fill: T[] = [];
  let expected = from;
  for (const batch of replayed) {
    if (batch.seq < expected) continue; // older than the gap (replay starts at the oldest buffered ≥ from)
    if (batch.seq > to) break;
    if (batch.seq !== expected) break; // a hole inside the replay: the rest cannot be used in order
    fill.push(batch);
    expected++;
  }
  return { fill, complete: expected > to };
}
