/**
 * The BlockIndex conformance suite: every backend must pass it unchanged.
 *
 *   describeBlockIndexConformance('memory', (keyer) => new MemoryBlockIndex({ keyer }));
 *
 * Each test gets a fresh index from the factory; block size 4, model `m`.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createBlockKeyer, type BlockKeyer } from '@kvr/block-keys';
import type { BlockRemovedEvent, BlockStoredEvent, KvEvent } from '@kvr/kv-events';
import { blockRemovedEvent, vllmBlockStoredEvent } from '@kvr/kv-events/testing';
import type { BlockIndex, IndexEntry, PodMessage, PodState } from './api';

export const CONFORMANCE_BLOCK_SIZE = 4;
export const CONFORMANCE_MODEL = 'm';

const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);

/** A BlockStored as current vLLM fills it (`@kvr/kv-events/testing`), with the suite's block size. */
export function stored(engineKeys: readonly bigint[], tokenIds: readonly number[], fields: Partial<Omit<BlockStoredEvent, 'type' | 'blockHashes' | 'tokenIds'>> = {}): BlockStoredEvent {
  return vllmBlockStoredEvent({ blockHashes: engineKeys, tokenIds, blockSize: CONFORMANCE_BLOCK_SIZE, ...fields });
}

export function removed(engineKeys: readonly bigint[], medium = 'GPU'): BlockRemovedEvent {
  return blockRemovedEvent(engineKeys, { medium, groupIdx: 0 });
}

/** A pod's messages with consecutive sequence numbers, as the collector publishes them. */
export class PodStream {
  private seq = 0n;
  constructor(
    readonly pod: string,
    public epoch = 0,
    readonly model = CONFORMANCE_MODEL,
  ) {}

  batch(...events: KvEvent[]): PodMessage {
    return { kind: 'batch', pod: this.pod, model: this.model, epoch: this.epoch, seq: this.seq++, batch: { ts: 1, events, dataParallelRank: 0 } };
  }

  at(seq: bigint, ...events: KvEvent[]): PodMessage {
    return { kind: 'batch', pod: this.pod, model: this.model, epoch: this.epoch, seq, batch: { ts: 1, events, dataParallelRank: 0 } };
  }

  reset(reason = 'engine_restart'): PodMessage {
    this.epoch++;
    this.seq = 0n;
    return { kind: 'reset', pod: this.pod, epoch: this.epoch, reason };
  }
}

export type IndexFactory = (keyer: BlockKeyer) => Promise<BlockIndex> | BlockIndex;

