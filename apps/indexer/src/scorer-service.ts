/**
 * `kvr.scoring.v1.Scorer` over gRPC: the precise-prefix score of every candidate pod for a
 * request's tokens, with one index lookup. Score = tier-weighted matched consecutive blocks ÷ the
 * request's blocks (llm-d's normalisation since 2026-05), so 1.0 means "holds the whole prompt".
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_LOADER_OPTIONS, protoDir, SCORER_PROTO, type ScoreRequest__Output, type ScorerProtoGrpcType } from '@kvr/contracts';
import type { BlockKeyer } from '@kvr/block-keys';
import type { BlockIndex } from '@kvr/kv-index';
import type { Logger } from '@kvr/telemetry';
import type { IndexerMetrics } from './metrics';

export const SCORER_NAME = 'precise-prefix';

export function scorerProto(): ScorerProtoGrpcType {
  const definition = protoLoader.loadSync(SCORER_PROTO, { ...PROTO_LOADER_OPTIONS, includeDirs: [protoDir()] });
  return grpc.loadPackageDefinition(definition) as unknown as ScorerProtoGrpcType;
}

export async function score(index: BlockIndex, keyer: BlockKeyer, request: ScoreRequest__Output) {
  const model = request.lora_name || request.model;
  const keys = keyer.forModel(model).keysForTokens(request.token_ids, request.cache_salt ? { cacheSalt: request.cache_salt } : {});
  const result = await index.lookup(keys, request.pods);
  return {
    scorer: SCORER_NAME,
    request_blocks: keys.length,
    scores: result.pods.map((p) => ({
      pod: p.pod,
      score: keys.length === 0 ? 0 : p.weightedScore / keys.length,
      matched_blocks: p.matchedBlocks,
      detail: JSON.stringify({ matchedBlocks: p.matchedBlocks, speculativeBlocks: p.speculativeBlocks, weighted: p.weightedScore }),
    })),
  };
}

export async function startScorerServer(options: { address: string; index: BlockIndex; keyer: BlockKeyer; metrics: IndexerMetrics; logger: Logger }): Promise<{ address: string; stop(): Promise<void> }> {
  const server = new grpc.Server();
  server.addService(scorerProto().kvr.scoring.v1.Scorer.service, {
    Score: (call: grpc.ServerUnaryCall<ScoreRequest__Output, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      score(options.index, options.keyer, call.request).then(
        (response) => {
          options.metrics.scores.inc({ outcome: 'ok' });
          callback(null, response);
        },
        (err: unknown) => {
          options.metrics.scores.inc({ outcome: 'error' });
          options.logger.warn({ err }, 'Score failed');
          callback({ code: grpc.status.UNAVAILABLE, details: err instanceof Error ? err.message : String(err) });
        },
      );
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(options.address, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(new Error(`cannot listen on ${options.address}: ${err.message}`)) : resolve(bound))),
  );
  const host = options.address.slice(0, options.address.lastIndexOf(':'));
  return {
    address: `${host}:${port}`,
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
