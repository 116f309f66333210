/**
 * The Redis backend of the block index (ioredis), shared by every indexer and gateway replica.
 * Layout and atomicity: see scripts.ts. Reads for planning (the pod's position, the engine keys a
 * batch refers to) take one pipelined round trip; the write is one script that re-checks the
 * position it was planned against, so a batch is applied exactly once, in order, or not at all.
 * A lookup is one script call for all candidate pods. Keys travel and rest as 8-byte binary
 * strings (`encodeKey`): replies that carry them are read as Buffers.
 */
import type Redis from 'ioredis';
import type { BlockKeyer } from '@kvr/block-keys';
import type { KvEvent } from '@kvr/kv-events';
import { DEFAULT_REDIS_PREFIX, decodeKey, encodeKey, engineBucketOf, redisKeys, type RedisKeys } from '@kvr/contracts';
import {
  DEFAULT_TIER_WEIGHTS,
  decidePosition,
  planBatch,
  type PositionDecision,
  tierOf,
  type AdminOutcome,
  type ApplyResult,
  type BlockIndex,
  type DeviceTier,
  type IndexEntry,
  type IndexOp,
  type IndexStats,
  type LookupResult,
  type PodMessage,
  type PodPosition,
  type PodState,
} from '@kvr/kv-index';
import { APPLY_SCRIPT, EXPORT_SCRIPT, LOOKUP_SCRIPT, RESTORE_SCRIPT, SPECULATE_SCRIPT } from './scripts';

export interface RedisIndexOptions {
  readonly redis: Redis;
  readonly keyer: BlockKeyer;
  /** Key prefix, so that fleets can share a Redis. @default 'kvr' */
  readonly prefix?: string;
  readonly tierWeights?: Readonly<Record<string, number>>;
  /** Milliseconds clock for speculative entries. @default Date.now */
  readonly now?: () => number;
  /**
   * Called when a write was planned from memory instead of a read (see `apply`): `current` when
   * Redis accepted it, `stale` when the compare-and-set refused it and the message was read again.
   */
  readonly onRemembered?: (outcome: 'current' | 'stale') => void;
}

type Arg = string | Buffer;

interface ScriptCommands {
  kvrApply(podKey: string, podsKey: string, ...args: Arg[]): Promise<[string, number, number, number]>;
  kvrLookup(...args: Arg[]): Promise<number[]>;
  kvrSpeculate(...args: Arg[]): Promise<number>;
  kvrRestore(podKey: string, podsKey: string, ...args: Arg[]): Promise<string>;
  /** ioredis' Buffer-reply variant of the export script (engine keys and values are binary). */
  kvrExportBuffer(podKey: string, ...args: Arg[]): Promise<Buffer[] | null>;
}

const WEIGHT_SCALE = 1_000_000;
const MAX_ATTEMPTS = 8;
/** Blocks per restore call: bounds one script's run time (Redis serves nothing else meanwhile). */
const RESTORE_CHUNK_BLOCKS = 2_000;
/** Pods whose last write an instance remembers (an indexer writes only its partitions' pods). */
const MEMO_PODS = 4_096;
/** Engine entries remembered per pod: the last batches' stores, where the next batch's parents are. */
const MEMO_BLOCKS_PER_POD = 512;

/**
 * What an instance wrote last for a pod: the position it left, and engine entries (`tier|E` →
 * request keys) it knows Redis holds at that position. Valid exactly while the pod's position in
 * Redis is still that one, which the write script checks.
 */
interface PodMemo {
  readonly position: PodPosition;
  readonly engine: ReadonlyMap<string, readonly bigint[]>;
}

/** Whether the memo answers every engine entry the batch's plan may ask about. */
function allRemembered(memo: PodMemo, needed: ReadonlyMap<string, EngineRead>): boolean {
  for (const read of needed.values()) {
    for (const key of read.engineKeys) if (!memo.engine.has(`${read.tier}|${key}`)) return false;
  }
  return true;
}

