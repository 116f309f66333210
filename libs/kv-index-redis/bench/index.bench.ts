// The Redis block index: lookup latency, ingest throughput beside a raw pipeline writing the same
// keys, and memory per (block, pod) entry. One private redis-server, the index through ioredis.
import Redis from 'ioredis';
import { createBlockKeyer } from '@kvr/block-keys';
import { encodeKey, engineBucketOf } from '@kvr/contracts';
import { vllmBlockStoredEvent } from '@kvr/kv-events/testing';
import { startRedis, type ScenarioRow, type ScenarioSuite } from '@kvr/testing';
import { RedisBlockIndex } from '../src/index';

const BLOCK_SIZE = 64;
const PODS = 8;
const CHAINS_PER_POD = 40;
const BLOCKS_PER_CHAIN = 128;
const LOOKUPS = 2_000;
const SMALL_CHAINS = 3;

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? Number.NaN;
}

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

const suite: ScenarioSuite = {
  kind: 'scenario',
  title: 'kv-index-redis: lookup latency, ingest and memory per entry',
  notes: `${PODS} pods × ${CHAINS_PER_POD} prompts × ${BLOCKS_PER_CHAIN} blocks of ${BLOCK_SIZE} tokens (${(PODS * CHAINS_PER_POD * BLOCKS_PER_CHAIN).toLocaleString('en-US')} entries; pods share the first half of every prompt, so keys have 1–8 holders). Ingest: one batch per prompt (one BlockStored of ${BLOCKS_PER_CHAIN} blocks) through apply(); the raw baseline pipelines the same HSET writes (holder bitmap per request key, engine-map bucket per block) without reads, ordering or scripts. Lookup: ${BLOCKS_PER_CHAIN} keys × ${PODS} candidate pods, one script call, from this process (round trip included); again on a second index whose pods hold ${SMALL_CHAINS} prompts each (small per-pod hashes), and for a prompt no pod holds. Memory: Redis used_memory growth ÷ entries, engine maps included. Targets: lookup p99 ≤ 1 ms, ingest within 2× of raw, ≤ 80 B per entry.`,
  async run(): Promise<ScenarioRow[]> {
    const server = await startRedis();
    const redis = new Redis(server.url);
    try {
      const keyer = createBlockKeyer({ modelName: 'Qwen/Qwen3-32B', blockSize: BLOCK_SIZE });
      const index = new RedisBlockIndex({ redis, keyer, prefix: 'bench' });
      const chains = Array.from({ length: CHAINS_PER_POD }, (_, c) =>
        Array.from({ length: BLOCKS_PER_CHAIN * BLOCK_SIZE }, (_, i) => (i < (BLOCKS_PER_CHAIN / 2) * BLOCK_SIZE ? 1_000_000 * (c + 1) + i : 50_000_000 + c * 1_000_000 + i)),
      );
      const before = await usedMemory(redis);
      let engineKey = 1n;
      const started = performance.now();
      for (let p = 0; p < PODS; p++) {
        let seq = 0n;
        for (const tokens of chains) {
          // Pod p's second halves are its own: shift them so pods share only the first half.
          const podTokens = tokens.map((t, i) => (i < (BLOCKS_PER_CHAIN / 2) * BLOCK_SIZE ? t : t + p * 7));
          const event = vllmBlockStoredEvent({ blockHashes: Array.from({ length: BLOCKS_PER_CHAIN }, () => engineKey++), tokenIds: podTokens, blockSize: BLOCK_SIZE });
          await index.apply({ kind: 'batch', pod: `10.0.0.${p}:8000`, model: 'Qwen/Qwen3-32B', epoch: 0, seq: seq++, batch: { ts: 1, events: [event], dataParallelRank: 0 } });
        }
      }
      const ingestSeconds = (performance.now() - started) / 1000;
      const stats = await index.stats();
      const memoryPerEntry = (await usedMemory(redis)) - before;

      // Raw baseline: the same writes (a holder bitmap per key, an engine-map field per block), pipelined.
      const rawStarted = performance.now();
      let rawEngine = 1n;
      for (let p = 0; p < PODS; p++) {
        const podBit = Buffer.alloc(1, 1 << p);
        for (const tokens of chains) {
          const podTokens = tokens.map((t, i) => (i < (BLOCKS_PER_CHAIN / 2) * BLOCK_SIZE ? t : t + p * 7));
          const keys = keyer.keysForTokens(podTokens);
          const pipeline = redis.pipeline();
          for (const key of keys) {
            // The same keys as the index writes (holder bitmap, engine-map bucket), set blindly:
            // no read-modify-write of bitmaps that other pods share, no script.
            const engineKey = rawEngine++;
            pipeline.hset('raw:hold:gpu', encodeKey(key), podBit);
            pipeline.hset(`raw:eng:{10.0.0.${p}:8000}:gpu:${engineBucketOf(engineKey)}`, encodeKey(engineKey), encodeKey(key));
          }
          await pipeline.exec();
        }
      }
      const rawSeconds = (performance.now() - rawStarted) / 1000;

      const candidates = Array.from({ length: PODS }, (_, p) => `10.0.0.${p}:8000`);
      const lookupKeys = chains.map((tokens) => keyer.keysForTokens(tokens.map((t, i) => (i < (BLOCKS_PER_CHAIN / 2) * BLOCK_SIZE ? t : t + 3 * 7))));
      // Small pods (3 prompts each, 384 entries: below Debian's hash-max-listpack-entries of 512),
      // where a pod's held hash would be a listpack without the encoding sentinel.
      const small = new RedisBlockIndex({ redis, keyer, prefix: 'small' });
      let smallEngine = 1n;
      for (let p = 0; p < PODS; p++) {
        let seq = 0n;
        for (const tokens of chains.slice(0, SMALL_CHAINS)) {
          const podTokens = tokens.map((t, i) => (i < (BLOCKS_PER_CHAIN / 2) * BLOCK_SIZE ? t : t + p * 7));
          const event = vllmBlockStoredEvent({ blockHashes: Array.from({ length: BLOCKS_PER_CHAIN }, () => smallEngine++), tokenIds: podTokens, blockSize: BLOCK_SIZE });
          await small.apply({ kind: 'batch', pod: `10.0.0.${p}:8000`, model: 'Qwen/Qwen3-32B', epoch: 0, seq: seq++, batch: { ts: 1, events: [event], dataParallelRank: 0 } });
        }
      }
      // Both indexes are measured in one interleaved loop, after every write, so that neither pays
      // for the other's set-up (garbage collection of the ingest, JIT warm-up).
      for (let i = 0; i < 200; i++) {
        await index.lookup(lookupKeys[i % lookupKeys.length]!, candidates);
        await small.lookup(lookupKeys[i % SMALL_CHAINS]!, candidates);
      }
      const latencies: number[] = [];
      const smallLatencies: number[] = [];
      const coldLatencies: number[] = [];
      // A prompt no pod holds (the common case for most candidates of a request, and for new prompts).
      const coldKeys = keyer.keysForTokens(Array.from({ length: BLOCKS_PER_CHAIN * BLOCK_SIZE }, (_, i) => 900_000_000 + i));
      for (let i = 0; i < LOOKUPS; i++) {
        let t = performance.now();
        await index.lookup(coldKeys, candidates);
        coldLatencies.push(performance.now() - t);
        t = performance.now();
        await index.lookup(lookupKeys[i % lookupKeys.length]!, candidates);
        latencies.push(performance.now() - t);
        t = performance.now();
        await small.lookup(lookupKeys[i % SMALL_CHAINS]!, candidates);
        smallLatencies.push(performance.now() - t);
      }
      latencies.sort((a, b) => a - b);
      smallLatencies.sort((a, b) => a - b);
      coldLatencies.sort((a, b) => a - b);
      const blockOps = PODS * CHAINS_PER_POD * BLOCKS_PER_CHAIN;
      const ingestOps = blockOps / ingestSeconds;
      const rawOps = blockOps / rawSeconds;
      const p99 = quantile(latencies, 0.99);
      const perEntry = memoryPerEntry / stats.entries;
      return [
        { name: 'entries indexed', value: stats.entries, unit: `(${stats.requestKeys.toLocaleString('en-US')} request keys)` },
        { name: 'ingest through apply()', value: ingestOps, unit: 'block ops/s' },
        { name: 'raw pipeline, same writes (baseline)', value: rawOps, unit: 'block ops/s' },
        { name: 'raw ÷ ingest', value: rawOps / ingestOps, unit: '×', target: '≤ 2', met: rawOps / ingestOps <= 2 },
        { name: `lookup p50, ${BLOCKS_PER_CHAIN} keys × ${PODS} pods`, value: quantile(latencies, 0.5), unit: 'ms' },
        { name: `lookup p99, ${BLOCKS_PER_CHAIN} keys × ${PODS} pods`, value: p99, unit: 'ms', target: '≤ 1 ms', met: p99 <= 1 },
        { name: `lookup p50, pods of ${SMALL_CHAINS * BLOCKS_PER_CHAIN} blocks`, value: quantile(smallLatencies, 0.5), unit: 'ms' },
        { name: `lookup p99, pods of ${SMALL_CHAINS * BLOCKS_PER_CHAIN} blocks`, value: quantile(smallLatencies, 0.99), unit: 'ms' },
        { name: `lookup p50, a prompt no pod holds`, value: quantile(coldLatencies, 0.5), unit: 'ms' },
        { name: 'Redis memory per (block, pod) entry', value: perEntry, unit: 'B', target: '≤ 80 B', met: perEntry <= 80 },
      ];
    } finally {
      redis.disconnect();
      await server.stop();
    }
  },
};

export default suite;
