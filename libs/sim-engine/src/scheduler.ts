/**
 * Continuous batching as vLLM's v1 scheduler does it (vllm/v1/core/sched/scheduler.py, v0.10–v0.2x),
 * reduced to what routing can observe:
 *
 * - Each step has a token budget (`maxNumBatchedTokens`). Running requests go first, in admission
 *   order: a decoding request takes 1 token, a request still prefilling takes what is left of its
 *   prompt up to the budget (chunked prefill). Then waiting requests are admitted in arrival order
 *   while the budget lasts and fewer than `maxNumSeqs` run.
 * - On admission the prefix cache is consulted: the longest run of cached full blocks counts as
 *   computed, capped so that at least one prompt token is computed (vLLM recomputes the last token
 *   to get logits).
 * - Blocks are allocated before the step; if a running request cannot get one, the most recently
 *   admitted request is preempted (its blocks freed, it goes back to the front of the queue and is
 *   recomputed later — its blocks usually still hit the cache).
 * - Full blocks are hashed and cached when they are scheduled (vLLM caches at allocation), so the
 *   step's `BlockStored` events are known before the step runs, and are published then.
 * - When a request's known tokens are all computed, the step samples its next token. A request
 *   finishes after `maxTokens` generated tokens (the simulator never samples EOS, like vLLM with
 *   `ignore_eos`); its blocks are freed and stay cached until evicted.
 */
import type { KvEvent } from '@kvr/kv-events';
import type { BlockPool, KvBlock } from './block-pool';
import type { EngineExtraKey, EngineHash, EngineHasher } from './engine-hash';
import type { StepLoad } from './latency-model';

export interface SchedulerOptions {
  readonly maxNumSeqs: number;
  readonly maxNumBatchedTokens: number;
  /** Longest prompt + output the engine accepts (vLLM `max_model_len`). */
  readonly maxModelLen: number;
}

export const DEFAULT_SCHEDULER_OPTIONS: SchedulerOptions = Object.freeze({ maxNumSeqs: 256, maxNumBatchedTokens: 8192, maxModelLen: 40_960 });

export interface SimRequestInit {
  readonly id: string;
  readonly promptTokenIds: readonly number[];
  readonly maxTokens: number;
  readonly loraId?: number | null;
  readonly loraName?: string | null;
  readonly cacheSalt?: string | null;
}

export type SimRequestStatus = 'waiting' | 'running' | 'finished' | 'aborted';

export class SimRequest {
  readonly id: string;
  readonly promptLength: number;
  readonly maxTokens: number;
  readonly loraId: number | null;
  readonly loraName: string | null;
  readonly cacheSalt: string | null;
  /** Prompt then generated tokens. */
  readonly tokens: number[];
  status: SimRequestStatus = 'waiting';
  /** Tokens whose KV is computed (or taken from the cache). */
  numComputed = 0;
  /** Prompt tokens taken from the prefix cache at the first admission (what `usage.prompt_tokens_details.cached_tokens` reports). */
  cachedPromptTokens = 0;
  /** Times the request was preempted. */
  preemptions = 0;
  blocks: KvBlock[] = [];
  /** Leading blocks of `blocks` that are cached (hashed). */
  numCachedBlocks = 0;
  /** Engine hashes of the full blocks of `tokens`, computed as tokens arrive. */
  readonly blockHashes: EngineHash[] = [];

  constructor(init: SimRequestInit) {
    this.id = init.id;
    this.tokens = [...init.promptTokenIds];
    this.promptLength = init.promptTokenIds.length;
    this.maxTokens = init.maxTokens;
    this.loraId = init.loraId ?? null;
    this.loraName = init.loraName ?? null;
    this.cacheSalt = init.cacheSalt ?? null;
  }

  get outputTokens(): number {
    return this.tokens.length - this.promptLength;
  }

  get prefilling(): boolean {
    return this.numComputed < this.promptLength;
  }
}

/** One request's share of a step. */
export interface StepEntry {
  readonly request: SimRequest;
  readonly numNewTokens: number;
}

export interface StepPlan extends StepLoad {
  readonly entries: readonly StepEntry[];
  /** KV events of this step's allocations, evictions and cached blocks, in order. */
  readonly events: readonly KvEvent[];
  /** Requests admitted in this step (new or resumed after preemption). */
  readonly admitted: readonly SimRequest[];
  readonly preempted: readonly SimRequest[];
}

/** What finishing a step produced for one request. */
export interface StepOutput {
  readonly request: SimRequest;
  readonly tokenId: number;
  readonly finished: boolean;
}

