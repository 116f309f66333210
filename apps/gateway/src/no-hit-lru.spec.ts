import { noHitLruKeys } from '@kvr/contracts';
import type Redis from 'ioredis';
import { LocalNoHitLru, SharedNoHitLru } from './no-hit-lru';

/** The two commands the LRU sends, recorded; each answers what the test set or fails when `down`. */
function fakeRedis(order: string[] = []) {
  const calls: { command: string; args: unknown[] }[] = [];
  const state = { down: false, order };
  const redis = {
    zrange: (...args: unknown[]) => {
      calls.push({ command: 'zrange', args });
      return state.down ? Promise.reject(new Error('Connection is closed.')) : Promise.resolve([...state.order]);
    },
    eval: (...args: unknown[]) => {
      calls.push({ command: 'eval', args });
      return state.down ? Promise.reject(new Error('Connection is closed.')) : Promise.resolve(1);
    },
  } as unknown as Redis;
  return { redis, calls, state };
}

describe('SharedNoHitLru', () => {
  it('reads the whole ZSET under the prefix, oldest first, and remembers it', async () => {
    const { redis, calls } = fakeRedis(['a', 'b']);
    const lru = new SharedNoHitLru(redis, 'kvr-test');
    expect(lru.localOrder()).toEqual([]);
    expect(await lru.order()).toEqual(['a', 'b']);
    expect(calls).toEqual([{ command: 'zrange', args: [noHitLruKeys('kvr-test').lru, 0, -1] }]);
    expect(lru.localOrder()).toEqual(['a', 'b']);
  });

  it('rejects when Redis fails, keeping the last order read', async () => {
    const { redis, state } = fakeRedis(['a', 'b']);
    const lru = new SharedNoHitLru(redis, 'kvr');
    await lru.order();
    state.down = true;
    await expect(lru.order()).rejects.toThrow('Connection is closed.');
    expect(lru.localOrder()).toEqual(['a', 'b']);
  });

  it('touches with the script over the LRU and counter keys, the pod and the capacity', async () => {
    const { redis, calls } = fakeRedis();
    const lru = new SharedNoHitLru(redis, 'kvr', 16);
    await lru.touch('pod-1');
    const keys = noHitLruKeys('kvr');
    expect(calls).toHaveLength(1);
    const [script, numKeys, ...rest] = calls[0]!.args;
    expect(calls[0]!.command).toBe('eval');
    expect(script).toContain('INCR');
    expect(numKeys).toBe(2);
    expect(rest).toEqual([keys.lru, keys.counter, 'pod-1', '16']);
  });

  it('moves a touched pod to the most recent end of the local order, even when Redis fails', async () => {
    const { redis, state } = fakeRedis(['a', 'b', 'c']);
    const lru = new SharedNoHitLru(redis, 'kvr');
    await lru.order();
    state.down = true;
    await expect(lru.touch('a')).rejects.toThrow();
    expect(lru.localOrder()).toEqual(['b', 'c', 'a']);
    await expect(lru.touch('d')).rejects.toThrow();
    expect(lru.localOrder()).toEqual(['b', 'c', 'a', 'd']);
  });

  it('keeps at most `capacity` pods locally, dropping the least recent', async () => {
    const { redis } = fakeRedis();
    const lru = new SharedNoHitLru(redis, 'kvr', 2);
    await lru.touch('a');
    await lru.touch('b');
    await lru.touch('c');
    expect(lru.localOrder()).toEqual(['b', 'c']);
  });
});

describe('LocalNoHitLru', () => {
  it('keeps the order in the process: least recently chosen first, bounded', async () => {
    const lru = new LocalNoHitLru(3);
    expect(await lru.order()).toEqual([]);
    for (const pod of ['a', 'b', 'c', 'a', 'd']) await lru.touch(pod);
    expect(await lru.order()).toEqual(['c', 'a', 'd']);
    expect(lru.localOrder()).toEqual(['c', 'a', 'd']);
  });
});
