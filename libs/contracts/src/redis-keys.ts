/**
 * Redis key layout of the block index. Every key the product reads or writes is built here.
 * All keys start with a configurable prefix (default `kvr`) so that several fleets can share a
 * Redis, and carry a `{...}` hash tag where keys must live in one Redis Cluster slot for a
 * multi-key script.
 *
 *   <p>:blk:<requestKey>            HASH  field `<pod>|<tier>` → live engine blocks of the pod with
 *                                         that request key (vLLM may hold copies)
 *   <p>:spec:<requestKey>           ZSET  member `<pod>` → expiry (ms) of a speculative entry
 *   <p>:eng:{<pod>}                 HASH  field `<tier>|<engineKey>` → `<copies>|<R1>,<R2>…`
 *   <p>:pod:{<pod>}                 HASH  epoch, seq (empty after a reset), fence
 *   <p>:pods                        SET   every pod with a position
 *   <p>:gen                         STRING generation id, set by the first indexer on an empty Redis;
 *                                         missing or changed = the index was lost: replay the stream
 *
 * The Redis backend (libs/kv-index-redis) writes exactly this; its scripts document the details.
 *
 * Hashes are unsigned 64-bit decimals. The request key embeds the model (its root is seeded
 * with the model name), so block keys need no model component.
 */
export const DEFAULT_REDIS_PREFIX = 'kvr';

export interface RedisKeys {
  block(requestKey: bigint | string): string;
  speculative(requestKey: bigint | string): string;
  engine(podId: string): string;
  pod(podId: string): string;
  pods(): string;
  generation(): string;
}

export function redisKeys(prefix: string = DEFAULT_REDIS_PREFIX): RedisKeys {
  return {
    block: (requestKey) => `${prefix}:blk:${requestKey.toString()}`,
    speculative: (requestKey) => `${prefix}:spec:${requestKey.toString()}`,
    engine: (podId) => `${prefix}:eng:{${podId}}`,
    pod: (podId) => `${prefix}:pod:{${podId}}`,
    pods: () => `${prefix}:pods`,
    generation: () => `${prefix}:gen`,
  };
}

/** Field of a block hash: which pod holds the block, on which device tier. */
export function blockField(podId: string, tier: string): string {
  return `${podId}|${tier}`;
}

export function parseBlockField(field: string): { podId: string; tier: string } {
  const bar = field.lastIndexOf('|');
  return bar < 0 ? { podId: field, tier: 'gpu' } : { podId: field.slice(0, bar), tier: field.slice(bar + 1) };
}

/**
 * The gateway's shared no-hit-LRU state: a ZSET `pod → use counter` and the counter itself, under
 * one hash tag so that the update script touches one Redis Cluster slot. Shared so that gateway
 * replicas rank cold requests alike.
 */
export function noHitLruKeys(prefix: string = DEFAULT_REDIS_PREFIX): { lru: string; counter: string } {
  return { lru: `${prefix}:{nohit}:lru`, counter: `${prefix}:{nohit}:counter` };
}
