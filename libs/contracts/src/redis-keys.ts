/**
 * Redis key layout of the block index. Every key the product reads or writes is built here.
 * All keys start with a configurable prefix (default `kvr`) so that several fleets can share a
 * Redis, and carry a `{...}` hash tag where keys must live in one Redis Cluster slot for a
 * multi-key script.
 *
 *   <p>:held:{<pod>}:<tier>         HASH  field `<requestKey>` → live engine blocks of the pod with
 *                                         that request key on that tier (vLLM may hold copies)
 *   <p>:spec:{<pod>}                ZSET  member `<requestKey>` → expiry (ms) of a speculative entry
 *   <p>:eng:{<pod>}                 HASH  field `<tier>|<engineKey>` → `<copies>|<R1>,<R2>…`
 *   <p>:pod:{<pod>}                 HASH  epoch, seq (empty after a reset), fence
 *   <p>:pods                        SET   every pod with a position
 *   <p>:gen                         STRING generation id, set by the first indexer on an empty Redis;
 *                                         missing or changed = the index was lost: replay the stream
 *
 * The Redis backend (libs/kv-index-redis) writes exactly this; its scripts document the details.
 * Per pod rather than per request key: a lookup asks each candidate pod once for all of the
 * request's keys (one HMGET per pod and tier) instead of once per key, and every write touches
 * one pod's keys only.
 *
 * Hashes are unsigned 64-bit decimals. The request key embeds the model (its root is seeded
 * with the model name), so block keys need no model component.
 */
export const DEFAULT_REDIS_PREFIX = 'kvr';

export interface RedisKeys {
  held(podId: string, tier: string): string;
  speculative(podId: string): string;
  engine(podId: string): string;
  pod(podId: string): string;
  pods(): string;
  generation(): string;
  /** SCAN MATCH pattern of every pod's held hashes, or of one pod's (its id escaped: `[fd00::1]:8000`). */
  heldPattern(podId?: string): string;
  /** SCAN MATCH pattern of every pod's speculative set, or of one pod's. */
  speculativePattern(podId?: string): string;
  /** SCAN MATCH pattern of every pod's engine map. */
  enginePattern(): string;
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
  return {
    held: (podId, tier) => `${heldStart}${podId}}:${tier}`,
    speculative: (podId) => `${specStart}${podId}}`,
    engine: (podId) => `${prefix}:eng:{${podId}}`,
    pod: (podId) => `${prefix}:pod:{${podId}}`,
    pods: () => `${prefix}:pods`,
    generation: () => `${prefix}:gen`,
    heldPattern: (podId) => (podId === undefined ? `${prefix}:held:*` : `${heldStart}${escapeGlob(podId)}}:*`),
    speculativePattern: (podId) => (podId === undefined ? `${prefix}:spec:*` : `${specStart}${escapeGlob(podId)}}`),
    enginePattern: () => `${prefix}:eng:*`,
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
