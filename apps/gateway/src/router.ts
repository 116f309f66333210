/**
 * One routing decision: candidates → tokens → scorers in parallel (each with a deadline) →
 * weighted sum → max-score ranking. Whatever fails (tokenizer, indexer, load-scorer, Redis) is
 * left out of that decision, recorded as a fallback, counted and traced: the request still
 * routes, on load alone at worst. The pure arithmetic is `@kvr/scoring`'s.
 */
import { SpanStatusCode, type Span } from '@opentelemetry/api';
import type { DiscoveredPod } from '@kvr/discovery';
import { createBlockKeyer, type BlockKeyer } from '@kvr/block-keys';
import {
  ApproxPrefixIndex,
  SCORERS,
  noHitLruScores,
  precisePrefixScore,
  rankByScore,
  tokenSeed,
  weightedTotals,
  type PodExplanation,
  type PrefixDetail,
  type RouteExplanation,
  type ScorerName,
  type ScorerOutcome,
  type WeightedScores,
} from '@kvr/scoring';
import { productTracer, semconv, type Logger } from '@kvr/telemetry';
import { chatRenderRequestFromOpenAI, parsePythonJson, TokenizationError } from '@kvr/tokenization';
import type { TokenizerBackend } from '@kvr/tokenizer-grpc';
import type { GatewayConfig } from '@kvr/config';
import type { ScoreResponse__Output } from '@kvr/contracts';
import { DeadlineExceeded, withDeadline } from './deadline';
import { badRequest, noPod, unknownModel } from './errors';
import type { GatewayMetrics } from './metrics';
import type { NoHitLru } from './no-hit-lru';
import type { Candidates, PodCatalog } from './pod-catalog';
import { grpcFailureReason, type ScoringService, type SpeculativeWriter } from './remote';
import { completionPrompt, type ChatCompletionRequest, type CompletionRequest, type RequestKind } from './requests';

export interface RouteInput {
  readonly requestId: string;
  readonly kind: RequestKind;
  readonly request: CompletionRequest | ChatCompletionRequest;
  readonly body: Record<string, unknown>;
  readonly raw: Buffer;
}

export interface RouteDecision {
  readonly explanation: RouteExplanation;
  /** Candidates best first: the forwarder tries them in this order. */
  readonly ranked: readonly DiscoveredPod[];
  readonly candidates: Candidates;
  readonly tokenIds: number[] | null;
  /** Block keys the approx-prefix scorer matched (recorded for the chosen pod on commit). */
  /** The request's keys (block size and hash seed from config), null without tokens. */
  readonly requestKeys: bigint[] | null;
  /** Where the decision's time went, in ms (the gateway's Server-Timing header carries them). */
  readonly timings: DecisionTimings;
}

/** Wall-clock stages of one decision, in ms. */
export interface DecisionTimings {
  /** Rendering + tokenization, over the tokenizer's socket or in process (0 when the request carried token ids). */
  readonly tokenizeMs: number;
  /** From the tokens to the last scorer's answer: request keys and the remote scorers. */
  readonly scoreMs: number;
}

export interface RouterDeps {
  readonly config: GatewayConfig;
  readonly catalog: PodCatalog;
  /** The tokenizer service's client, or the in-process backend (config.tokenization). */
  readonly tokenizer: Pick<TokenizerBackend, 'renderCompletion' | 'renderChat'>;
  /** The precise-prefix scorer: the indexer over gRPC, or the index read from Redis (config.indexAccess). */
  readonly indexer: ScoringService;
  readonly indexerAdmin: SpeculativeWriter;
  readonly loadScorer: ScoringService;
  readonly lru: NoHitLru;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
}

interface ScorerRun {
  outcome: ScorerOutcome;
  scores: Map<string, number>;
  details: Map<string, string>;
  matched: Map<string, number>;
  confirmed: Map<string, number>;
  requestBlocks: number;
}

/**
 * A run with this outcome and what is known of the answer up front; the caller fills in the rest.
 * Built whole rather than as `{ ...run(outcome), requestBlocks }`: V8 11 (Node 20) gives every
 * spread-then-extended object a hidden class of its own (docs/architecture.md).
 */
