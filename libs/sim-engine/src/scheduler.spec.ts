import type { BlockStoredEvent, KvEvent } from '@kvr/kv-events';
import { BlockPool, createEngineHasher, Scheduler, stepMilliseconds, type SchedulerOptions, type StepOutput } from './index';

const BS = 4;
const seq = (start: number, n: number): number[] => Array.from({ length: n }, (_, i) => start + i);

function setup(numBlocks: number, options: Partial<SchedulerOptions> = {}) {
  const pool = new BlockPool({ numBlocks, blockSize: BS, hashFormat: 'int' });
  const scheduler = new Scheduler(pool, createEngineHasher('sha256_cbor', '1'), { maxNumSeqs: 8, maxNumBatchedTokens: 64, maxModelLen: 1000, ...options }, () => 7);
  return { pool, scheduler };
}

/** Runs steps until idle; returns all outputs and events. */
function drain(scheduler: Scheduler, maxSteps = 1000): { outputs: StepOutput[]; events: KvEvent[]; steps: number } {
  const outputs: StepOutput[] = [];
  const events: KvEvent[] = [];
  let steps = 0;
  while (scheduler.hasWork && steps < maxSteps) {
    const plan = scheduler.schedule();
    events.push(...plan.events);
    outputs.push(...scheduler.complete(plan));
    steps++;
  }
  return { outputs, events, steps };
}

