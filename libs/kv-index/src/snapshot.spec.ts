import { createBlockKeyer } from '@kvr/block-keys';
import { MemoryBlockIndex, SnapshotFormatError, decodeSnapshot, encodeSnapshot, type IndexSnapshot } from './index';
import { PodStream, stored } from './testing';

const keyer = createBlockKeyer({ modelName: 'm', blockSize: 4 });

async function sampleSnapshot(): Promise<IndexSnapshot> {
  const index = new MemoryBlockIndex({ keyer });
  const a = new PodStream('10.0.0.1:8000');
  await index.apply(a.batch(stored([2n ** 64n - 1n, 2n ** 63n + 5n], [1, 2, 3, 4, 5, 6, 7, 8])));
  await index.apply(a.batch(stored([2n ** 64n - 1n], [], { medium: 'CPU' })));
  await index.apply(new PodStream('[fd00::1]:8000', 3).reset());
  const pods = await Promise.all((await index.pods()).map(async (pod) => (await index.exportPod(pod))!));
  return { partition: 2, partitions: 8, streamSeq: 1234, takenAt: 1_790_000_000_000, blockSize: 4, hashSeed: '', pods };
}

describe('index snapshot format', () => {
  it('round-trips every pod state exactly, 64-bit keys included', async () => {
    const snapshot = await sampleSnapshot();
    const text = encodeSnapshot(snapshot);
    expect(text).toContain('"18446744073709551615"');
    expect(decodeSnapshot(text)).toEqual(snapshot);
    // A pod right after a reset has no sequence and may have no blocks and no model yet.
    expect(decodeSnapshot(text).pods.find((p) => p.pod === '[fd00::1]:8000')).toEqual({ pod: '[fd00::1]:8000', model: null, position: { epoch: 4, seq: null }, blocks: [] });
  });

  it('restores into an index that answers lookups as the original did', async () => {
    const snapshot = decodeSnapshot(encodeSnapshot(await sampleSnapshot()));
    const index = new MemoryBlockIndex({ keyer });
    for (const pod of snapshot.pods) await index.replacePod(pod);
    const match = await index.lookup(keyer.keysForTokens([1, 2, 3, 4, 5, 6, 7, 8]), ['10.0.0.1:8000']);
    expect(match.pods[0]).toMatchObject({ matchedBlocks: 2 });
  });

  it.each([
    ['not json', '{', /not JSON/],
    ['another format', JSON.stringify({ format: 2 }), /format 2 is not supported/],
    ['a partition beyond the count', JSON.stringify({ format: 1, partition: 8, partitions: 8, streamSeq: 1, takenAt: 1, blockSize: 4, hashSeed: '', pods: [] }), /partition 8 is not below/],
    ['a precision-losing number key', JSON.stringify({ format: 1, partition: 0, partitions: 1, streamSeq: 1, takenAt: 1, blockSize: 4, hashSeed: '', pods: [{ pod: 'p', model: null, epoch: 0, seq: null, blocks: [['gpu', 18446744073709552000, 1, '']] }] }), /pod 0 \(p\) block 0 engine key: expected an unsigned 64-bit decimal string/],
    ['a key above 2^64', JSON.stringify({ format: 1, partition: 0, partitions: 1, streamSeq: 1, takenAt: 1, blockSize: 4, hashSeed: '', pods: [{ pod: 'p', model: null, epoch: 0, seq: null, blocks: [['gpu', '1', 1, '18446744073709551616']] }] }), /request key 0: 18446744073709551616 exceeds/],
    ['zero copies', JSON.stringify({ format: 1, partition: 0, partitions: 1, streamSeq: 1, takenAt: 1, blockSize: 4, hashSeed: '', pods: [{ pod: 'p', model: null, epoch: 0, seq: null, blocks: [['gpu', '1', 0, '']] }] }), /copies: expected an integer ≥ 1/],
  ])('rejects %s with a message that says where', (_name, text, message) => {
    expect(() => decodeSnapshot(text)).toThrow(SnapshotFormatError);
    expect(() => decodeSnapshot(text)).toThrow(message);
  });
});