const run = (outcome: ScorerOutcome, known: { scores?: Map<string, number>; matched?: Map<string, number>; requestBlocks?: number } = {}): ScorerRun => ({
  outcome,
  scores: known.scores ?? new Map(),
  details: new Map(),
  matched: known.matched ?? new Map(),
  confirmed: new Map(),
  requestBlocks: known.requestBlocks ?? 0,
});

const failed = (scorer: ScorerName, weight: number, reason: string, latencyMs?: number): ScorerRun =>
  run({ scorer, weight, status: 'failed', reason, ...(latencyMs === undefined ? {} : { latencyMs }) });

const skipped = (scorer: ScorerName, weight: number, reason: string): ScorerRun => run({ scorer, weight, status: 'skipped', reason });

function tokenizationFailure(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' ? code : 'error';
}

export class Router {
  /** Where this gateway sent earlier requests' blocks (approx-prefix scorer; empty when it is off). */
  private readonly approx = new ApproxPrefixIndex();
  private readonly keyer: BlockKeyer;
  /** Models that have had a confirmed (not speculative) index hit since start. */
  private readonly modelsWithHits = new Set<string>();
  /** Models requests were routed for with blocks but never a confirmed hit: the silent-miss suspects. */
  private readonly unindexedModels = new Map<string, number>();

  constructor(private readonly deps: RouterDeps) {
    this.keyer = createBlockKeyer({ modelName: 'unused', blockSize: deps.config.blockSize, hashSeed: deps.config.hashSeed });
  }

  /** Models routed with full blocks that never had a confirmed index hit, with their request counts. */
  unindexed(): Record<string, number> {
    return Object.fromEntries(this.unindexedModels);
  }