export interface PrefixCacheStats {
  /** Prompt tokens looked up in the prefix cache (vllm:prefix_cache_queries_total). */
  queries: number;
  /** Of those, tokens found (vllm:prefix_cache_hits_total). */
  hits: number;
}

/** Labels a chain of full blocks (e.g. with the router's request keys) for the debug dump. */
export type BlockLabeler = (request: SimRequest, firstBlock: number, blockCount: number) => readonly bigint[] | undefined;

export class Scheduler {
  readonly waiting: SimRequest[] = [];
  readonly running: SimRequest[] = [];
  readonly prefixCacheStats: PrefixCacheStats = { queries: 0, hits: 0 };
  private readonly blockSize: number;

  constructor(
    private readonly pool: BlockPool,
    private readonly hasher: EngineHasher,
    readonly options: SchedulerOptions = DEFAULT_SCHEDULER_OPTIONS,
    private readonly nextTokenId: (request: SimRequest) => number = () => 0,
    private readonly labelBlocks?: BlockLabeler,
  ) {
    this.blockSize = pool.blockSize;
  }

  get hasWork(): boolean {
    return this.waiting.length > 0 || this.running.length > 0;
  }

  /** Queues a request. Throws RangeError when it can never fit (longer than the model or the whole cache). */
  add(init: SimRequestInit): SimRequest {
    const total = init.promptTokenIds.length + init.maxTokens;
    if (init.promptTokenIds.length === 0) throw new RangeError('the prompt is empty');
    if (total > this.options.maxModelLen) {
      throw new RangeError(
        `This model's maximum context length is ${this.options.maxModelLen} tokens. However, you requested ${total} tokens (${init.promptTokenIds.length} in the messages, ${init.maxTokens} in the completion). Please reduce the length of the messages or completion.`,
      );
    }
    if (Math.ceil(total / this.blockSize) > this.pool.numBlocks) {
      throw new RangeError(`the request needs ${Math.ceil(total / this.blockSize)} KV blocks but the pod has ${this.pool.numBlocks}`);
    }
    const request = new SimRequest(init);
    this.extendHashes(request);
    this.waiting.push(request);
    return request;
  }

  /** Removes a request wherever it is (client gone); frees its blocks. */
  abort(request: SimRequest): void {
    if (request.status === 'finished' || request.status === 'aborted') return;
    removeFrom(this.waiting, request);
    removeFrom(this.running, request);
    this.releaseBlocks(request);
    request.status = 'aborted';
  }

  /** Plans one step: which requests compute how many tokens, with blocks allocated and cached. */
  schedule(): StepPlan {
    let budget = this.options.maxNumBatchedTokens;
    const entries: StepEntry[] = [];
    const preempted: SimRequest[] = [];
    const admitted: SimRequest[] = [];
    let prefillTokens = 0;
    let decodeSeqs = 0;
    let contextTokens = 0;

    for (let i = 0; i < this.running.length && budget > 0; ) {
      const request = this.running[i] as SimRequest;
      const wanted = Math.min(request.tokens.length - request.numComputed, budget);
      if (wanted <= 0) {
        i++;
        continue;
      }
      let scheduled = false;
      while (!scheduled) {
        if (this.allocateSlots(request, wanted)) {
          scheduled = true;
          break;
        }
        const victim = this.running.pop() as SimRequest;
        this.preempt(victim);
        preempted.push(victim);
        if (victim === request) break;
      }
      if (!scheduled) break;
      entries.push({ request, numNewTokens: wanted });
      if (request.prefilling) prefillTokens += wanted;
      else decodeSeqs++;
      contextTokens += request.numComputed + wanted;
      budget -= wanted;
      i++;
    }

    while (preempted.length === 0 && this.waiting.length > 0 && budget > 0 && this.running.length < this.options.maxNumSeqs) {
      const request = this.waiting[0] as SimRequest;
      const hit = this.pool.longestCachedPrefix(request.blockHashes.slice(0, Math.floor((request.tokens.length - 1) / this.blockSize)));
      const cachedTokens = hit.length * this.blockSize;
      const wanted = Math.min(request.tokens.length - cachedTokens, budget);
      this.pool.touch(hit);
      request.blocks = [...hit];
      request.numCachedBlocks = hit.length;
      request.numComputed = cachedTokens;
      if (!this.allocateSlots(request, wanted)) {
        this.pool.free(request.blocks);
        request.blocks = [];
        request.numCachedBlocks = 0;
        request.numComputed = 0;
        break;
      }
      this.waiting.shift();
      this.running.push(request);
      request.status = 'running';
      if (request.preemptions === 0) request.cachedPromptTokens = Math.min(cachedTokens, request.promptLength);
      this.prefixCacheStats.queries += request.tokens.length;
      this.prefixCacheStats.hits += cachedTokens;
      admitted.push(request);
      entries.push({ request, numNewTokens: wanted });
      prefillTokens += wanted;
      contextTokens += cachedTokens + wanted;
      budget -= wanted;
    }

    return { entries, events: this.pool.takeEvents(), admitted, preempted, prefillTokens, decodeSeqs, contextTokens };
  }