export class RedisBlockIndex implements BlockIndex {
  private readonly redis: Redis & ScriptCommands;
  private readonly prefix: string;
  private readonly keys: RedisKeys;
  private readonly keyer: BlockKeyer;
  private readonly weightArgs: string[];
  /** The weighted tiers as a count-prefixed argument list (speculation checks real entries on these). */
  private readonly tierArgs: string[];
  private readonly now: () => number;
  /** Per pod, what this instance last wrote (see apply); only ever trusted through the write's compare-and-set. */
  private readonly memos = new Map<string, PodMemo>();
  private readonly onRemembered: ((outcome: 'current' | 'stale') => void) | undefined;

  constructor(options: RedisIndexOptions) {
    this.redis = options.redis as Redis & ScriptCommands;
    this.prefix = options.prefix ?? DEFAULT_REDIS_PREFIX;
    this.keys = redisKeys(this.prefix);
    this.keyer = options.keyer;
    this.now = options.now ?? Date.now;
    this.onRemembered = options.onRemembered;
    const weights = Object.entries(options.tierWeights ?? DEFAULT_TIER_WEIGHTS);
    this.weightArgs = [String(weights.length), ...weights.flatMap(([tier, w]) => [tier, String(Math.round(w * WEIGHT_SCALE))])];
    this.tierArgs = [String(weights.length), ...weights.map(([tier]) => tier)];
    // Scripts are sent once per connection (EVALSHA afterwards, reloaded on NOSCRIPT by ioredis).
    const connection: Redis = options.redis;
    if (typeof (connection as Partial<ScriptCommands>).kvrApply !== 'function') {
      connection.defineCommand('kvrApply', { numberOfKeys: 2, lua: APPLY_SCRIPT });
      connection.defineCommand('kvrLookup', { numberOfKeys: 0, lua: LOOKUP_SCRIPT });
      connection.defineCommand('kvrSpeculate', { numberOfKeys: 0, lua: SPECULATE_SCRIPT });
      connection.defineCommand('kvrRestore', { numberOfKeys: 2, lua: RESTORE_SCRIPT });
      connection.defineCommand('kvrExport', { numberOfKeys: 1, lua: EXPORT_SCRIPT });
    }
  }

