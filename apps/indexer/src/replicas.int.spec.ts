/**
 * Two `kvr indexer` processes share the partitions fairly; SIGKILLing one moves its partitions
 * to the other, and the index still converges to the pods' resident blocks. Real: every process
 * (sims, collector, two indexers), nats-server -js, redis-server. Mocked: nothing.
 */
import Redis from 'ioredis';
import { createBlockKeyer } from '@kvr/block-keys';
import { RedisBlockIndex } from '@kvr/kv-index-redis';
import { discoveryPodsFor, indexedBlocks, residentBlocks, startApp, startNats, startRedis, startSimFleet, waitFor, type AppProcess, type NatsServerHandle, type RedisServerHandle, type SimFleet } from '@kvr/testing';

const BS = 16;
const MODEL = 'Qwen/Qwen3-32B';

describe('indexer replicas', () => {
  let nats: NatsServerHandle;
  let redisServer: RedisServerHandle;
  let fleet: SimFleet;
  const processes: AppProcess[] = [];

  beforeAll(async () => {
    [nats, redisServer] = await Promise.all([startNats(), startRedis()]);
    fleet = await startSimFleet({ pods: 2, timeScale: 50, args: ['--num-gpu-blocks', '48', '--block-size', String(BS)] });
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await fleet?.stop();
    await Promise.all([nats?.stop(), redisServer?.stop()]);
  });

  const owned = async (indexer: AppProcess): Promise<number[]> =>
    ((await (await fetch(`${String(indexer.listen['http'])}/ready`)).json()) as { details: { partitions: number[] } }).details.partitions;

  const send = async (round: number): Promise<void> => {
    for (let g = 0; g < 5; g++) {
      const pod = fleet.pods[(g + round) % 2]!;
      const prompt = [...Array.from({ length: 160 }, (_, i) => 1000 * (g + 1) + i), ...Array.from({ length: 40 }, (_, i) => 90_000 + round * 100 + g * 10 + i)];
      const res = await fetch(`${pod.http}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt, max_tokens: 4 }) });
      expect(res.status).toBe(200);
    }
  };

  it('share partitions, survive a SIGKILL, and keep the index equal to the pods', async () => {
    const specs = discoveryPodsFor(fleet.pods, MODEL);
    processes.push(await startApp('collector', ['--probe-port', '0'], { env: { KVR_NATS: nats.url, KVR_PARTITIONS: '4', KVR_DISCOVERY__PODS: JSON.stringify(specs), KVR_LOG_LEVEL: 'warn' } }));
    const env = (name: string): Record<string, string> => ({ KVR_NATS: nats.url, KVR_REDIS: redisServer.url, KVR_PARTITIONS: '4', KVR_BLOCK_SIZE: String(BS), KVR_LEASE_TTL_SECONDS: '2', KVR_INSTANCE: name, KVR_LOG_LEVEL: 'warn' });
    const a = await startApp('indexer', ['--grpc', '127.0.0.1:0', '--probe-port', '0'], { env: env('a') });
    processes.push(a);
    await waitFor(async () => ((await owned(a)).length === 4 ? true : undefined), { what: 'the first replica to take every partition' });
    await send(0);
    const lagged = async (indexer: AppProcess): Promise<number[]> =>
      [...(await (await fetch(`${String(indexer.listen['http'])}/metrics`)).text()).matchAll(/^kvr_indexer_consumer_lag\{[^}]*partition="(\d+)"/gm)].map((m) => Number(m[1])).sort();
    await waitFor(async () => ((await lagged(a)).length > 0 ? true : undefined), { what: 'consumer lag reported' });
    const b = await startApp('indexer', ['--grpc', '127.0.0.1:0', '--probe-port', '0'], { env: env('b') });
    processes.push(b);
    await waitFor(async () => ((await owned(a)).length === 2 && (await owned(b)).length === 2 ? true : undefined), { what: 'a fair share of 2 partitions each', timeoutMs: 20_000 });
    expect([...(await owned(a)), ...(await owned(b))].sort()).toEqual([0, 1, 2, 3]);
    // A partition handed back is no longer reported by the replica that gave it up.
    const ownedByA = await owned(a);
    expect((await lagged(a)).every((p) => ownedByA.includes(p))).toBe(true);

    await send(1);
    a.child.kill('SIGKILL');
    await send(2);
    await waitFor(async () => ((await owned(b)).length === 4 ? true : undefined), { what: 'the survivor to take every partition', timeoutMs: 20_000 });

    const redis = new Redis(redisServer.url);
    const index = new RedisBlockIndex({ redis, keyer: createBlockKeyer({ modelName: MODEL, blockSize: BS }) });
    try {
      let last = '';
      await waitFor(
        async () => {
          const [truth, indexed] = await Promise.all([residentBlocks(fleet.pods), indexedBlocks(index)]);
          const same = truth.size > 0 && truth.size === indexed.size && [...truth].every((k) => indexed.has(k));
          last = `truth ${truth.size}, index ${indexed.size}`;
          return same ? true : undefined;
        },
        { what: "the index to equal the pods' blocks after the kill", timeoutMs: 30_000 },
      ).catch((err: unknown) => {
        throw new Error(`${String(err)} (${last})`);
      });
    } finally {
      redis.disconnect();
    }
  });
});
