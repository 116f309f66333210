/**
 * Turns a pod's message into index operations, identically for every backend: the ordering rule
 * (is this batch the pod's next one?) and the dual-key plan of each event.
 *
 * Extra keys (vLLM `extra_keys`, one entry per block, `generate_block_hash_extra_keys`): the LoRA
 * name is already the root of the request keys (the model name the router hashes with is the
 * adapter's), so it is dropped here; `[identifier, offset]` pairs are multimodal items and become
 * `{Hash: identifier}`; on the first block, the last other string is the cache salt, folded as the
 * router folds it (`@kvr/block-keys` `cacheSalt`); any other string is an older-vLLM multimodal
 * identifier. llm-d instead treats every string as a multimodal hash, so a LoRA request's stored
 * keys can never equal the keys its router computes.
 */
import type { BlockKeyer, BlockExtra } from '@kvr/block-keys';
import type { BlockRemovedEvent, BlockStoredEvent, KvEvent } from '@kvr/kv-events';
import type { DeviceTier, PodMessage, PodPosition } from './api';

export type PositionDecision =
  | { readonly kind: 'apply'; readonly clearFirst: boolean; readonly next: PodPosition }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'early' };

/**
 * The ordering rule. Batches of a pod apply in engine order: the next sequence of the current
 * epoch, or anything right after a reset. A batch of a newer epoch without its reset (lost or
 * reordered) clears the pod first; so does a gap when the caller accepts it (`acceptGap`, after
 * enough redeliveries): missing events could hide removals, and an index must never claim a
 * block the pod does not hold.
 */
export function decidePosition(position: PodPosition | null, message: PodMessage, acceptGap = false): PositionDecision {
  if (message.kind !== 'batch') {
    if (position && message.epoch < position.epoch) return { kind: 'duplicate' };
    return { kind: 'apply', clearFirst: true, next: { epoch: message.epoch, seq: null } };
  }
  const next = { epoch: message.epoch, seq: message.seq };
  if (!position) return { kind: 'apply', clearFirst: false, next };
  if (message.epoch < position.epoch) return { kind: 'duplicate' };
  if (message.epoch > position.epoch) return { kind: 'apply', clearFirst: true, next };
  if (position.seq === null) return { kind: 'apply', clearFirst: false, next };
  if (message.seq <= position.seq) return { kind: 'duplicate' };
  if (message.seq === position.seq + 1n) return { kind: 'apply', clearFirst: false, next };
  return acceptGap ? { kind: 'apply', clearFirst: true, next } : { kind: 'early' };
}

export type IndexOp =
  | { readonly op: 'store'; readonly tier: DeviceTier; readonly engineKey: bigint; readonly requestKeys: readonly bigint[] }
  | { readonly op: 'remove'; readonly tier: DeviceTier; readonly engineKey: bigint }
  | { readonly op: 'clear' };

export interface PlanCounts {
  unknownParents: number;
  blockSizeMismatches: number;
}

/** Engine key → request keys of one pod and tier, as the backend knows them before this batch. */
export type EngineKeyLookup = (tier: DeviceTier, engineKey: bigint) => readonly bigint[] | undefined;

export function tierOf(medium: string | null): DeviceTier {
  return medium ? medium.toLowerCase() : 'gpu';
}

/** Per-block extras and the cache salt, from vLLM's extra_keys (see the file comment). */
export function extrasFromEvent(event: BlockStoredEvent): { extras: (BlockExtra | null)[] | undefined; cacheSalt: string | undefined } {
  if (!event.extraKeys) return { extras: undefined, cacheSalt: undefined };
  let cacheSalt: string | undefined;
  let any = false;
  const extras = event.extraKeys.map((keys, block): BlockExtra | null => {
    if (!Array.isArray(keys)) return null;
    const items = keys.filter((k) => !(typeof k === 'string' && k === event.loraName));
    if (block === 0 && event.parentBlockHash === null) {
      const lastString = [...items].reverse().find((k) => typeof k === 'string');
      if (typeof lastString === 'string') {
        cacheSalt = lastString;
        items.splice(items.lastIndexOf(lastString), 1);
      }
    }
    const mm = items
      .map((k) => (typeof k === 'string' ? k : Array.isArray(k) && typeof k[0] === 'string' ? k[0] : undefined))
      .filter((k): k is string => k !== undefined)
      .map((hash) => ({ Hash: hash }));
    if (mm.length === 0) return null;
    any = true;
    return mm;
  });
  return { extras: any ? extras : undefined, cacheSalt };
}

/**
 * The operations of one batch, in event order. `known` answers for engine keys stored before this
 * batch; keys stored earlier in the same batch are tracked here.
 */
