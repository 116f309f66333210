/**
 * Redis key layout of the block index. Every key the product reads or writes is built here.
 * All keys start with a configurable prefix (default `kvr`) so that several fleets can share a
 * Redis, and carry a `{...}` hash tag where keys belong to one pod. Request keys R and engine
 * keys E are stored as 8-byte big-endian binary strings (`encodeKey`), slots as decimals.
 *
 *   <p>:hold:<tier>                 HASH  R → holder bitmap of the pods that hold that block on
 *                                         that tier (bit = pod slot, least significant first)
 *   <p>:multi:{<pod>}:<tier>        HASH  R → the pod's further live engine blocks with that request
 *                                         key, beyond the first (vLLM may hold colliding blocks)
 *   <p>:eng:{<pod>}:<tier>:<b>      HASH  the pod's engine map, ENGINE_BUCKETS buckets per tier (b =
 *                                         engineBucketOf(E)): E → R1R2…, plus a decimal copy count
 *                                         after the keys when the pod holds the block more than once
 *   <p>:spec:{<pod>}                ZSET  R → expiry (ms) of a speculative entry
 *   <p>:pod:{<pod>}                 HASH  epoch, seq (empty after a reset), fence, model, and
 *                                         `t:<tier>` for each tier besides gpu and cpu with buckets
 *   <p>:slot / <p>:slotpod          HASH  pod → slot / slot → pod
 *   <p>:freeslots                   ZSET  slots of forgotten pods, reused lowest first
 *   <p>:nextslot                    STRING slots handed out so far
 *   <p>:pods                        SET   every pod with a position
 *   <p>:gen:<layout>                STRING generation id, set by the first indexer on an empty Redis;
 *                                         missing or changed = the index was lost: replay the stream.
 *                                         The key names the layout version, so that a Redis written
 *                                         under another layout counts as lost and is rebuilt.
 *
 * The Redis backend (libs/kv-index-redis) writes exactly this; its scripts document the details.
 * Per request key, with a bitmap of pods: one field serves every pod holding the block (memory
 * per (block, pod) falls as pods share prefixes) and a lookup reads all candidates with one HMGET
 * per tier. The engine map is per pod (removals and parents name a pod's engine keys) and
 * bucketed: read by engine key only, never scanned by lookups, so its buckets stay in Redis'
 * compact listpack encoding (up to hash-max-listpack-entries fields: 128 by default, 512 on
 * Debian); a bigger bucket turns into a hashtable, which costs memory, never correctness.
 *
 * The request key embeds the model (its root is seeded with the model name), so block keys need
 * no model component.
 */
export const DEFAULT_REDIS_PREFIX = 'kvr';

/** Version of this layout; a Redis holding another one is rebuilt from snapshots and the stream. */
export const REDIS_LAYOUT_VERSION = 3;

/** Buckets of a pod's engine map per tier: one per value of an engine key's last byte (as the Lua scripts compute it). */
export const ENGINE_BUCKETS = 256;

/** The bucket of an engine key: its lowest byte (the last of its 8-byte big-endian form). */
export function engineBucketOf(engineKey: bigint): number {
  return Number(engineKey & 0xffn);
}

/** A 64-bit key as the index stores it: 8 bytes, big-endian. */
export function encodeKey(key: bigint, into: Buffer = Buffer.allocUnsafe(8), at = 0): Buffer {
  into.writeBigUInt64BE(BigInt.asUintN(64, key), at);
  return into;
}

/** The 8-byte big-endian key at `at` of `bytes`. */
export function decodeKey(bytes: Buffer, at = 0): bigint {
  return bytes.readBigUInt64BE(at);
}

export interface RedisKeys {
  /** The holder bitmaps of one tier, for the whole fleet. */
  hold(tier: string): string;
  /** SCAN MATCH pattern of every tier's holder hash. */
  holdPattern(): string;
  /** The tier a holder-hash key belongs to. */
  parseHold(key: string): string;
  /** The pod's counts of further blocks per request key on a tier. */
  multi(podId: string, tier: string): string;
  /** SCAN MATCH pattern of every pod's multi hashes, or of one pod's (every tier). */
  multiPattern(podId?: string): string;
  /** The pod and tier a multi-hash key belongs to. */
  parseMulti(key: string): { podId: string; tier: string };
  speculative(podId: string): string;
  /** One bucket of the pod's engine map on a tier (see engineBucketOf). */
  engineBucket(podId: string, tier: string, bucket: number): string;
  pod(podId: string): string;
  pods(): string;
  /** pod → slot (its bit in the holder bitmaps). */
  slot(): string;
  /** slot → pod. */
  slotPod(): string;
  generation(): string;
  /** SCAN MATCH pattern of every pod's speculative set, or of one pod's (its id escaped: `[fd00::1]:8000`). */
  speculativePattern(podId?: string): string;
  /** SCAN MATCH pattern of every engine bucket of every pod. */
  enginePattern(): string;
  /** The pod an engine-bucket key belongs to. */
  parseEngine(key: string): string;
  /** The pod a speculative-set key belongs to. */
  parseSpeculative(key: string): string;
}

/** SCAN MATCH treats `*?[]\\` as pattern syntax; pod ids may contain brackets. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

export function redisKeys(prefix: string = DEFAULT_REDIS_PREFIX): RedisKeys {
  const holdStart = `${prefix}:hold:`;
  const specStart = `${prefix}:spec:{`;
  const engineStart = `${prefix}:eng:{`;
  const multiStart = `${prefix}:multi:{`;
  return {
    hold: (tier) => `${holdStart}${tier}`,
    holdPattern: () => `${holdStart}*`,
    parseHold: (key) => key.slice(holdStart.length),
    multi: (podId, tier) => `${multiStart}${podId}}:${tier}`,
    multiPattern: (podId) => (podId === undefined ? `${prefix}:multi:*` : `${multiStart}${escapeGlob(podId)}}:*`),
    parseMulti: (key) => {
      const body = key.slice(multiStart.length);
      const close = body.lastIndexOf('}:');
      return { podId: body.slice(0, close), tier: body.slice(close + 2) };
    },
    speculative: (podId) => `${specStart}${podId}}`,
    engineBucket: (podId, tier, bucket) => `${engineStart}${podId}}:${tier}:${bucket}`,
    pod: (podId) => `${prefix}:pod:{${podId}}`,
    pods: () => `${prefix}:pods`,
    slot: () => `${prefix}:slot`,
    slotPod: () => `${prefix}:slotpod`,
    generation: () => `${prefix}:gen:${REDIS_LAYOUT_VERSION}`,
    speculativePattern: (podId) => (podId === undefined ? `${prefix}:spec:*` : `${specStart}${escapeGlob(podId)}}`),
    enginePattern: () => `${prefix}:eng:*`,
    parseEngine: (key) => {
      const body = key.slice(engineStart.length);
      return body.slice(0, body.lastIndexOf('}:'));
    },
    parseSpeculative: (key) => key.slice(specStart.length, -1),
  };
}

/**
 * The gateway's shared no-hit-LRU state: a ZSET `pod → use counter` and the counter itself, under
 * one hash tag so that the update script touches one Redis Cluster slot. Shared so that gateway
 * replicas rank cold requests alike.
 */
export function noHitLruKeys(prefix: string = DEFAULT_REDIS_PREFIX): { lru: string; counter: string } {
  return { lru: `${prefix}:{nohit}:lru`, counter: `${prefix}:{nohit}:counter` };
}
