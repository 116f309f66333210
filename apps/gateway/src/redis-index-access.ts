/**
 * `indexAccess: redis`: the gateway reads the block index from the index's Redis itself (the
 * indexer's lookup script, one round trip for every candidate) and writes its speculative entries
 * there, instead of asking the indexer over gRPC. One process hop fewer on every request's
 * critical path; the indexer remains the only writer of pod events.
 *
 * Both classes answer exactly as the gRPC clients they replace (`ScorerClient`, `IndexerClient`),
 * errors included: a failure carries the gRPC status a remote call would have had
 * (DEADLINE_EXCEEDED past the deadline, UNAVAILABLE otherwise), so fallbacks are counted under the
 * same reasons whichever path is configured.
 */
import * as grpc from '@grpc/grpc-js';
import { parseUint64 } from '@kvr/block-keys';
import type { ScoreRequest, ScoreResponse__Output } from '@kvr/contracts';
import type { BlockIndex } from '@kvr/kv-index';
import { precisePrefixScoreResponse } from '@kvr/scoring';
import type Redis from 'ioredis';
import { DeadlineExceeded, withDeadline } from './deadline';
import type { ScoringService, SpeculativeInsert, SpeculativeWriter } from './remote';

/** An error shaped like a failed grpc-js call, so `grpcFailureReason` names it. */
class IndexAccessError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

/** `work` within `timeoutMs`, failures turned into gRPC-shaped errors. */
async function withinDeadline<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  try {
    return await withDeadline(work, timeoutMs);
  } catch (err) {
    const code = err instanceof DeadlineExceeded ? grpc.status.DEADLINE_EXCEEDED : grpc.status.UNAVAILABLE;
    throw new IndexAccessError(code, `${what}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Resolves true once `redis` is ready (false after `timeoutMs`): a warm-up, never fatal. */
function redisReady(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(ok);
    };
    const onReady = (): void => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    redis.on('ready', onReady);
  });
}

type IndexReads = Pick<BlockIndex, 'lookup' | 'speculativeInsert'>;

/** The precise-prefix scorer over the index in Redis. */
export class RedisPrefixScorer implements ScoringService {
  constructor(
    private readonly index: IndexReads,
    private readonly redis: Redis,
  ) {}

  async score(request: ScoreRequest, timeoutMs: number): Promise<ScoreResponse__Output> {
    const keys = (request.request_keys ?? []).map((key) => parseUint64(key));
    const result = await withinDeadline(this.index.lookup(keys, request.pods ?? []), timeoutMs, 'precise-prefix lookup');
    return precisePrefixScoreResponse(keys.length, result.pods);
  }

  connect(timeoutMs: number): Promise<boolean> {
    return redisReady(this.redis, timeoutMs);
  }

  close(): void {
    // The connection belongs to the gateway (shared with the no-hit-LRU), which closes it.
  }
}

/** Speculative entries written to the index in Redis. */
export class RedisSpeculativeWriter implements SpeculativeWriter {
  constructor(private readonly index: IndexReads) {}

  async speculativeInsert(insert: SpeculativeInsert, timeoutMs: number): Promise<number> {
    await withinDeadline(this.index.speculativeInsert(insert.requestKeys, insert.pod, insert.ttlMs), timeoutMs, 'speculative insert');
    return insert.requestKeys.length;
  }

  /** The scorer's connect() already waits for the same connection. */
  connect(): Promise<boolean> {
    return Promise.resolve(true);
  }

  close(): void {
    // As for the scorer: the gateway closes the connection.
  }
}