  async decide(input: RouteInput): Promise<RouteDecision> {
    const { config, catalog, metrics } = this.deps;
    const model = input.request.model;
    const candidates = catalog.candidatesFor(model);
    if (!candidates) throw unknownModel(model);
    if (candidates.pods.length === 0) throw noPod(`No pod serving \`${model}\` is reachable now.`, config.retryAfterSeconds);
    const podIds = candidates.pods.map((p) => p.id);
    const weights = config.weights;
    const fallbacks: string[] = [];

    // Load scorers and the LRU order do not need tokens: they start at once.
    const kvUtil = weights.kvCacheUtilization > 0 ? this.remote(SCORERS.kvCacheUtilization, weights.kvCacheUtilization, this.deps.loadScorer, candidates, podIds, input, null) : Promise.resolve(skipped(SCORERS.kvCacheUtilization, 0, 'weight 0'));
    const queue = weights.queueSize > 0 ? this.remote(SCORERS.queueSize, weights.queueSize, this.deps.loadScorer, candidates, podIds, input, null) : Promise.resolve(skipped(SCORERS.queueSize, 0, 'weight 0'));
    const lruOrder = weights.noHitLru > 0 ? this.lruOrder() : Promise.resolve({ order: [] as string[], reason: undefined });

    const tokenizeStarted = performance.now();
    const tokens = await this.tokenize(input, candidates);
    const scoreStarted = performance.now();
    if (tokens.failure) fallbacks.push(`tokenizer:${tokens.failure}`);
    const tokenIds = tokens.ids;

    // Request keys are computed here once, for the indexer (about 110 keys travel instead of
    // 7,000 token ids for a 7k-token prompt), the speculative insert and the approx scorer.
    const requestKeys = tokenIds && (weights.precisePrefix > 0 || weights.approxPrefix > 0) ? this.keyer.forModel(candidates.loraName ?? candidates.baseModel).keysForTokens(tokenIds, input.request.cache_salt ? { cacheSalt: input.request.cache_salt } : {}) : null;

    let precise: Promise<ScorerRun>;
    if (weights.precisePrefix <= 0) precise = Promise.resolve(skipped(SCORERS.precisePrefix, 0, 'weight 0'));
    else if (!requestKeys) precise = Promise.resolve(failed(SCORERS.precisePrefix, weights.precisePrefix, 'no_tokens'));
    else precise = this.remote(SCORERS.precisePrefix, weights.precisePrefix, this.deps.indexer, candidates, podIds, input, requestKeys);

    const [preciseRun, kvRun, queueRun, lru] = await Promise.all([precise, kvUtil, queue, lruOrder]);
    const timings: DecisionTimings = { tokenizeMs: scoreStarted - tokenizeStarted, scoreMs: performance.now() - scoreStarted };
    for (const run of [preciseRun, kvRun, queueRun]) {
      if (run.outcome.status === 'failed') {
        fallbacks.push(`${run.outcome.scorer}:${run.outcome.reason ?? 'error'}`);
        metrics.scorerFallbacks.inc({ scorer: run.outcome.scorer, reason: run.outcome.reason ?? 'error' });
      }
    }
    if (tokens.failure) metrics.scorerFallbacks.inc({ scorer: 'tokenizer', reason: tokens.failure });
    if (lru.reason) {
      fallbacks.push(`${SCORERS.noHitLru}:${lru.reason}`);
      metrics.scorerFallbacks.inc({ scorer: SCORERS.noHitLru, reason: lru.reason });
    }

    // approx-prefix: local, synchronous, from this gateway's own past decisions.
    let approxRun: ScorerRun = skipped(SCORERS.approxPrefix, weights.approxPrefix, weights.approxPrefix > 0 ? 'no_tokens' : 'weight 0');
    if (weights.approxPrefix > 0 && requestKeys) {
      const matched = this.approx.match(requestKeys, podIds);
      approxRun = run({ scorer: SCORERS.approxPrefix, weight: weights.approxPrefix, status: 'ok' }, { matched, requestBlocks: requestKeys.length });
      for (const [pod, blocks] of matched) approxRun.scores.set(pod, precisePrefixScore(blocks, requestKeys.length));
    }
    // Cold: no prefix scorer that answered saw the first block anywhere.
    const prefixRuns = [preciseRun, approxRun].filter((r) => r.outcome.status === 'ok');
    const cold = prefixRuns.length === 0 || !prefixRuns.some((r) => [...r.matched.values()].some((m) => m > 0));
    const lruRun: ScorerRun =
      weights.noHitLru > 0
        ? run({ scorer: SCORERS.noHitLru, weight: weights.noHitLru, status: 'ok' }, { scores: noHitLruScores(podIds, lru.order, cold) })
        : skipped(SCORERS.noHitLru, 0, 'weight 0');

    const runs = weights.approxPrefix > 0 ? [preciseRun, approxRun, kvRun, queueRun, lruRun] : [preciseRun, kvRun, queueRun, lruRun];
    // The blocks the chosen pod is predicted to hold come from whichever prefix scorer answered.
    const matchedBy = preciseRun.outcome.status === 'ok' ? preciseRun : approxRun;
    const contributions: WeightedScores[] = runs.filter((r) => r.outcome.status === 'ok').map((r) => ({ scorer: r.outcome.scorer, weight: r.outcome.weight, scores: r.scores }));
    const totals = weightedTotals(podIds, contributions);
    const seed = tokenIds ? tokenSeed(tokenIds) : input.requestId;
    const ranking = rankByScore(totals, seed);
    const byId = new Map(candidates.pods.map((p) => [p.id, p]));
    const pods: PodExplanation[] = ranking.map(({ pod, total }) => {
      const scores: Partial<Record<ScorerName, number>> = {};
      const details: Partial<Record<ScorerName, string>> = {};
      for (const run of runs) {
        if (run.outcome.status !== 'ok') continue;
        const score = run.scores.get(pod);
        if (score !== undefined) scores[run.outcome.scorer] = score;
        const detail = run.details.get(pod);
        if (detail) details[run.outcome.scorer] = detail;
      }
      return { pod, total, scores, details, matchedBlocks: matchedBy.matched.get(pod) ?? 0 };
    });
    const chosen = ranking[0]?.pod ?? null;
    const predictedCachedBlocks = chosen ? (matchedBy.matched.get(chosen) ?? 0) : 0;
    const requestBlocks = matchedBy.requestBlocks;

    if (requestBlocks > 0 && preciseRun.outcome.status === 'ok') {
      const key = candidates.loraName ?? candidates.baseModel;
      if ([...preciseRun.confirmed.values()].some((c) => c > 0)) {
        this.modelsWithHits.add(key);
        this.unindexedModels.delete(key);
      } else if (!this.modelsWithHits.has(key)) {
        this.unindexedModels.set(key, (this.unindexedModels.get(key) ?? 0) + 1);
        metrics.unindexed.inc({ model: key });
      }
    }

    return {
      explanation: {
        requestId: input.requestId,
        model,
        promptTokens: tokenIds ? tokenIds.length : null,
        requestBlocks,
        cold,
        scorers: runs.map((r) => r.outcome),
        pods,
        chosen,
        predictedCachedBlocks,
        fallbacks,
      },
      ranked: ranking.map((r) => byId.get(r.pod) as DiscoveredPod),
      candidates,
      tokenIds,
      requestKeys,
      timings,
    };
  }

