// real: nats-server -js (spawned by @kvr/testing on a free port), nats.js Object Store; mock: nothing.
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { IndexSnapshot } from '@kvr/kv-index';
import { startNats, type NatsServerHandle } from '@kvr/testing';
import { SnapshotStore } from './index';

function snapshot(partition: number, streamSeq: number, pods: number, blocksPerPod: number): IndexSnapshot {
  return {
    partition,
    partitions: 4,
    streamSeq,
    takenAt: 1_790_000_000_000 + streamSeq,
    blockSize: 64,
    hashSeed: 'seed',
    pods: Array.from({ length: pods }, (_, p) => ({
      pod: `10.0.0.${p}:8000`,
      model: 'Qwen/Qwen3-32B',
      position: { epoch: 1, seq: BigInt(streamSeq) },
      blocks: Array.from({ length: blocksPerPod }, (_, b) => ({ tier: 'gpu', engineKey: 2n ** 63n + BigInt(p * 1_000_003 + b), copies: 1, requestKeys: [2n ** 64n - 1n - BigInt(b)] })),
    })),
  };
}

describe('SnapshotStore on a real server', () => {
  let nats: NatsServerHandle;
  let nc: NatsConnection;

  beforeAll(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url });
  });
  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  it('keeps the newest snapshot per partition, lists them without reading, and reads large ones back exactly', async () => {
    const store = await SnapshotStore.open(nc, { bucket: 'snapshots_test' });
    expect(await store.get(0)).toBeNull();
    expect(await store.list()).toEqual([]);
    await store.put(snapshot(0, 10, 1, 3));
    // 8 pods × 5k blocks: MBs of JSON, still above the store's 128 KiB chunk once compressed.
    const big = snapshot(0, 25, 8, 5_000);
    const info = await store.put(big);
    expect(info).toMatchObject({ partition: 0, partitions: 4, streamSeq: 25, pods: 8, blocks: 40_000, blockSize: 64, hashSeed: 'seed' });
    expect(info.bytes).toBeGreaterThan(128 * 1024);
    await store.put(snapshot(3, 7, 2, 1));
    expect((await store.list()).map((i) => [i.partition, i.streamSeq, i.pods])).toEqual([
      [0, 25, 8],
      [3, 7, 2],
    ]);
    expect(await store.get(0)).toEqual(big);
    // Reopening (another process) sees the same objects.
    const again = await SnapshotStore.open(nc, { bucket: 'snapshots_test' });
    expect((await again.info(3))?.streamSeq).toBe(7);
    await again.delete(3);
    expect(await again.get(3)).toBeNull();
  });
});
