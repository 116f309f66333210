import { MemoryBlockIndex } from './index';
import { createBlockKeyer } from '@kvr/block-keys';
import { describeBlockIndexConformance } from './testing';

describeBlockIndexConformance('in memory', (keyer) => new MemoryBlockIndex({ keyer }));

describe('MemoryBlockIndex speculative entries', () => {
  it('drops expired entries in a sweep, so a long-running process does not keep every request', async () => {
    let now = 1_000;
    const index = new MemoryBlockIndex({ keyer: createBlockKeyer({ modelName: 'm', blockSize: 4 }), now: () => now });
    for (let i = 0; i < 1000; i++) await index.speculativeInsert([BigInt(i)], 'pod-a', 100);
    expect(index.speculativeKeys).toBe(1000);
    now += 101;
    // The next sweep runs within the following inserts and finds the old keys expired.
    for (let i = 0; i < 30; i++) await index.speculativeInsert([BigInt(10_000 + i)], 'pod-a', 100);
    expect(index.speculativeKeys).toBeLessThanOrEqual(30);
    expect((await index.lookup([10_000n + 29n], ['pod-a'])).pods[0]?.speculativeBlocks).toBe(1);
  });
});