/** Registers the conformance tests in the current jest file. */
export function describeBlockIndexConformance(name: string, factory: IndexFactory, options: { waitFor?: (probe: () => Promise<boolean>, what: string) => Promise<void> } = {}): void {
  const keyer = createBlockKeyer({ modelName: CONFORMANCE_MODEL, blockSize: CONFORMANCE_BLOCK_SIZE });
  const keys = (tokens: readonly number[], model = CONFORMANCE_MODEL): bigint[] => keyer.forModel(model).keysForTokens(tokens);
  const waitUntil =
    options.waitFor ??
    (async (probe: () => Promise<boolean>, what: string): Promise<void> => {
      for (let i = 0; i < 400; i++) {
        if (await probe()) return;
        await new Promise((resolve) => setTimeout(resolve, 10)); // polling interval of a condition, not a fixed wait
      }
      throw new Error(`timed out waiting for ${what}`);
    });

  describe(`BlockIndex conformance: ${name}`, () => {
    let index: BlockIndex;
    beforeEach(async () => {
      index = await factory(keyer);
    });
    afterEach(() => index.close());

    const matched = async (tokens: readonly number[], pods: string[], model?: string): Promise<number[]> =>
      (await index.lookup(keys(tokens, model), pods)).pods.map((p) => p.matchedBlocks);

    it('stores a chain and reports the longest consecutive prefix per candidate, in candidate order', async () => {
      const a = new PodStream('a');
      const b = new PodStream('b');
      const tokens = range(1, 16);
      expect((await index.apply(a.batch(stored([11n, 12n, 13n, 14n], tokens)))).outcome).toBe('applied');
      expect((await index.apply(b.batch(stored([21n, 22n], tokens.slice(0, 8))))).admitted).toBe(2);
      expect(await matched(tokens, ['b', 'a', 'c'])).toEqual([2, 4, 0]);
      const other = [...range(1, 4), 99, 98, 97, 96];
      expect(await matched(other, ['a', 'b'])).toEqual([1, 1]);
      const result = await index.lookup(keys(tokens), ['a']);
      expect(result).toEqual({ totalBlocks: 4, pods: [{ pod: 'a', matchedBlocks: 4, weightedScore: 4, speculativeBlocks: 0 }] });
      expect(await matched(range(50, 8), ['a'])).toEqual([0]);
    });

    it('lists the pods holding each block', async () => {
      const tokens = range(1, 8);
      await index.apply(new PodStream('b').batch(stored([1n, 2n], tokens)));
      await index.apply(new PodStream('a').batch(stored([3n], tokens.slice(0, 4), { medium: 'CPU' })));
      await index.speculativeInsert(keys(tokens), 'c', 10_000);
      expect(await index.blockHolders(keys(tokens))).toEqual([['a', 'b'], ['b']]);
      expect(await index.blockHolders([])).toEqual([]);
    });

    it('continues a chain through the parent engine key, and skips (and counts) an unknown parent', async () => {
      const a = new PodStream('a');
      const tokens = range(1, 12);
      await index.apply(a.batch(stored([1n], tokens.slice(0, 4))));
      await index.apply(a.batch(stored([2n, 3n], tokens.slice(4), { parentBlockHash: 1n })));
      expect(await matched(tokens, ['a'])).toEqual([3]);
      const orphan = await index.apply(a.batch(stored([9n], range(70, 4), { parentBlockHash: 777n })));
      expect(orphan.unknownParents).toBe(1);
      expect((await index.stats()).engineKeys).toBe(3);
    });

    it('removes through engine keys, keeping a block until its last copy is removed', async () => {
      const a = new PodStream('a');
      const tokens = range(1, 8);
      await index.apply(a.batch(stored([1n, 2n], tokens)));
      await index.apply(a.batch(stored([1n, 2n], tokens))); // a second copy (concurrent requests)
      await index.apply(a.batch(removed([2n])));
      expect(await matched(tokens, ['a'])).toEqual([2]);
      const last = await index.apply(a.batch(removed([2n])));
      expect(last.evicted).toBe(1);
      expect(await matched(tokens, ['a'])).toEqual([1]);
      expect((await index.apply(a.batch(removed([404n])))).unknownEvictions).toBe(1);
    });

    it('AllBlocksCleared and a reset clear only that pod; a reset starts the new epoch', async () => {
      const a = new PodStream('a');
      const b = new PodStream('b');
      const tokens = range(1, 8);
      await index.apply(a.batch(stored([1n, 2n], tokens)));
      await index.apply(b.batch(stored([1n, 2n], tokens)));
      await index.apply(a.batch({ type: 'AllBlocksCleared' }));
      expect(await matched(tokens, ['a', 'b'])).toEqual([0, 2]);
      await index.apply(a.batch(stored([5n], tokens.slice(0, 4))));
      expect((await index.apply(b.reset())).outcome).toBe('applied');
      expect(await matched(tokens, ['a', 'b'])).toEqual([1, 0]);
      expect(await index.position('b')).toEqual({ epoch: 1, seq: null });
      expect((await index.apply(b.batch(stored([7n], tokens.slice(0, 4))))).outcome).toBe('applied');
      expect(await index.position('b')).toEqual({ epoch: 1, seq: 0n });
      expect(await matched(tokens, ['b'])).toEqual([1]);
    });

    it('applies batches in order: duplicates skipped, early ones refused until their predecessor, an accepted gap clears the pod', async () => {
      const a = new PodStream('a');
      const tokens = range(1, 8);
      const first = a.batch(stored([1n], tokens.slice(0, 4)));
      const second = a.batch(stored([2n], tokens.slice(4), { parentBlockHash: 1n }));
      const third = a.batch(removed([2n]));
      expect((await index.apply(first)).outcome).toBe('applied');
      expect((await index.apply(third)).outcome).toBe('early');
      expect((await index.apply(first)).outcome).toBe('duplicate');
      expect((await index.apply(second)).outcome).toBe('applied');
      expect((await index.apply(third)).outcome).toBe('applied');
      expect(await index.position('a')).toEqual({ epoch: 0, seq: 2n });
      const jump = a.at(9n, stored([8n], range(40, 4)));
      expect((await index.apply(jump)).outcome).toBe('early');
      expect((await index.apply(jump, { acceptGap: true })).outcome).toBe('applied');
      expect(await matched(tokens, ['a'])).toEqual([0]);
      expect(await matched(range(40, 4), ['a'])).toEqual([1]);
      const stale: PodMessage = { kind: 'reset', pod: 'a', epoch: -1, reason: 'operator' };
      expect((await index.apply(stale)).outcome).toBe('duplicate');
      // A batch of a newer epoch whose reset never arrived: the pod is cleared first.
      a.epoch = 3;
      expect((await index.apply(a.at(0n, stored([70n], range(60, 4)))))).toMatchObject({ outcome: 'applied', position: { epoch: 3, seq: 0n } });
      expect(await matched(range(40, 4), ['a'])).toEqual([0]);
    });

    it('keeps device tiers apart and scores by the best tier weight', async () => {
      const a = new PodStream('a');
      const tokens = range(1, 8);
      await index.apply(a.batch(stored([1n, 2n], tokens)));
      await index.apply(a.batch(stored([1n, 2n], [], { medium: 'CPU' }))); // offloaded copies: no tokens, keys from the GPU map
      await index.apply(a.batch(removed([1n, 2n])));
      const result = await index.lookup(keys(tokens), ['a']);
      expect(result.pods[0]).toMatchObject({ matchedBlocks: 2 });
      expect(result.pods[0]!.weightedScore).toBeCloseTo(1.6, 6);
      expect((await index.dump({ pod: 'a' })).map((e) => e.tier)).toEqual(['cpu', 'cpu']);
    });

    it('keeps a tier besides gpu and cpu (an offload medium) through export, restore, removals, a reset and forgetting', async () => {
      const a = new PodStream('a');
      const tokens = range(1, 8);
      const tiers = async (target: BlockIndex): Promise<string[]> => (await target.dump({ pod: 'a' })).map((e) => e.tier).sort();
      await index.apply(a.batch(stored([1n, 2n], tokens)));
      await index.apply(a.batch(stored([1n, 2n], [], { medium: 'DISK' })));
      expect(await tiers(index)).toEqual(['disk', 'disk', 'gpu', 'gpu']);
      const exported = (await index.exportPod('a'))!;
      expect(exported.blocks.map((blk) => blk.tier).sort()).toEqual(['disk', 'disk', 'gpu', 'gpu']);
      const restored = await factory(keyer);
      try {
        expect(await restored.replacePod(exported)).toBe('applied');
        expect(await tiers(restored)).toEqual(['disk', 'disk', 'gpu', 'gpu']);
        // Entries are per tier: the pod loses its two disk entries though gpu still holds the keys.
        expect(await restored.apply(a.batch(removed([1n, 2n], 'DISK')))).toMatchObject({ outcome: 'applied', evicted: 2, unknownEvictions: 0 });
        expect(await tiers(restored)).toEqual(['gpu', 'gpu']);
      } finally {
        await restored.close();
      }
      // A reset clears every tier, engine keys included; the pod then stores on that tier again.
      await index.apply(a.reset());
      expect(await index.dump({ pod: 'a' })).toEqual([]);
      expect(await index.stats()).toMatchObject({ entries: 0, engineKeys: 0 });
      await index.apply(a.batch(stored([5n], tokens.slice(0, 4), { medium: 'DISK' })));
      expect(await tiers(index)).toEqual(['disk']);
      await index.apply({ kind: 'removed', pod: 'a', epoch: a.epoch });
      expect(await index.stats()).toEqual({ requestKeys: 0, entries: 0, pods: 0, engineKeys: 0, speculativeEntries: 0 });
    });

    it('keys LoRA blocks under the adapter name and folds the cache salt into the first block', async () => {
      const a = new PodStream('a');
      const tokens = range(1, 8);
      await index.apply(a.batch(stored([1n, 2n], tokens, { loraName: 'sql', loraId: 1, extraKeys: [['sql'], ['sql']] })));
      expect(await matched(tokens, ['a'], 'sql')).toEqual([2]);
      expect(await matched(tokens, ['a'])).toEqual([0]);
      await index.apply(a.batch(stored([5n, 6n], tokens, { extraKeys: [['salt-1'], null] })));
      const salted = keyer.keysForTokens(tokens, { cacheSalt: 'salt-1' });
      expect((await index.lookup(salted, ['a'])).pods[0]!.matchedBlocks).toBe(2);
      expect(await matched(tokens, ['a'])).toEqual([0]);
    });

    it('counts an event whose block size differs from the index', async () => {
      const a = new PodStream('a');
      const result = await index.apply(a.batch(stored([1n], range(1, 4), { blockSize: 16 })));
      expect(result.blockSizeMismatches).toBe(1);
    });

    it('serves speculative entries until they expire, and lets real events supersede them', async () => {
      const tokens = range(1, 8);
      // Long enough that a stalled test worker cannot see it expire before the next two lookups.
      await index.speculativeInsert(keys(tokens), 'a', 1_500);
      expect((await index.lookup(keys(tokens), ['a'])).pods[0]).toMatchObject({ matchedBlocks: 2, speculativeBlocks: 2 });
      await index.apply(new PodStream('a').batch(stored([1n], tokens.slice(0, 4))));
      expect((await index.lookup(keys(tokens), ['a'])).pods[0]).toMatchObject({ matchedBlocks: 2, speculativeBlocks: 1 });
      await waitUntil(async () => (await index.lookup(keys(tokens), ['a'])).pods[0]!.matchedBlocks === 1, 'the speculative entry to expire');
      expect((await index.stats()).speculativeEntries).toBe(0);
    });

    it('refuses writes from a stale lease fence', async () => {
      const a = new PodStream('a');
      expect((await index.apply(a.batch(stored([1n], range(1, 4))), { fence: 5 })).outcome).toBe('applied');
      expect((await index.apply(a.batch(stored([2n], range(5, 4), { parentBlockHash: 1n })), { fence: 4 })).outcome).toBe('fenced');
      expect(await index.position('a')).toEqual({ epoch: 0, seq: 0n });
    });

    it('forgets a removed pod, and dumps and counts what it holds', async () => {
      const a = new PodStream('a');
      const b = new PodStream('b');
      await index.apply(a.batch(stored([1n, 2n], range(1, 8))));
      await index.apply(b.batch(stored([3n], range(1, 4))));
      expect(await index.stats()).toEqual({ requestKeys: 2, entries: 3, pods: 2, engineKeys: 3, speculativeEntries: 0 });
      expect((await index.dump({ limit: 2 })).length).toBe(2);
      expect((await index.dump({ pod: 'b' })).map((e) => ({ pod: e.pod, blocks: e.blocks }))).toEqual([{ pod: 'b', blocks: 1 }]);
      await index.apply({ kind: 'removed', pod: 'a', epoch: 0 });
      expect(await index.position('a')).toBeNull();
      expect(await matched(range(1, 8), ['a', 'b'])).toEqual([0, 1]);
      expect(await index.stats()).toMatchObject({ requestKeys: 1, entries: 1, pods: 1 });
    });

    it('exports a pod and restores it into an empty index: same lookups, dump and position, and the stream continues', async () => {
      const a = new PodStream('a');
      const b = new PodStream('b', 2, 'other-model');
      const tokens = range(1, 12);
      await index.apply(a.batch(stored([1n, 2n, 3n], tokens)));
      await index.apply(a.batch(stored([1n], tokens.slice(0, 4)))); // a second copy of the first block
      await index.apply(a.batch(stored([1n, 2n], [], { medium: 'CPU' })));
      await index.apply(b.batch(stored([2n ** 64n - 1n], tokens.slice(0, 4))));
      await index.speculativeInsert(keys(range(80, 8)), 'a', 60_000);
      expect(await index.pods()).toEqual(['a', 'b']);
      const exported = await index.exportPod('a');
      expect(exported).toMatchObject({ pod: 'a', model: CONFORMANCE_MODEL, position: { epoch: 0, seq: 2n } });
      expect(exported!.blocks).toHaveLength(5);
      expect(exported!.blocks.find((blk) => blk.tier === 'gpu' && blk.engineKey === 1n)).toEqual({ tier: 'gpu', engineKey: 1n, copies: 2, requestKeys: keys(tokens).slice(0, 1) });
      expect(await index.exportPod('b')).toMatchObject({ model: 'other-model', position: { epoch: 2, seq: 0n }, blocks: [{ engineKey: 2n ** 64n - 1n }] });
      expect(await index.exportPod('nobody')).toBeNull();

      const restored = await factory(keyer);
      try {
        for (const pod of await index.pods()) expect(await restored.replacePod((await index.exportPod(pod))!)).toBe('applied');
        const real = (entries: IndexEntry[]): string[] => entries.filter((e) => !e.speculative).map((e) => `${e.requestKey}|${e.pod}|${e.tier}|${e.blocks}`).sort();
        expect(real(await restored.dump())).toEqual(real(await index.dump()));
        expect(await restored.stats()).toEqual({ ...(await index.stats()), speculativeEntries: 0 });
        expect(await restored.position('b')).toEqual({ epoch: 2, seq: 0n });
        const candidates = ['a', 'b'];
        expect(await restored.lookup(keys(tokens), candidates)).toEqual(await index.lookup(keys(tokens), candidates));
        // The restored pod continues its stream: removals resolve through the restored engine map,
        // copies included, and replayed batches are duplicates.
        expect((await restored.apply(a.at(2n, stored([1n], tokens.slice(0, 4))))).outcome).toBe('duplicate');
        const next = a.batch(removed([3n]));
        expect(await restored.apply(next)).toMatchObject({ outcome: 'applied', evicted: 1, unknownEvictions: 0 });
        await restored.apply(a.batch(removed([1n])));
        expect((await restored.lookup(keys(tokens), ['a'])).pods[0]!.matchedBlocks).toBe(2); // gpu copy left, cpu copies
        expect(await restored.exportPod('a')).toMatchObject({ position: { epoch: 0, seq: 4n } });
      } finally {
        await restored.close();
      }
    });

    it('replaces a pod wholesale and forgets one, fenced like writes', async () => {
      const a = new PodStream('a');
      const tokens = range(1, 8);
      await index.apply(a.batch(stored([1n, 2n], tokens)), { fence: 3 });
      await index.apply(new PodStream('b').batch(stored([1n], tokens.slice(0, 4))));
      const replacement: PodState = { pod: 'a', model: null, position: { epoch: 4, seq: null }, blocks: [{ tier: 'gpu', engineKey: 9n, copies: 1, requestKeys: keys(range(40, 4)) }] };
      expect(await index.replacePod(replacement, { fence: 2 })).toBe('fenced');
      expect(await matched(tokens, ['a'])).toEqual([2]);
      expect(await index.replacePod(replacement, { fence: 3 })).toBe('applied');
      expect(await matched(tokens, ['a', 'b'])).toEqual([0, 1]);
      expect(await matched(range(40, 4), ['a'])).toEqual([1]);
      expect(await index.position('a')).toEqual({ epoch: 4, seq: null });
      expect(await index.forgetPod('a', { fence: 2 })).toBe('fenced');
      expect(await index.forgetPod('a', { fence: 3 })).toBe('applied');
      expect(await index.position('a')).toBeNull();
      expect(await index.pods()).toEqual(['b']);
      expect(await matched(range(40, 4), ['a'])).toEqual([0]);
      expect(await index.stats()).toMatchObject({ requestKeys: 1, entries: 1, engineKeys: 1 });
    });
  });
}