  /**
   * Applies a message. The usual way takes two round trips: a pipelined read of the pod's position
   * and of the engine keys the batch refers to, then the write script. When this instance wrote
   * the pod's previous message and remembers everything the plan needs (see PodMemo), the read is
   * skipped: the script's compare-and-set on the position proves the memo current (the pod's keys
   * change only with its position), and a `retry` answer sends the message the usual way.
   */
  async apply(message: PodMessage, options: { fence?: number; acceptGap?: boolean } = {}): Promise<ApplyResult> {
    const none = { admitted: 0, evicted: 0, unknownParents: 0, blockSizeMismatches: 0, unknownEvictions: 0 };
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const needed = message.kind === 'batch' ? this.enginesToResolve(message.pod, message.batch.events) : new Map<string, EngineRead>();
      const memo = attempt === 0 && message.kind === 'batch' ? this.memos.get(message.pod) : undefined;
      let position: PodPosition | null;
      let decision: PositionDecision;
      let known: ReadonlyMap<string, readonly bigint[]>;
      let fromMemo = false;
      const memoDecision = memo ? decidePosition(memo.position, message, options.acceptGap) : undefined;
      if (memo && memoDecision?.kind === 'apply' && (memoDecision.clearFirst || allRemembered(memo, needed))) {
        // Only an `apply` is taken from the memo, never a duplicate or an early: those must be
        // judged against Redis itself (a rebuild elsewhere may have moved the pod back).
        position = memo.position;
        decision = memoDecision;
        known = memoDecision.clearFirst ? new Map() : memo.engine;
        fromMemo = true;
      } else {
        const pipeline = this.redis.pipeline().hmget(this.keys.pod(message.pod), 'epoch', 'seq', 'fence');
        for (const [bucket, read] of needed) pipeline.hmgetBuffer(bucket, ...read.engineKeys.map((key) => encodeKey(key)));
        const replies = (await pipeline.exec()) ?? [];
        const [stateErr, state] = replies[0] ?? [null, null];
        if (stateErr) throw stateErr;
        const [epoch, seq, storedFence] = state as (string | null)[];
        position = epoch === null || epoch === undefined ? null : { epoch: Number(epoch), seq: seq ? BigInt(seq) : null };
        if (options.fence !== undefined && storedFence && options.fence < Number(storedFence)) return { outcome: 'fenced', position, ...none };
        decision = decidePosition(position, message, options.acceptGap);
        if (decision.kind !== 'apply') return { outcome: decision.kind, position, ...none };
        const fromRedis = new Map<string, readonly bigint[]>();
        if (!decision.clearFirst) {
          let reply = 1;
          for (const read of needed.values()) {
            const [mapErr, values] = replies[reply++] ?? [null, []];
            if (mapErr) throw mapErr;
            (values as (Buffer | null)[]).forEach((value, i) => {
              if (value) fromRedis.set(`${read.tier}|${read.engineKeys[i] as bigint}`, requestKeysOf(value));
            });
          }
        }
        known = fromRedis;
      }

      const ops: IndexOp[] = decision.clearFirst ? [{ op: 'clear' }] : [];
      let counts = { unknownParents: 0, blockSizeMismatches: 0 };
      if (message.kind === 'batch') {
        const plan = planBatch(message.batch.events, message.model, this.keyer, (tier, key) => known.get(`${tier}|${key}`) as bigint[] | undefined);
        ops.push(...plan.ops);
        counts = plan.counts;
      }
      const forget = message.kind === 'removed';
      const args: Arg[] = [
        this.prefix,
        message.pod,
        options.fence === undefined ? '' : String(options.fence),
        position ? String(position.epoch) : '',
        position?.seq?.toString() ?? '',
        String(decision.next.epoch),
        decision.next.seq?.toString() ?? '',
        forget ? '1' : '0',
        message.kind === 'batch' ? message.model : '',
        ...ops.flatMap(opArgs),
      ];
      // A large pod's clear takes several calls ('partial': part done, nothing else written).
      let clearedBefore = 0;
      let reply = await this.redis.kvrApply(this.keys.pod(message.pod), this.keys.pods(), ...args);
      while (reply[0] === 'partial') {
        clearedBefore += reply[2];
        reply = await this.redis.kvrApply(this.keys.pod(message.pod), this.keys.pods(), ...args);
      }
      const [status, admitted, evictedLast, unknownEvictions] = reply;
      const evicted = clearedBefore + evictedLast;
      if (status === 'retry') {
        this.memos.delete(message.pod);
        if (fromMemo) this.onRemembered?.('stale');
        continue;
      }
      if (status === 'fenced') {
        this.memos.delete(message.pod);
        return { outcome: 'fenced', position, ...none };
      }
      if (fromMemo) this.onRemembered?.('current');
      this.remember(message.pod, forget ? null : decision.next, known, ops, fromMemo);
      return { outcome: 'applied', position: forget ? null : decision.next, admitted, evicted, unknownEvictions, ...counts };
    }
    throw new Error(`the position of pod ${message.pod} kept changing under ${MAX_ATTEMPTS} attempts: is a second writer active without a lease fence?`);
  }

  /**
   * Updates the pod's memo after this instance applied a message: the new position, and the
   * engine entries it knows to be in Redis now (those it read or remembered, then this message's
   * stores, less its removals; a clear empties it). Bounded per pod and in pods.
   */
  private remember(pod: string, position: PodPosition | null, known: ReadonlyMap<string, readonly bigint[]>, ops: readonly IndexOp[], knownIsMemo: boolean): void {
    this.memos.delete(pod);
    if (position === null) return;
    // The memo's own map is updated in place (it is replaced by the result anyway).
    const engine = knownIsMemo ? (known as Map<string, readonly bigint[]>) : new Map(known);
    for (const op of ops) {
      if (op.op === 'clear') engine.clear();
      else if (op.op === 'remove') engine.delete(`${op.tier}|${op.engineKey}`);
      else {
        const id = `${op.tier}|${op.engineKey}`;
        engine.delete(id); // re-inserted last: the newest entries survive the bound below
        engine.set(id, op.requestKeys);
      }
    }
    for (const id of engine.keys()) {
      if (engine.size <= MEMO_BLOCKS_PER_POD) break;
      engine.delete(id);
    }
    this.memos.set(pod, { position, engine });
    if (this.memos.size > MEMO_PODS) this.memos.delete(this.memos.keys().next().value as string);
  }

  /**
   * Engine-map entries a batch's plan may ask about (parents, and GPU keys of offloaded copies),
   * grouped by bucket: one HMGET each, in the pipeline that reads the pod's position.
   */
  private enginesToResolve(pod: string, events: readonly KvEvent[]): Map<string, EngineRead> {
    const reads = new Map<string, EngineRead>();
    const seen = new Set<string>();
    const want = (tier: DeviceTier, engineKey: bigint): void => {
      if (seen.has(`${tier}|${engineKey}`)) return;
      seen.add(`${tier}|${engineKey}`);
      const bucket = this.keys.engineBucket(pod, tier, engineBucketOf(engineKey));
      const read = reads.get(bucket);
      if (read) read.engineKeys.push(engineKey);
      else reads.set(bucket, { tier, engineKeys: [engineKey] });
    };
    for (const event of events) {
      if (event.type !== 'BlockStored') continue;
      const tier: DeviceTier = tierOf(event.medium);
      if (event.parentBlockHash !== null) {
        want(tier, event.parentBlockHash);
        want('gpu', event.parentBlockHash);
      }
      if (event.tokenIds.length === 0) for (const hash of event.blockHashes) want('gpu', hash);
    }
    return reads;
  }

  async lookup(keys: readonly bigint[], candidates: readonly string[]): Promise<LookupResult> {
    if (keys.length === 0 || candidates.length === 0) {
      return { totalBlocks: keys.length, pods: candidates.map((pod) => ({ pod, matchedBlocks: 0, weightedScore: 0, speculativeBlocks: 0 })) };
    }
    const flat = await this.redis.kvrLookup(this.prefix, String(this.now()), keyBlob(keys), String(candidates.length), ...candidates, ...this.weightArgs);
    return {
      totalBlocks: keys.length,
      pods: candidates.map((pod, i) => ({
        pod,
        matchedBlocks: Number(flat[3 * i]),
        weightedScore: Number(flat[3 * i + 1]) / WEIGHT_SCALE,
        speculativeBlocks: Number(flat[3 * i + 2]),
      })),
    };
  }

  async blockHolders(keys: readonly bigint[]): Promise<string[][]> {
    if (keys.length === 0) return [];
    const holders: Set<string>[] = keys.map(() => new Set<string>());
    const fields = keys.map((key) => encodeKey(key));
    const pods = await this.slotPods();
    for await (const holdKeys of this.scanKeys(this.keys.holdPattern())) {
      for (const holdKey of holdKeys) {
        const maps = await this.redis.hmgetBuffer(holdKey, ...fields);
        maps.forEach((map, k) => {
          if (map) for (const slot of slotsOf(map)) holders[k]!.add(pods.get(slot) ?? `slot ${slot}`);
        });
      }
    }
    return holders.map((set) => [...set].sort());
  }

  async speculativeInsert(keys: readonly bigint[], pod: string, ttlMs: number): Promise<void> {
    if (keys.length === 0) return;
    await this.redis.kvrSpeculate(this.prefix, pod, String(this.now() + ttlMs), String(Math.max(1, Math.ceil(ttlMs))), ...this.tierArgs, keyBlob(keys));
  }

  async position(pod: string): Promise<PodPosition | null> {
    const [epoch, seq] = await this.redis.hmget(this.keys.pod(pod), 'epoch', 'seq');
    if (epoch === null || epoch === undefined) return null;
    return { epoch: Number(epoch), seq: seq ? BigInt(seq) : null };
  }

  private async *scanKeys(pattern: string): AsyncGenerator<string[]> {
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) yield keys;
    } while (cursor !== '0');
  }

  /** slot → pod, for reading holder bitmaps. */
  private async slotPods(): Promise<Map<number, string>> {
    const bySlot = new Map<number, string>();
    for (const [slot, pod] of Object.entries(await this.redis.hgetall(this.keys.slotPod()))) bySlot.set(Number(slot), pod);
    return bySlot;
  }

  /** Every (request key, tier) → holder bitmap, page by page (HSCAN of each tier's hash). */
  private async *holderMaps(): AsyncGenerator<{ tier: string; entries: [bigint, Buffer][] }> {
    for await (const holdKeys of this.scanKeys(this.keys.holdPattern())) {
      for (const holdKey of holdKeys) {
        const tier = this.keys.parseHold(holdKey);
        let cursor = '0';
        do {
          const [next, flat] = await this.redis.hscanBuffer(holdKey, cursor, 'COUNT', 1000);
          cursor = next.toString();
          const entries: [bigint, Buffer][] = [];
          for (let i = 0; i + 1 < flat.length; i += 2) entries.push([decodeKey(flat[i] as Buffer), flat[i + 1] as Buffer]);
          if (entries.length > 0) yield { tier, entries };
        } while (cursor !== '0');
      }
    }
  }

  async dump(options: { pod?: string; limit?: number } = {}): Promise<IndexEntry[]> {
    const out: IndexEntry[] = [];
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const pods = await this.slotPods();
    const wanted = options.pod === undefined ? undefined : [...pods].find(([, pod]) => pod === options.pod)?.[0];
    if (options.pod === undefined || wanted !== undefined) {
      // Further blocks per (pod, tier, request key), from the pods' multi hashes (rare, small):
      // one scan of the keyspace for all of them.
      const extra = new Map<string, number>();
      for await (const multiKeys of this.scanKeys(this.keys.multiPattern(options.pod))) {
        for (const multiKey of multiKeys) {
          const { podId, tier } = this.keys.parseMulti(multiKey);
          // callBuffer: hgetallBuffer would turn the binary field names into (lossy) object keys.
          const flat = (await this.redis.callBuffer('HGETALL', multiKey)) as Buffer[];
          for (let i = 0; i + 1 < flat.length; i += 2) extra.set(`${podId}|${tier}|${decodeKey(flat[i] as Buffer)}`, Number((flat[i + 1] as Buffer).toString()));
        }
      }
      for await (const { tier, entries } of this.holderMaps()) {
        for (const [requestKey, map] of entries) {
          for (const slot of slotsOf(map)) {
            if (wanted !== undefined && slot !== wanted) continue;
            if (out.length >= limit) return out;
            const pod = pods.get(slot) ?? `slot ${slot}`;
            out.push({ requestKey, pod, tier, blocks: 1 + (extra.get(`${pod}|${tier}|${requestKey}`) ?? 0), speculative: false });
          }
        }
      }
    }
    const now = this.now();
    for await (const specKeys of this.scanKeys(this.keys.speculativePattern(options.pod))) {
      for (const key of specKeys) {
        const pod = this.keys.parseSpeculative(key);
        if (options.pod !== undefined && pod !== options.pod) continue;
        for (const member of await this.redis.zrangebyscoreBuffer(key, `(${now}`, '+inf')) {
          if (out.length >= limit) return out;
          out.push({ requestKey: decodeKey(member), pod, tier: '', blocks: 0, speculative: true });
        }
      }
    }
    return out;
  }

  async stats(): Promise<IndexStats> {
    const requestKeys = new Set<bigint>();
    let entries = 0;
    for await (const { entries: maps } of this.holderMaps()) {
      for (const [requestKey, map] of maps) {
        requestKeys.add(requestKey);
        entries += slotsOf(map).length;
      }
    }
    let engineKeys = 0;
    const enginePods = new Set<string>();
    for await (const keys of this.scanKeys(this.keys.enginePattern())) {
      // 256 buckets per pod and tier: their lengths in one round trip per page of keys.
      const pipeline = this.redis.pipeline();
      for (const key of keys) pipeline.hlen(key);
      ((await pipeline.exec()) ?? []).forEach(([err, length], i) => {
        if (err) throw err;
        if ((length as number) === 0) return;
        engineKeys += length as number;
        enginePods.add(this.keys.parseEngine(keys[i] as string));
      });
    }
    let speculativeEntries = 0;
    const now = this.now();
    for await (const keys of this.scanKeys(this.keys.speculativePattern())) {
      for (const key of keys) speculativeEntries += await this.redis.zcount(key, `(${now}`, '+inf');
    }
    return { requestKeys: requestKeys.size, entries, pods: enginePods.size, engineKeys, speculativeEntries };
  }

  async pods(): Promise<string[]> {
    return (await this.redis.smembers(this.keys.pods())).sort();
  }

  async exportPod(pod: string): Promise<PodState | null> {
    // One script: the position and the engine map of one moment (an apply in between would skew them).
    const flat = await this.redis.kvrExportBuffer(this.keys.pod(pod), this.prefix, pod);
    if (!flat) return null;
    const [epoch, seq, model] = flat.slice(0, 3).map((b) => b.toString());
    const blocks: PodState['blocks'][number][] = [];
    for (let i = 3; i + 2 < flat.length; i += 3) {
      const value = flat[i + 2] as Buffer;
      blocks.push({ tier: (flat[i] as Buffer).toString(), engineKey: decodeKey(flat[i + 1] as Buffer), copies: copiesOf(value), requestKeys: requestKeysOf(value) });
    }
    return { pod, model: model ? model : null, position: { epoch: Number(epoch), seq: seq ? BigInt(seq) : null }, blocks };
  }

  async replacePod(state: PodState, options: { fence?: number } = {}): Promise<AdminOutcome> {
    this.memos.delete(state.pod);
    const fence = options.fence === undefined ? '' : String(options.fence);
    const { epoch, seq } = state.position;
    for (let start = 0, first = true; first || start < state.blocks.length; start += RESTORE_CHUNK_BLOCKS, first = false) {
      const chunk = state.blocks.slice(start, start + RESTORE_CHUNK_BLOCKS);
      const last = start + RESTORE_CHUNK_BLOCKS >= state.blocks.length;
      const args: Arg[] = [this.prefix, state.pod, fence, first ? '1' : '0', last ? 'position' : '', String(epoch), seq?.toString() ?? '', state.model ?? ''];
      for (const block of chunk) args.push(block.tier, encodeKey(block.engineKey), String(block.copies), String(block.requestKeys.length), ...block.requestKeys.map((key) => encodeKey(key)));
      if ((await this.restore(state.pod, args)) === 'fenced') return 'fenced';
    }
    return 'applied';
  }

  async forgetPod(pod: string, options: { fence?: number } = {}): Promise<AdminOutcome> {
    this.memos.delete(pod);
    const fence = options.fence === undefined ? '' : String(options.fence);
    const status = await this.restore(pod, [this.prefix, pod, fence, '1', 'forget', '', '', '']);
    return status === 'fenced' ? 'fenced' : 'applied';
  }

  /** One RESTORE call, repeated while a large pod's clear goes on ('partial'). */
  private async restore(pod: string, args: readonly Arg[]): Promise<string> {
    for (;;) {
      const status = await this.redis.kvrRestore(this.keys.pod(pod), this.keys.pods(), ...args);
      if (status !== 'partial') return status;
    }
  }

  async close(): Promise<void> {
    // The connection belongs to the caller.
  }
}

