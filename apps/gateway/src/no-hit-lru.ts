/**
 * The no-hit-LRU scorer's state, shared by every gateway replica through Redis so that replicas
 * rank cold requests alike: a ZSET `pod → use counter`, where the counter is a Redis INCR (one
 * clock for all replicas). Redis down: a local copy keeps the scorer working (replicas may then
 * disagree on cold requests), counted as a fallback by the caller.
 */
import { noHitLruKeys } from '@kvr/contracts';
import type Redis from 'ioredis';

const TOUCH = `
local n = redis.call('INCR', KEYS[2])
redis.call('ZADD', KEYS[1], n, ARGV[1])
local excess = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[2])
if excess > 0 then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, excess - 1) end
return n
`;

/** The scorer's view of the no-hit-LRU state, wherever it lives. */
export interface NoHitLru {
  /** Pods chosen for cold requests, least recently first. Rejects when the shared state fails. */
  order(): Promise<string[]>;
  /** The order the scorer falls back to when `order` fails. */
  localOrder(): string[];
  /** Marks `pod` as the most recently chosen for a cold request. */
  touch(pod: string): Promise<void>;
}

/** Most pods remembered. */
const CAPACITY = 1024;

/** `order` with `pod` moved (or added) to the most recent end, the oldest beyond `capacity` dropped. */
function touched(order: readonly string[], pod: string, capacity: number): string[] {
  return [...order.filter((p) => p !== pod), pod].slice(-capacity);
}

/** In this process only: for a gateway without Redis (one replica, or the standalone stack). */
export class LocalNoHitLru implements NoHitLru {
  private local: string[] = [];

  constructor(private readonly capacity = CAPACITY) {}

  async order(): Promise<string[]> {
    return this.local;
  }

  localOrder(): string[] {
    return this.local;
  }

  async touch(pod: string): Promise<void> {
    this.local = touched(this.local, pod, this.capacity);
  }
}

export class SharedNoHitLru implements NoHitLru {
  private readonly keys: { lru: string; counter: string };
  /** Last order read or written, oldest first: what the scorer uses when Redis fails. */
  private local: string[] = [];

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly capacity = CAPACITY,
  ) {
    this.keys = noHitLruKeys(prefix);
  }

  /** Pods chosen for cold requests, least recently first. Rejects when Redis fails. */
  async order(): Promise<string[]> {
    const order = await this.redis.zrange(this.keys.lru, 0, -1);
    this.local = order;
    return order;
  }

  /** The order the scorer falls back to when Redis fails. */
  localOrder(): string[] {
    return this.local;
  }

  /** Marks `pod` as the most recently chosen for a cold request. */
  async touch(pod: string): Promise<void> {
    this.local = touched(this.local, pod, this.capacity);
    await this.redis.eval(TOUCH, 2, this.keys.lru, this.keys.counter, pod, String(this.capacity));
  }
}