  /**
   * Applies a planned step's results: computed tokens advance, requests whose known tokens are
   * all computed get their next token, finished requests release their blocks.
   */
  complete(plan: StepPlan): StepOutput[] {
    const outputs: StepOutput[] = [];
    for (const { request, numNewTokens } of plan.entries) {
      if (request.status !== 'running') continue; // aborted while the step ran
      request.numComputed += numNewTokens;
      if (request.numComputed < request.tokens.length) continue; // a prefill chunk, no token yet
      const tokenId = this.nextTokenId(request);
      request.tokens.push(tokenId);
      this.extendHashes(request);
      const finished = request.outputTokens >= request.maxTokens;
      if (finished) {
        removeFrom(this.running, request);
        this.releaseBlocks(request);
        request.status = 'finished';
      }
      outputs.push({ request, tokenId, finished });
    }
    return outputs;
  }

  /** vLLM `reset_prefix_cache`: false while requests hold blocks. */
  resetPrefixCache(): boolean {
    return this.pool.reset();
  }

  /** Events recorded outside a step (e.g. AllBlocksCleared from a reset, evictions by aborts: none). */
  takeEvents(): KvEvent[] {
    return this.pool.takeEvents();
  }

  private allocateSlots(request: SimRequest, numNewTokens: number): boolean {
    const target = request.numComputed + numNewTokens;
    const needed = Math.ceil(target / this.blockSize) - request.blocks.length;
    if (needed > 0) {
      const fresh = this.pool.allocate(needed);
      if (!fresh) return false;
      request.blocks.push(...fresh);
    }
    this.cacheFullBlocks(request, Math.floor(Math.min(target, request.tokens.length) / this.blockSize));
    return true;
  }

  private cacheFullBlocks(request: SimRequest, fullBlocks: number): void {
    const first = request.numCachedBlocks;
    if (fullBlocks <= first) return;
    const bs = this.blockSize;
    const count = fullBlocks - first;
    const extraKeys: (readonly EngineExtraKey[] | null)[] = [];
    for (let i = first; i < fullBlocks; i++) extraKeys.push(this.extraKeysFor(request, i));
    this.pool.cacheBlocks({
      blocks: request.blocks.slice(first, fullBlocks),
      hashes: request.blockHashes.slice(first, fullBlocks),
      parentHash: first > 0 ? (request.blockHashes[first - 1] as EngineHash) : null,
      tokenIds: request.tokens.slice(first * bs, fullBlocks * bs),
      loraId: request.loraId,
      loraName: request.loraName,
      extraKeys,
      requestKeys: this.labelBlocks?.(request, first, count),
    });
    request.numCachedBlocks = fullBlocks;
  }

  /** vLLM `generate_block_hash_extra_keys` for text: LoRA name on every block, cache salt on the first. */
  private extraKeysFor(request: SimRequest, blockIndex: number): EngineExtraKey[] | null {
    const keys: EngineExtraKey[] = [];
    if (request.loraName !== null) keys.push(request.loraName);
    if (blockIndex === 0 && request.cacheSalt !== null && request.cacheSalt !== '') keys.push(request.cacheSalt);
    return keys.length > 0 ? keys : null;
  }

  private extendHashes(request: SimRequest): void {
    const bs = this.blockSize;
    const full = Math.floor(request.tokens.length / bs);
    for (let i = request.blockHashes.length; i < full; i++) {
      const parent = i > 0 ? (request.blockHashes[i - 1] as EngineHash) : null;
      request.blockHashes.push(this.hasher.hashBlock(parent, request.tokens.slice(i * bs, (i + 1) * bs), this.extraKeysFor(request, i)));
    }
  }

  private preempt(request: SimRequest): void {
    this.releaseBlocks(request);
    request.numComputed = 0;
    request.status = 'waiting';
    request.preemptions++;
    this.waiting.unshift(request);
  }

  private releaseBlocks(request: SimRequest): void {
    this.pool.free(request.blocks);
    request.blocks = [];
    request.numCachedBlocks = 0;
  }
}

function removeFrom(list: SimRequest[], request: SimRequest): void {
  const index = list.indexOf(request);
  if (index >= 0) list.splice(index, 1);
}
