/** The step loop on real timers, sped up with timeScale; assertions use simulated GPU time, never wall time. */
import type { KvEvent } from '@kvr/kv-events';
import { SimEngine, type SimEngineOptions, type StepReport } from './index';

const seq = (start: number, n: number): number[] => Array.from({ length: n }, (_, i) => start + i);

function engine(overrides: Partial<SimEngineOptions> = {}) {
  const events: KvEvent[][] = [];
  const steps: StepReport[] = [];
  const sim = new SimEngine(
    { blockSize: 64, numGpuBlocks: 512, hashAlgo: 'sha256_cbor', hashSeed: '0', hashFormat: 'int', timeScale: 1000, ...overrides },
    { onEvents: (batch) => events.push([...batch]), onStep: (report) => steps.push(report) },
  );
  return { sim, events, steps };
}

/** Runs a request to completion; returns the simulated GPU ms until its first token and its tokens. */
function run(sim: SimEngine, steps: StepReport[], prompt: number[], maxTokens: number): Promise<{ ttftGpuMs: number; tokens: number[] }> {
  const startStep = steps.length;
  return new Promise((resolve) => {
    const tokens: number[] = [];
    let ttftGpuMs = 0;
    sim.submit({ id: String(Math.random()), promptTokenIds: prompt, maxTokens }, {
      onToken(tokenId, index, finished) {
        tokens.push(tokenId);
        // onStep runs before the listeners: the step that sampled this token is counted.
        if (index === 0) ttftGpuMs = steps.slice(startStep).reduce((sum, s) => sum + s.gpuMs, 0);
        if (finished) resolve({ ttftGpuMs, tokens });
      },
    });
  });
}

describe('SimEngine', () => {
  it('a cached 7k-token prefix makes time-to-first-token several times lower', async () => {
    const { sim, steps } = engine();
    const shared = seq(1000, 6000);
    const cold = await run(sim, steps, [...shared, ...seq(50_000, 1200)], 4);
    const warm = await run(sim, steps, [...shared, ...seq(60_000, 1200)], 4);
    expect(cold.tokens).toHaveLength(4);
    expect(warm.ttftGpuMs * 3).toBeLessThan(cold.ttftGpuMs);
    sim.close();
  });

  it('publishes one event batch per step that produced events, and AllBlocksCleared on reset', async () => {
    const { sim, steps, events } = engine();
    await run(sim, steps, seq(1, 200), 2);
    expect(events).toHaveLength(1);
    expect(events[0]!.map((e) => e.type)).toEqual(['BlockStored']);
    expect(sim.stats()).toMatchObject({ running: 0, waiting: 0, cachedBlocks: 3, prefixCacheQueries: 200, prefixCacheHits: 0 });
    expect(sim.residentBlocks()).toHaveLength(3);
    expect(sim.resetPrefixCache()).toBe(true);
    expect(events[1]).toEqual([{ type: 'AllBlocksCleared' }]);
    expect(sim.stats().cachedBlocks).toBe(0);
    sim.close();
  });

  it('restart drops everything silently and starts from a new unseeded NONE_HASH', async () => {
    const { sim, steps, events } = engine({ hashSeed: null });
    const first = await run(sim, steps, seq(1, 64 * 3), 1);
    const before = sim.residentBlocks().map((b) => b.hash);
    sim.submit({ id: 'lost', promptTokenIds: seq(1, 100), maxTokens: 50 }, { onToken: () => undefined });
    const dropped = sim.restart();
    expect(dropped.map((r) => r.id)).toEqual(['lost']);
    expect(sim.stats()).toMatchObject({ running: 0, waiting: 0, cachedBlocks: 0 });
    const count = events.length;
    await run(sim, steps, seq(1, 64 * 3), 1);
    const after = sim.residentBlocks().map((b) => b.hash);
    expect(events.length).toBeGreaterThan(count);
    expect(after.filter((h) => before.includes(h))).toEqual([]);
    expect(first.tokens).toHaveLength(1);
    sim.close();
  });

  it('aborting a queued request lets the loop go on with the rest', async () => {
    const { sim, steps } = engine({ scheduler: { maxNumSeqs: 1, maxNumBatchedTokens: 8192, maxModelLen: 40960 } });
    const first = run(sim, steps, seq(1, 100), 3);
    const queued = sim.submit({ id: 'q', promptTokenIds: seq(500, 100), maxTokens: 3 }, { onToken: () => undefined });
    expect(sim.stats().waiting).toBe(1);
    sim.abort(queued);
    expect((await first).tokens).toHaveLength(3);
    expect(queued.status).toBe('aborted');
    sim.close();
  });
});
