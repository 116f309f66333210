/**
 * One simulated vLLM engine: block pool + scheduler + latency model, driven by a step loop on
 * the event loop's timers. No I/O: the caller wires events to ZMQ and tokens to HTTP.
 *
 * Timing: each step sleeps `stepMilliseconds(plan) / timeScale`. Steps are scheduled against a
 * running deadline (`nextStepAt += duration`) rather than "sleep after work", so timer granularity
 * (≈ 1 ms) and the loop's own CPU time do not add up over thousands of short steps at high scales.
 */
import type { KvEvent } from '@kvr/kv-events';
import { BlockPool, type HashFormat, type ResidentBlock } from './block-pool';
import { createEngineHasher, type EngineHash, type EngineHashAlgo, type EngineHasher } from './engine-hash';
import { DEFAULT_LATENCY_MODEL, stepMilliseconds, type LatencyModelOptions } from './latency-model';
import { DEFAULT_SCHEDULER_OPTIONS, Scheduler, type BlockLabeler, type SchedulerOptions, type SimRequest, type SimRequestInit, type StepPlan } from './scheduler';

export interface SimEngineOptions {
  readonly blockSize: number;
  readonly numGpuBlocks: number;
  readonly hashAlgo: EngineHashAlgo;
  /** PYTHONHASHSEED; null: random per engine start, as vLLM without the variable. */
  readonly hashSeed: string | null;
  readonly hashFormat: HashFormat;
  readonly scheduler?: SchedulerOptions;
  readonly latency?: LatencyModelOptions;
  /** Divides every step time: 10 runs the pod ten times faster than the GPU it imitates. */
  readonly timeScale?: number;
  /** Token id a request samples next (the simulator has no model). */
  readonly nextTokenId?: (request: SimRequest) => number;
  readonly labelBlocks?: BlockLabeler;
  /** Milliseconds clock, injectable for tests. @default performance.now */
  readonly now?: () => number;
}

/** Callbacks of one submitted request. Called synchronously from the step loop. */
export interface RequestListener {
  /** A token was sampled; `index` counts generated tokens from 0. */
  onToken(tokenId: number, index: number, finished: boolean): void;
}

/** One finished step, for metrics. */
export interface StepReport {
  readonly plan: StepPlan;
  /** Simulated GPU milliseconds (before time scaling). */
  readonly gpuMs: number;
}

export interface SimEngineHooks {
  /** A non-empty batch of KV events, once per step that produced any (and after a reset). */
  onEvents(events: readonly KvEvent[]): void;
  onStep?(report: StepReport): void;
}

export interface EngineStats {
  readonly running: number;
  readonly waiting: number;
  readonly kvCacheUsage: number;
  readonly prefixCacheQueries: number;
  readonly prefixCacheHits: number;
  readonly numGpuBlocks: number;
  readonly blockSize: number;
  readonly cachedBlocks: number;
}

export class SimEngine {
  readonly options: Required<Pick<SimEngineOptions, 'blockSize' | 'numGpuBlocks' | 'hashAlgo' | 'hashFormat' | 'timeScale'>>;
  private hasher!: EngineHasher;
  private pool!: BlockPool;
  private scheduler!: Scheduler;
  private readonly listeners = new Map<SimRequest, RequestListener>();
  private timer: NodeJS.Timeout | null = null;
  private stepping = false;
  private nextStepAt = 0;
  private closed = false;
  private readonly now: () => number;

  constructor(
    private readonly config: SimEngineOptions,
    private readonly hooks: SimEngineHooks,
  ) {
    const timeScale = config.timeScale ?? 1;
    if (!(timeScale > 0)) throw new RangeError(`timeScale must be > 0, got ${timeScale}`);
    this.options = { blockSize: config.blockSize, numGpuBlocks: config.numGpuBlocks, hashAlgo: config.hashAlgo, hashFormat: config.hashFormat, timeScale };
    this.now = config.now ?? (() => performance.now());
    this.boot();
  }

  /** A fresh engine state: what a restarted vLLM has (empty cache, new NONE_HASH when unseeded). */
  private boot(): void {
    this.hasher = createEngineHasher(this.config.hashAlgo, this.config.hashSeed);
    this.pool = new BlockPool({ numBlocks: this.config.numGpuBlocks, blockSize: this.config.blockSize, hashFormat: this.config.hashFormat });
    this.scheduler = new Scheduler(this.pool, this.hasher, this.config.scheduler ?? DEFAULT_SCHEDULER_OPTIONS, this.config.nextTokenId, this.config.labelBlocks);
  }

  get schedulerOptions(): SchedulerOptions {
    return this.scheduler.options;
  }