export function planBatch(events: readonly KvEvent[], model: string, keyer: BlockKeyer, known: EngineKeyLookup): { ops: IndexOp[]; counts: PlanCounts } {
  const ops: IndexOp[] = [];
  const counts: PlanCounts = { unknownParents: 0, blockSizeMismatches: 0 };
  const local = new Map<string, readonly bigint[] | null>();
  let cleared = false;
  const resolve = (tier: DeviceTier, engineKey: bigint): readonly bigint[] | undefined => {
    const id = `${tier}|${engineKey}`;
    if (local.has(id)) return local.get(id) ?? undefined;
    return cleared ? undefined : known(tier, engineKey);
  };
  for (const event of events) {
    if (event.type === 'AllBlocksCleared') {
      ops.push({ op: 'clear' });
      local.clear();
      cleared = true; // what the backend knew before is gone too
      continue;
    }
    if (event.type === 'BlockRemoved') {
      planRemoved(event, ops, local);
      continue;
    }
    planStored(event, model, keyer, resolve, local, ops, counts);
  }
  return { ops, counts };
}

function planRemoved(event: BlockRemovedEvent, ops: IndexOp[], local: Map<string, readonly bigint[] | null>): void {
  const tier = tierOf(event.medium);
  for (const engineKey of event.blockHashes) {
    ops.push({ op: 'remove', tier, engineKey });
    local.set(`${tier}|${engineKey}`, null);
  }
}

function planStored(
  event: BlockStoredEvent,
  model: string,
  keyer: BlockKeyer,
  resolve: EngineKeyLookup,
  local: Map<string, readonly bigint[] | null>,
  ops: IndexOp[],
  counts: PlanCounts,
): void {
  const tier = tierOf(event.medium);
  if (event.blockHashes.length === 0) return;
  if (event.tokenIds.length === 0) {
    // Offloading: the same blocks, now also in another tier; their request keys come from the GPU map.
    for (const engineKey of event.blockHashes) {
      const requestKeys = resolve('gpu', engineKey);
      if (!requestKeys) {
        counts.unknownParents++;
        continue;
      }
      ops.push({ op: 'store', tier, engineKey, requestKeys });
      local.set(`${tier}|${engineKey}`, requestKeys);
    }
    return;
  }
  if (event.blockSize !== keyer.blockSize) counts.blockSizeMismatches++;
  let parent = 0n;
  if (event.parentBlockHash !== null) {
    const parentKeys = resolve(tier, event.parentBlockHash) ?? resolve('gpu', event.parentBlockHash);
    if (!parentKeys || parentKeys.length === 0) {
      counts.unknownParents++; // as llm-d: without the parent's key the chain cannot be computed
      return;
    }
    parent = parentKeys[parentKeys.length - 1] as bigint;
  }
  const { extras, cacheSalt } = extrasFromEvent(event);
  const keyerFor = event.loraName ? keyer.forModel(event.loraName) : keyer.modelName === model ? keyer : keyer.forModel(model);
  const blocks = keyerFor.blockCount(event.tokenIds.length);
  const alignedExtras = extras && extras.length === blocks ? extras : undefined;
  // One literal (absent = undefined; a parent of 0n is the root, as keysForTokens reads it), not
  // conditional spreads: on V8 11 (Node 20) an object that starts with a spread and then grows
  // gets a hidden class of its own, per event.
  const requestKeys = keyerFor.keysForTokens(event.tokenIds, {
    parent,
    extras: alignedExtras,
    cacheSalt: parent === 0n ? cacheSalt : undefined,
  });
  if (requestKeys.length === 0) return;
  // llm-d's mapping between engine blocks and request blocks of different sizes (§3.3):
  // n = max(|E|, |R|); E[i·|E|/n] gets R[i·|R|/n].
  const engineKeys = event.blockHashes;
  const n = Math.max(engineKeys.length, requestKeys.length);
  const byEngine = new Map<bigint, bigint[]>();
  for (let i = 0; i < n; i++) {
    const engineKey = engineKeys[Math.floor((i * engineKeys.length) / n)] as bigint;
    const requestKey = requestKeys[Math.floor((i * requestKeys.length) / n)] as bigint;
    const list = byEngine.get(engineKey) ?? [];
    if (list[list.length - 1] !== requestKey) list.push(requestKey);
    byEngine.set(engineKey, list);
  }
  for (const [engineKey, keys] of byEngine) {
    ops.push({ op: 'store', tier, engineKey, requestKeys: keys });
    local.set(`${tier}|${engineKey}`, keys);
  }
}