describe('Scheduler', () => {
  it('prefills, samples the first token in the prefill step, decodes, finishes and frees', () => {
    const { pool, scheduler } = setup(16);
    const request = scheduler.add({ id: 'r', promptTokenIds: seq(1, 10), maxTokens: 3 });
    const first = scheduler.schedule();
    expect(first.entries).toEqual([{ request, numNewTokens: 10 }]);
    expect(first.prefillTokens).toBe(10);
    expect(first.events).toEqual([expect.objectContaining({ type: 'BlockStored', tokenIds: seq(1, 8), parentBlockHash: null })]);
    expect(scheduler.complete(first)).toEqual([{ request, tokenId: 7, finished: false }]);
    const { outputs, events } = drain(scheduler);
    expect(outputs.map((o) => o.finished)).toEqual([false, true]);
    expect(request.tokens).toEqual([...seq(1, 10), 7, 7, 7]);
    // Token 12 (the second generated one) fills block 3 while being computed by the next step.
    expect(events).toEqual([expect.objectContaining({ type: 'BlockStored', tokenIds: [9, 10, 7, 7], parentBlockHash: (first.events[0] as BlockStoredEvent).blockHashes[1] })]);
    expect(request.status).toBe('finished');
    expect(pool.freeBlocks).toBe(16);
  });

  it('reuses a cached prefix, capped so that the last prompt token is computed', () => {
    const { scheduler } = setup(16);
    scheduler.add({ id: 'a', promptTokenIds: seq(1, 12), maxTokens: 1 });
    drain(scheduler);
    const again = scheduler.add({ id: 'b', promptTokenIds: seq(1, 12), maxTokens: 1 });
    const plan = scheduler.schedule();
    // 12 tokens = 3 full blocks, but at most 11 may come from the cache → 2 blocks (8 tokens).
    expect(again.cachedPromptTokens).toBe(8);
    expect(plan.prefillTokens).toBe(4);
    const longer = scheduler.add({ id: 'c', promptTokenIds: [...seq(1, 12), 50, 51], maxTokens: 1 });
    scheduler.complete(plan);
    scheduler.complete(scheduler.schedule());
    expect(longer.cachedPromptTokens).toBe(12);
    expect(scheduler.prefixCacheStats).toEqual({ queries: 12 + 12 + 14, hits: 0 + 8 + 12 });
  });

  it('splits a long prompt over steps within the token budget (chunked prefill), decoders first', () => {
    const { scheduler } = setup(64, { maxNumBatchedTokens: 16 });
    const decoder = scheduler.add({ id: 'd', promptTokenIds: seq(1, 4), maxTokens: 20 });
    scheduler.complete(scheduler.schedule());
    const long = scheduler.add({ id: 'l', promptTokenIds: seq(100, 40), maxTokens: 1 });
    const plans = [scheduler.schedule()];
    scheduler.complete(plans[0]!);
    plans.push(scheduler.schedule());
    expect(plans.map((p) => p.entries.map((e) => [e.request.id, e.numNewTokens]))).toEqual([
      [
        ['d', 1],
        ['l', 15],
      ],
      [
        ['d', 1],
        ['l', 15],
      ],
    ]);
    expect(plans[0]!.decodeSeqs).toBe(1);
    expect(long.outputTokens).toBe(0);
    expect(decoder.outputTokens).toBe(2);
    // A step with a prefill chunk costs more than a pure decode step: the decoder's ITL rises.
    expect(stepMilliseconds(plans[0]!)).toBeGreaterThan(stepMilliseconds({ prefillTokens: 0, decodeSeqs: 1, contextTokens: 6 }));
  });

  it('keeps requests waiting beyond max_num_seqs and the token budget', () => {
    const { scheduler } = setup(64, { maxNumSeqs: 2, maxNumBatchedTokens: 100 });
    for (let i = 0; i < 4; i++) scheduler.add({ id: `r${i}`, promptTokenIds: seq(i * 100, 8), maxTokens: 2 });
    scheduler.schedule();
    expect(scheduler.running.map((r) => r.id)).toEqual(['r0', 'r1']);
    expect(scheduler.waiting.map((r) => r.id)).toEqual(['r2', 'r3']);
  });

  it('preempts the most recently admitted request when blocks run out, and recomputes it later', () => {
    const { scheduler, pool } = setup(6, { maxNumBatchedTokens: 100 });
    const a = scheduler.add({ id: 'a', promptTokenIds: seq(1, 8), maxTokens: 8 });
    const b = scheduler.add({ id: 'b', promptTokenIds: seq(100, 8), maxTokens: 8 });
    const { outputs } = drain(scheduler);
    expect(a.status).toBe('finished');
    expect(b.status).toBe('finished');
    expect(b.preemptions).toBeGreaterThan(0);
    expect(outputs.filter((o) => o.request === a)).toHaveLength(8);
    expect(outputs.filter((o) => o.request === b)).toHaveLength(8);
    expect(pool.freeBlocks).toBe(6);
  });

  it('rejects requests that can never run', () => {
    const { scheduler } = setup(4);
    expect(() => scheduler.add({ id: 'x', promptTokenIds: seq(1, 990), maxTokens: 20 })).toThrow(/maximum context length is 1000 tokens/);
    expect(() => scheduler.add({ id: 'x', promptTokenIds: seq(1, 30), maxTokens: 1 })).toThrow(/KV blocks/);
    expect(() => scheduler.add({ id: 'x', promptTokenIds: [], maxTokens: 1 })).toThrow(/empty/);
  });

  it('aborting frees blocks and drops the request from the step results', () => {
    const { scheduler, pool } = setup(16);
    const r = scheduler.add({ id: 'r', promptTokenIds: seq(1, 8), maxTokens: 5 });
    const plan = scheduler.schedule();
    scheduler.abort(r);
    expect(scheduler.complete(plan)).toEqual([]);
    expect(pool.freeBlocks).toBe(16);
    expect(scheduler.hasWork).toBe(false);
  });

  it('hashes LoRA names into every block and the cache salt into the first, isolating their caches', () => {
    const { scheduler } = setup(32);
    scheduler.add({ id: 'plain', promptTokenIds: seq(1, 9), maxTokens: 1 });
    scheduler.add({ id: 'lora', promptTokenIds: seq(1, 9), maxTokens: 1, loraName: 'sql', loraId: 3 });
    const salted = scheduler.add({ id: 'salt', promptTokenIds: seq(1, 9), maxTokens: 1, cacheSalt: 's1' });
    const { events } = drain(scheduler);
    const stored = events.filter((e): e is BlockStoredEvent => e.type === 'BlockStored');
    expect(stored.map((e) => [e.loraName, e.loraId, e.extraKeys])).toEqual([
      [null, null, [null, null]],
      ['sql', 3, [['sql'], ['sql']]],
      [null, null, [['s1'], null]],
    ]);
    expect(new Set(stored.map((e) => e.blockHashes[0])).size).toBe(3);
    expect(salted.cachedPromptTokens).toBe(0);
  });
});