/**
 * A problem with the server's settings for this index, or null.
 * - An `allkeys-*` eviction policy lets Redis drop index keys under memory pressure; losing the
 *   slot keys would let a new pod inherit a forgotten pod's bits (blocks it does not hold), so the
 *   index wants `noeviction` (or a `volatile-*` policy, which never touches its keys: they have no
 *   expiry, the speculative sets aside).
 * - The engine-map buckets are meant to stay in Redis' compact listpack encoding; with listpack
 *   limits below Redis' defaults they turn into hashtables and every engine key costs about three
 *   times the memory (never a wrong answer).
 * Managed servers often refuse CONFIG: then nothing can be said (null).
 */
export async function checkServerSettings(redis: Redis): Promise<string | null> {
  const settings = new Map<string, string>();
  try {
    for (const pattern of ['hash-max-listpack-*', 'maxmemory-policy']) {
      const reply = (await redis.config('GET', pattern)) as string[];
      for (let i = 0; i + 1 < reply.length; i += 2) settings.set(reply[i] as string, reply[i + 1] as string);
    }
  } catch {
    return null;
  }
  const problems: string[] = [];
  const policy = settings.get('maxmemory-policy');
  if (policy?.startsWith('allkeys-')) problems.push(`maxmemory-policy is ${policy}: under memory pressure Redis may evict index keys, and a pod could inherit blocks of one that left; use noeviction (or a volatile-* policy)`);
  const entries = Number(settings.get('hash-max-listpack-entries'));
  const value = Number(settings.get('hash-max-listpack-value'));
  const small: string[] = [];
  if (entries < 128) small.push(`hash-max-listpack-entries is ${entries} (< 128)`);
  if (value < 64) small.push(`hash-max-listpack-value is ${value} (< 64)`);
  if (small.length > 0) problems.push(`${small.join(' and ')}: the index's engine-map buckets cannot stay compact and use about 3× the memory; raise them to Redis' defaults (128 and 64) or above`);
  return problems.length === 0 ? null : `Redis ${problems.join('; ')}`;
}

