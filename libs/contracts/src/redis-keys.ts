/**
 * Redis key layout of the block index. Every key the product reads or writes is built here.
 * All keys start with a configurable prefix (default `kvr`) so that several fleets can share a
 * Redis, and carry a `{...}` hash tag where keys must live in one Redis Cluster slot for a
 * multi-key script.
 *
 *   <p>:held:{<pod>}:<tier>         HASH  field `<requestKey>` → live engine blocks of the pod with
 *                                         that request key on that tier (vLLM may hold copies)
 *   <p>:spec:{<pod>}                ZSET  member `<requestKey>` → expiry (ms) of a speculative entry
 *   <p>:eng:{<pod>}:<tier>:<b>      HASH  the pod's engine map, in ENGINE_BUCKETS buckets per tier
 *                                         (b = engineBucketOf(engineKey)): field `<engineKey>` →
 *                                         `<R>` (one copy, one request key), else `<copies>|<R1>,<R2>…`
 *   <p>:pod:{<pod>}                 HASH  epoch, seq (empty after a reset), fence, model, and
 *                                         `t:<tier>` for each tier besides gpu and cpu with buckets
 *   <p>:pods                        SET   every pod with a position
 *   <p>:gen:<layout>                STRING generation id, set by the first indexer on an empty Redis;
 *                                         missing or changed = the index was lost: replay the stream.
 *                                         The key names the layout version, so that a Redis written
 *                                         under another layout counts as lost and is rebuilt.
 *
 * The Redis backend (libs/kv-index-redis) writes exactly this; its scripts document the details.
 * Per pod rather than per request key: a lookup asks each candidate pod once for all of the
 * request's keys (one HMGET per pod and tier) instead of once per key, and every write touches
 * one pod's keys only.
 *
 * Hashes are unsigned 64-bit decimals. The request key embeds the model (its root is seeded
 * with the model name), so block keys need no model component.
 *
 * Why the engine map is bucketed: it is read by engine key only (an event's parent, a removal),
 * never scanned by lookups, so it can live in small hashes that Redis keeps as listpacks (up to
 * hash-max-listpack-entries fields, 128 by default and 512 on Debian): about 40 B per engine key
 * against 115 B in one hashtable per pod (measured on Redis 7.0 with 5,120 keys per pod). 256
 * buckets keep pods of up to 32k–131k blocks per tier compact; a bigger bucket turns into a
 * hashtable, which costs memory, never correctness.
 */
export const DEFAULT_REDIS_PREFIX = 'kvr';

/** Version of this layout; a Redis holding another one is rebuilt from snapshots and the stream. */
export const REDIS_LAYOUT_VERSION = 2;

/** Buckets of a pod's engine map per tier (the Lua scripts use the same number). */
export const ENGINE_BUCKETS = 256;

/**
 * The bucket of an engine key (unsigned 64-bit decimal): its last six digits modulo
 * ENGINE_BUCKETS, which Lua computes exactly too (its numbers are doubles: a whole uint64 is not).
 */
export function engineBucketOf(engineKey: string): number {
  return Number(engineKey.slice(-6)) % ENGINE_BUCKETS;
}

export interface RedisKeys {
  held(podId: string, tier: string): string;
  speculative(podId: string): string;
  /** One bucket of the pod's engine map on a tier (see engineBucketOf). */
  engineBucket(podId: string, tier: string, bucket: number): string;
  /** The pod's engine map of the layout before buckets (one hash): deleted when the pod is cleared. */
  legacyEngine(podId: string): string;
  pod(podId: string): string;
  pods(): string;
  generation(): string;
  /** SCAN MATCH pattern of every pod's held hashes, or of one pod's (its id escaped: `[fd00::1]:8000`). */
  heldPattern(podId?: string): string;
  /** SCAN MATCH pattern of every pod's speculative set, or of one pod's. */
  speculativePattern(podId?: string): string;
  /** SCAN MATCH pattern of every engine bucket of every pod. */
  enginePattern(): string;
  /** The pod an engine-bucket key belongs to. */
  parseEngine(key: string): string;
  /** The pod and tier a held-hash key belongs to. */
  parseHeld(key: string): { podId: string; tier: string };
  /** The pod a speculative-set key belongs to. */
  parseSpeculative(key: string): string;
}

/** SCAN MATCH treats `*?[]\\` as pattern syntax; pod ids may contain brackets. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

export function redisKeys(prefix: string = DEFAULT_REDIS_PREFIX): RedisKeys {
  const heldStart = `${prefix}:held:{`;
  const specStart = `${prefix}:spec:{`;
  const engineStart = `${prefix}:eng:{`;
  return {
    held: (podId, tier) => `${heldStart}${podId}}:${tier}`,
    speculative: (podId) => `${specStart}${podId}}`,
    engineBucket: (podId, tier, bucket) => `${engineStart}${podId}}:${tier}:${bucket}`,
    legacyEngine: (podId) => `${engineStart}${podId}}`,
    pod: (podId) => `${prefix}:pod:{${podId}}`,
    pods: () => `${prefix}:pods`,
    generation: () => `${prefix}:gen:${REDIS_LAYOUT_VERSION}`,
    heldPattern: (podId) => (podId === undefined ? `${prefix}:held:*` : `${heldStart}${escapeGlob(podId)}}:*`),
    speculativePattern: (podId) => (podId === undefined ? `${prefix}:spec:*` : `${specStart}${escapeGlob(podId)}}`),
    enginePattern: () => `${prefix}:eng:*`,
    parseEngine: (key) => {
      const body = key.slice(engineStart.length);
      return body.slice(0, body.lastIndexOf('}:'));
    },
    parseHeld: (key) => {
      const body = key.slice(heldStart.length);
      const close = body.lastIndexOf('}:');
      return { podId: body.slice(0, close), tier: body.slice(close + 2) };
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
