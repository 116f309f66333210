/**
 * Differential check: simulated vLLM engines (libs/sim-engine: real block pool, scheduler,
 * evictions, duplicate copies, resets) produce event streams; the in-memory and the Redis index
 * consume them; both must equal each other and the engines' own resident blocks.
 * real: redis-server, ioredis, sim-engine; mock: nothing.
 */
import Redis from 'ioredis';
import { createBlockKeyer } from '@kvr/block-keys';
import { MemoryBlockIndex, type BlockIndex, type PodMessage } from '@kvr/kv-index';
import { BlockPool, createEngineHasher, Scheduler } from '@kvr/sim-engine';
import { createPrng, startRedis, type RedisServerHandle } from '@kvr/testing';
import { RedisBlockIndex } from './index';

const BS = 4;
const MODEL = 'm';

describe('Redis index vs in-memory index vs the engines', () => {
  let server: RedisServerHandle;
  let redis: Redis;
  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });

  it('agree on every resident block after a random workload with evictions, copies and resets', async () => {
    const keyer = createBlockKeyer({ modelName: MODEL, blockSize: BS });
    const indexes: BlockIndex[] = [new MemoryBlockIndex({ keyer }), new RedisBlockIndex({ redis, keyer, prefix: 'diff' })];
    const prng = createPrng(99);
    const pods = ['p0', 'p1', 'p2'].map((pod) => {
      const pool = new BlockPool({ numBlocks: 24, blockSize: BS, hashFormat: 'int' });
      const scheduler = new Scheduler(pool, createEngineHasher('sha256_cbor', pod === 'p2' ? '1' : null), { maxNumSeqs: 3, maxNumBatchedTokens: 16, maxModelLen: 1000 }, () => 7, (request, first, count) =>
        keyer.keysForTokens(request.tokens).slice(first, first + count),
      );
      return { pod, pool, scheduler, seq: 0n };
    });
    const prefixes = Array.from({ length: 4 }, (_, i) => Array.from({ length: 8 }, (_, k) => 1000 * (i + 1) + k));
    const seen = { BlockStored: 0, BlockRemoved: 0, AllBlocksCleared: 0 };
    const feed = async (message: PodMessage): Promise<void> => {
      if (message.kind === 'batch') for (const event of message.batch.events) seen[event.type]++;
      for (const index of indexes) expect((await index.apply(message)).outcome).toBe('applied');
    };
    for (let step = 0; step < 400; step++) {
      const target = pods[prng.int(pods.length)]!;
      if (prng.chance(0.5)) {
        const prefix = prefixes[prng.int(prefixes.length)]!;
        const tail = Array.from({ length: prng.int(10) }, () => prng.int(50));
        try {
          target.scheduler.add({ id: String(step), promptTokenIds: [...prefix, ...tail], maxTokens: 1 + prng.int(5) });
        } catch {
          // too long for this tiny pod: skip
        }
      }
      const plan = target.scheduler.schedule();
      target.scheduler.complete(plan);
      let events = [...plan.events];
      if (prng.chance(0.02) && !target.scheduler.hasWork && target.scheduler.resetPrefixCache()) events = [...events, ...target.scheduler.takeEvents()];
      if (events.length > 0) await feed({ kind: 'batch', pod: target.pod, model: MODEL, epoch: 0, seq: target.seq++, batch: { ts: step, events, dataParallelRank: 0 } });
    }
    // Truth: each engine's resident blocks, labelled with request keys.
    const truth = new Set<string>();
    for (const { pod, pool } of pods) for (const block of pool.residentBlocks()) truth.add(`${block.requestKey}|${pod}`);
    expect(truth.size).toBeGreaterThan(10);
    // The workload did exercise evictions and resets, not only stores.
    expect(seen.BlockRemoved).toBeGreaterThan(20);
    expect(seen.AllBlocksCleared).toBeGreaterThan(0);
    for (const index of indexes) {
      const dumped = new Set((await index.dump()).filter((e) => !e.speculative).map((e) => `${e.requestKey}|${e.pod}`));
      expect([...dumped].sort()).toEqual([...truth].sort());
    }
    for (const prefix of prefixes) {
      const keys = keyer.keysForTokens(prefix);
      const [memory, viaRedis] = await Promise.all(indexes.map((index) => index.lookup(keys, ['p0', 'p1', 'p2'])));
      expect(viaRedis).toEqual(memory);
    }
  });
});
