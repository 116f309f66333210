/**
 * Redis key layout of the block index. Every key the product reads or writes is built here.
 * All keys start with a configurable prefix (default `kvr`) so that several fleets can share a
 * Redis, and carry a `{...}` hash tag where keys must live in one Redis Cluster slot for a
 * multi-key script.
 *
 *   <p>:blk:<requestKey>            HASH  field `<pod>|<tier>` → engine epoch that stored it;
 *                                         the pods holding one request block
 *   <p>:eng:{<pod>}:<engineKey>     STRING request key (decimal) the engine key maps to
 *   <p>:pod:{<pod>}                 HASH  appliedEpoch, appliedSeq, model, blockSize, updatedAt
 *   <p>:pods                        SET   every pod with anything indexed
 *
 * Hashes are unsigned 64-bit decimals. The request key embeds the model (its root is seeded
 * with the model name), so block keys need no model component.
 */
export const DEFAULT_REDIS_PREFIX = 'kvr';

export interface RedisKeys {
  block(requestKey: bigint | string): string;
  engine(podId: string, engineKey: bigint | string): string;
  pod(podId: string): string;
  pods(): string;
}

export function redisKeys(prefix: string = DEFAULT_REDIS_PREFIX): RedisKeys {
  return {
    block: (requestKey) => `${prefix}:blk:${requestKey.toString()}`,
    engine: (podId, engineKey) => `${prefix}:eng:{${podId}}:${engineKey.toString()}`,
    pod: (podId) => `${prefix}:pod:{${podId}}`,
    pods: () => `${prefix}:pods`,
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