  /**
   * After the pick: a speculative index entry for the chosen pod (the next request with this
   * prefix sees it before the pod's events arrive), and the no-hit-LRU update for a cold request.
   * Both bounded by the scorer deadline; failures are counted, never fatal.
   */
  async commit(decision: RouteDecision): Promise<void> {
    const { config, metrics, logger } = this.deps;
    const chosen = decision.explanation.chosen;
    if (!chosen) return;
    if (config.weights.approxPrefix > 0 && decision.requestKeys) this.approx.record(decision.requestKeys, chosen);
    const work: Promise<void>[] = [];
    // Nothing to announce when the index already says the chosen pod holds every block.
    const alreadyHeld = decision.explanation.predictedCachedBlocks >= decision.explanation.requestBlocks;
    if (config.speculativeTtlMs > 0 && decision.requestKeys && decision.requestKeys.length > 0 && !alreadyHeld) {
      work.push(
        this.deps.indexerAdmin
          .speculativeInsert(
            {
              model: decision.candidates.baseModel,
              loraName: decision.candidates.loraName ?? '',
              pod: chosen,
              requestKeys: decision.requestKeys,
              ttlMs: config.speculativeTtlMs,
            },
            config.scorerTimeoutMs,
          )
          .then(
            () => void metrics.speculative.inc({ outcome: 'ok' }),
            (err: unknown) => {
              metrics.speculative.inc({ outcome: 'error' });
              logger.debug({ err: grpcFailureReason(err), pod: chosen }, 'speculative insert failed');
            },
          ),
      );
    }
    if (config.weights.noHitLru > 0 && decision.explanation.cold) {
      work.push(
        withDeadline(this.deps.lru.touch(chosen), config.scorerTimeoutMs).catch((err: unknown) => {
          metrics.scorerFallbacks.inc({ scorer: SCORERS.noHitLru, reason: 'redis_write_failed' });
          logger.debug({ err: err instanceof Error ? err.message : String(err) }, 'no-hit-LRU update failed');
        }),
      );
    }
    await Promise.all(work);
  }

  private async lruOrder(): Promise<{ order: string[]; reason: string | undefined }> {
    try {
      return { order: await withDeadline(this.deps.lru.order(), this.deps.config.scorerTimeoutMs), reason: undefined };
    } catch (err) {
      const reason = err instanceof DeadlineExceeded ? 'redis_deadline_exceeded' : 'redis_unavailable';
      return { order: this.deps.lru.localOrder(), reason };
    }
  }