/** An engine-map value (R1R2… of 8 bytes each, then the copy count when above 1) → request keys. */
function requestKeysOf(value: Buffer): bigint[] {
  const keys: bigint[] = [];
  for (let at = 0; at + 8 <= value.length; at += 8) keys.push(decodeKey(value, at));
  return keys;
}

/** An engine-map value → the copies of the block the pod holds. */
function copiesOf(value: Buffer): number {
  const extra = value.length % 8;
  return extra === 0 ? 1 : Number(value.subarray(value.length - extra).toString());
}

/** Keys as one argument of 8 bytes each (the lookup and speculation scripts split it). */
function keyBlob(keys: readonly bigint[]): Buffer {
  const blob = Buffer.allocUnsafe(8 * keys.length);
  for (let i = 0; i < keys.length; i++) encodeKey(keys[i] as bigint, blob, 8 * i);
  return blob;
}

/** The slots set in a holder bitmap (bit = slot, least significant first within each byte). */
function slotsOf(map: Buffer): number[] {
  const slots: number[] = [];
  for (let i = 0; i < map.length; i++) {
    const byte = map[i] as number;
    for (let bit = 0; bit < 8; bit++) if (byte & (1 << bit)) slots.push(8 * i + bit);
  }
  return slots;
}

/** Engine keys to read from one engine-map bucket, and their tier. */
interface EngineRead {
  readonly tier: DeviceTier;
  readonly engineKeys: bigint[];
}

function opArgs(op: IndexOp): Arg[] {
  if (op.op === 'clear') return ['c'];
  if (op.op === 'remove') return ['r', op.tier, encodeKey(op.engineKey)];
  return ['s', op.tier, encodeKey(op.engineKey), String(op.requestKeys.length), ...op.requestKeys.map((key) => encodeKey(key))];
}
