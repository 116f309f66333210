/**
 * The indexer's gRPC surface: `kvr.scoring.v1.Scorer` (precise-prefix score, what the gateway
 * calls per request) and `kvr.index.v1.Indexer` (lookup, explain, dump, speculative inserts,
 * stats, for gateways and kvctl). Both read the shared index, so every replica serves them.
 */
import * as grpc from '@grpc/grpc-js';
import {
  INDEXER_PROTO,
  loadGrpcPackage,
  SCORER_PROTO,
  type DumpRequest__Output,
  type IndexerProtoGrpcType,
  type LookupRequest__Output,
  type ScoreRequest__Output,
  type ScorerProtoGrpcType,
  type SpeculativeInsertRequest__Output,
} from '@kvr/contracts';
import { parseUint64, type BlockKeyer } from '@kvr/block-keys';
import type { BlockIndex } from '@kvr/kv-index';
import { precisePrefixScoreResponse } from '@kvr/scoring';
import type { Logger } from '@kvr/telemetry';
import type { IndexerMetrics } from './metrics';

export const scorerProto = (): ScorerProtoGrpcType => loadGrpcPackage<ScorerProtoGrpcType>(SCORER_PROTO);
export const indexerProto = (): IndexerProtoGrpcType => loadGrpcPackage<IndexerProtoGrpcType>(INDEXER_PROTO);

function requestKeys(keyer: BlockKeyer, request: { model: string; lora_name: string; token_ids: number[]; cache_salt: string; request_keys?: string[] }): bigint[] {
  if (request.request_keys && request.request_keys.length > 0) return request.request_keys.map((k) => parseUint64(k));
  return keyer.forModel(request.lora_name || request.model).keysForTokens(request.token_ids, request.cache_salt ? { cacheSalt: request.cache_salt } : {});
}

export async function score(index: BlockIndex, keyer: BlockKeyer, request: ScoreRequest__Output) {
  const keys = requestKeys(keyer, request);
  const result = await index.lookup(keys, request.pods);
  return precisePrefixScoreResponse(keys.length, result.pods);
}

async function lookup(index: BlockIndex, keyer: BlockKeyer, request: LookupRequest__Output) {
  const keys = requestKeys(keyer, request);
  // No candidates named: every pod that holds the first block.
  const pods = request.pods.length > 0 ? request.pods : keys.length > 0 ? ((await index.blockHolders([keys[0] as bigint]))[0] ?? []) : [];
  const result = await index.lookup(keys, pods);
  return {
    keys,
    response: {
      request_blocks: keys.length,
      pods: result.pods.map((p) => ({ pod: p.pod, matched_blocks: p.matchedBlocks, weighted_score: p.weightedScore, speculative_blocks: p.speculativeBlocks })),
    },
  };
}

export interface GrpcServerOptions {
  readonly address: string;
  readonly index: BlockIndex;
  readonly keyer: BlockKeyer;
  readonly metrics: IndexerMetrics;
  readonly logger: Logger;
  readonly ownedPartitions: () => number[];
}

/** Adapts an async handler to grpc-js: errors become INVALID_ARGUMENT (bad input) or UNAVAILABLE. */
function unary<Req, Res>(logger: Logger, name: string, handler: (request: Req) => Promise<Res>) {
  return (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>): void => {
    handler(call.request).then(
      (response) => callback(null, response),
      (err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        const invalid = err instanceof RangeError || /uint64|token/i.test(message);
        if (!invalid) logger.warn({ err, method: name }, 'indexer call failed');
        callback({ code: invalid ? grpc.status.INVALID_ARGUMENT : grpc.status.UNAVAILABLE, details: message });
      },
    );
  };
}

export async function startGrpcServer(options: GrpcServerOptions): Promise<{ address: string; stop(): Promise<void> }> {
  const { index, keyer, metrics, logger } = options;
  const server = new grpc.Server();
  server.addService(scorerProto().kvr.scoring.v1.Scorer.service, {
    Score: unary(logger, 'Score', async (request: ScoreRequest__Output) => {
      try {
        const response = await score(index, keyer, request);
        metrics.scores.inc({ outcome: 'ok' });
        return response;
      } catch (err) {
        metrics.scores.inc({ outcome: 'error' });
        throw err;
      }
    }),
  });
  server.addService(indexerProto().kvr.index.v1.Indexer.service, {
    Lookup: unary(logger, 'Lookup', async (request: LookupRequest__Output) => (await lookup(index, keyer, request)).response),
    Explain: unary(logger, 'Explain', async (request: LookupRequest__Output) => {
      const { keys, response } = await lookup(index, keyer, request);
      const holders = await index.blockHolders(keys);
      return { ...response, blocks: keys.map((key, i) => ({ request_key: key.toString(), pods: holders[i] ?? [] })) };
    }),
    Dump: unary(logger, 'Dump', async (request: DumpRequest__Output) => {
      const entries = await index.dump({ ...(request.pod ? { pod: request.pod } : {}), limit: request.limit > 0 ? request.limit : 1000 });
      return { entries: entries.map((e) => ({ request_key: e.requestKey.toString(), pod: e.pod, tier: e.tier, blocks: e.blocks, speculative: e.speculative })) };
    }),
    SpeculativeInsert: unary(logger, 'SpeculativeInsert', async (request: SpeculativeInsertRequest__Output) => {
      if (!request.pod) throw new RangeError('pod is required');
      const keys = requestKeys(keyer, request);
      await index.speculativeInsert(keys, request.pod, request.ttl_ms > 0 ? request.ttl_ms : 2_000);
      return { blocks: keys.length };
    }),
    Stats: unary(logger, 'Stats', async () => {
      const stats = await index.stats();
      return {
        request_keys: String(stats.requestKeys),
        entries: String(stats.entries),
        pods: stats.pods,
        engine_keys: String(stats.engineKeys),
        speculative_entries: String(stats.speculativeEntries),
        owned_partitions: options.ownedPartitions(),
      };
    }),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(options.address, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(new Error(`cannot listen on ${options.address}: ${err.message}`)) : resolve(bound))),
  );
  const host = options.address.slice(0, options.address.lastIndexOf(':'));
  return { address: `${host}:${port}`, stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())) };
}