  /** Queues a request; throws RangeError when it can never be served (too long). */
  submit(init: SimRequestInit, listener: RequestListener): SimRequest {
    if (this.closed) throw new Error('engine is closed');
    const request = this.scheduler.add(init);
    this.listeners.set(request, listener);
    this.kick();
    return request;
  }

  /** The client went away: stop computing the request and release its blocks. */
  abort(request: SimRequest): void {
    this.scheduler.abort(request);
    this.listeners.delete(request);
    if (this.scheduler.hasWork) this.kick();
  }

  /** vLLM `reset_prefix_cache`: false while requests hold blocks; on success emits AllBlocksCleared. */
  resetPrefixCache(): boolean {
    const ok = this.scheduler.resetPrefixCache();
    const events = this.scheduler.takeEvents();
    if (events.length > 0) this.hooks.onEvents(events);
    return ok;
  }

  /**
   * Simulates an engine crash and restart inside the process: every request is dropped (their
   * listeners are told nothing more), the cache is empty, and no event says so — exactly what a
   * router sees when a real pod restarts. The caller restarts its event sequence at 0.
   */
  restart(): SimRequest[] {
    const dropped = [...this.listeners.keys()];
    for (const request of dropped) this.scheduler.abort(request);
    this.listeners.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.stepping = false;
    this.boot();
    return dropped;
  }

  stats(): EngineStats {
    return {
      running: this.scheduler.running.length,
      waiting: this.scheduler.waiting.length,
      kvCacheUsage: this.pool.usage,
      prefixCacheQueries: this.scheduler.prefixCacheStats.queries,
      prefixCacheHits: this.scheduler.prefixCacheStats.hits,
      numGpuBlocks: this.pool.numBlocks,
      blockSize: this.pool.blockSize,
      cachedBlocks: this.pool.cachedHashes,
    };
  }

  residentBlocks(): ResidentBlock[] {
    return this.pool.residentBlocks();
  }

  /**
   * How many leading full blocks of `tokens` are in the prefix cache now: what a request with
   * this prompt would find (the benchmark's oracle router asks every pod). Hashes block by block
   * and stops at the first miss, so a cold pod costs one hash.
   */
  cachedPrefixBlocks(tokens: readonly number[], options: { loraName?: string | null; cacheSalt?: string | null } = {}): number {
    const bs = this.pool.blockSize;
    let parent: EngineHash | null = null;
    let blocks = 0;
    for (let i = 0; (i + 1) * bs <= tokens.length; i++) {
      // vLLM's extra keys for text: the LoRA name on every block, the cache salt on the first.
      const extra = [...(options.loraName ? [options.loraName] : []), ...(i === 0 && options.cacheSalt ? [options.cacheSalt] : [])];
      const hash: EngineHash = this.hasher.hashBlock(parent, tokens.slice(i * bs, (i + 1) * bs), extra.length > 0 ? extra : null);
      if (this.pool.longestCachedPrefix([hash]).length === 0) break;
      blocks++;
      parent = hash;
    }
    return blocks;
  }

  /** Engine hash of a first block with these tokens, for tests and the debug endpoint. */
  get engineHasher(): EngineHasher {
    return this.hasher;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private kick(): void {
    if (this.stepping || this.closed) return;
    this.stepping = true;
    this.nextStepAt = Math.max(this.nextStepAt, this.now());
    this.runStep();
  }

  private runStep(): void {
    if (this.closed) return;
    const plan = this.scheduler.schedule();
    if (plan.events.length > 0) this.hooks.onEvents(plan.events);
    if (plan.entries.length === 0) {
      if (plan.preempted.length > 0) {
        // A request preempted itself to make room; the next plan admits from the queue again.
        this.timer = setTimeout(() => this.runStep(), 0);
        return;
      }
      this.stepping = false; // idle until submit() or abort() kicks
      return;
    }
    const gpuMs = stepMilliseconds(plan, this.config.latency ?? DEFAULT_LATENCY_MODEL);
    this.nextStepAt += gpuMs / this.options.timeScale;
    const delay = Math.max(0, this.nextStepAt - this.now());
    const scheduler = this.scheduler;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (scheduler !== this.scheduler) return; // restarted while the step ran
      this.finishStep(plan, gpuMs);
    }, delay);
  }

  private finishStep(plan: StepPlan, gpuMs: number): void {
    const outputs = this.scheduler.complete(plan);
    this.hooks.onStep?.({ plan, gpuMs });
    for (const output of outputs) {
      const listener = this.listeners.get(output.request);
      if (output.finished) this.listeners.delete(output.request);
      listener?.onToken(output.tokenId, output.request.outputTokens - 1, output.finished);
    }
    if (this.scheduler.hasWork) {
      this.nextStepAt = Math.max(this.nextStepAt, this.now() - 50); // do not "catch up" after a long stall
      this.runStep();
    } else {
      this.stepping = false;
    }
  }
}