  private async tokenize(input: RouteInput, candidates: Candidates): Promise<{ ids: number[] | null; failure?: string }> {
    const { tokenizer, metrics } = this.deps;
    let chat: ReturnType<typeof chatRenderRequestFromOpenAI> | undefined;
    let prompt: ReturnType<typeof completionPrompt> | undefined;
    try {
      if (input.kind === 'chat') {
        // Template output can print numbers from tools or kwargs: `1.0` must stay a float, so
        // those bodies are parsed again the way Python's json does.
        const body = 'tools' in input.body || 'chat_template_kwargs' in input.body ? (parsePythonJson(input.raw.toString('utf8')) as Map<string, unknown>) : input.body;
        chat = chatRenderRequestFromOpenAI(body instanceof Map ? (Object.fromEntries(body) as Record<string, unknown>) : body);
      } else {
        prompt = completionPrompt(input.request as CompletionRequest);
      }
    } catch (err) {
      if (err instanceof TokenizationError) throw badRequest(err.message);
      throw err;
    }
    if (prompt && 'tokenIds' in prompt) return { ids: prompt.tokenIds };
    const started = performance.now();
    return productTracer().startActiveSpan(semconv.SPAN_TOKENIZE, { attributes: { [semconv.ATTR_MODEL]: candidates.baseModel } }, async (span: Span) => {
      try {
        const ids = chat ? (await tokenizer.renderChat(candidates.baseModel, chat)).tokenIds : await tokenizer.renderCompletion(candidates.baseModel, (prompt as { text: string }).text);
        span.setAttribute(semconv.ATTR_PROMPT_TOKENS, ids.length);
        metrics.tokenizeSeconds.observe((performance.now() - started) / 1000);
        return { ids };
      } catch (err) {
        const failure = tokenizationFailure(err);
        if (failure === 'invalid_argument') throw badRequest(err instanceof Error ? err.message : String(err));
        span.setStatus({ code: SpanStatusCode.ERROR, message: failure });
        return { ids: null, failure };
      } finally {
        span.end();
      }
    });
  }

  private remote(
    scorer: ScorerName,
    weight: number,
    client: ScoringService,
    candidates: Candidates,
    podIds: string[],
    input: RouteInput,
    requestKeys: readonly bigint[] | null,
  ): Promise<ScorerRun> {
    const started = performance.now();
    return productTracer().startActiveSpan(semconv.SPAN_SCORE, { attributes: { [semconv.ATTR_SCORER]: scorer } }, async (span: Span) => {
      try {
        const response = await client.score(
          {
            model: candidates.baseModel,
            lora_name: candidates.loraName ?? '',
            pods: podIds,
            token_ids: [],
            request_keys: requestKeys ? requestKeys.map(String) : [],
            cache_salt: input.request.cache_salt ?? '',
            request_id: input.requestId,
            scorer: scorer === SCORERS.precisePrefix ? '' : scorer,
          },
          this.deps.config.scorerTimeoutMs,
        );
        return this.fromResponse(scorer, weight, response, performance.now() - started);
      } catch (err) {
        const reason = grpcFailureReason(err);
        span.setStatus({ code: SpanStatusCode.ERROR, message: reason });
        return failed(scorer, weight, reason, performance.now() - started);
      } finally {
        span.end();
      }
    });
  }

  private fromResponse(scorer: ScorerName, weight: number, response: ScoreResponse__Output, latencyMs: number): ScorerRun {
    const result = run({ scorer, weight, status: 'ok', latencyMs }, { requestBlocks: response.request_blocks });
    for (const entry of response.scores) {
      if (scorer === SCORERS.precisePrefix) {
        result.matched.set(entry.pod, entry.matched_blocks);
        let speculative = 0;
        let weighted = entry.matched_blocks;
        try {
          const detail = JSON.parse(entry.detail || '{}') as PrefixDetail;
          speculative = detail.speculativeBlocks ?? 0;
          weighted = detail.weighted ?? weighted;
        } catch {
          // A scorer that sends plain-text details still scores.
        }
        result.confirmed.set(entry.pod, entry.matched_blocks - speculative);
        result.scores.set(entry.pod, precisePrefixScore(weighted, response.request_blocks));
      } else {
        result.scores.set(entry.pod, entry.score);
      }
      if (entry.detail) result.details.set(entry.pod, entry.detail);
    }
    return result;
  }
}
