/**
 * The Nest gRPC wiring in process: bound on port 0 with the real port reported, Score over a
 * real grpc-js client, an unknown scorer answered with INVALID_ARGUMENT, a clean stop.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { Registry } from 'prom-client';
import { PROTO_LOADER_OPTIONS, protoDir, SCORER_PROTO, type ScoreRequest, type ScoreResponse__Output, type ScorerProtoGrpcType } from '@kvr/contracts';
import { createLogger } from '@kvr/telemetry';
import { startScorerGrpcServer, type ScorerGrpcServer } from './grpc-server';
import { createLoadScorerMetrics } from './metrics';
import { LoadScoreService } from './score-service';

function scorerClient(address: string) {
  const definition = protoLoader.loadSync(SCORER_PROTO, { ...PROTO_LOADER_OPTIONS, includeDirs: [protoDir()] });
  const proto = grpc.loadPackageDefinition(definition) as unknown as ScorerProtoGrpcType;
  return new proto.kvr.scoring.v1.Scorer(address, grpc.credentials.createInsecure());
}

describe('Scorer gRPC server (NestJS)', () => {
  let server: ScorerGrpcServer;
  let client: ReturnType<typeof scorerClient>;
  const call = (request: ScoreRequest): Promise<ScoreResponse__Output> =>
    new Promise((resolve, reject) => client.Score(request, { deadline: Date.now() + 5_000 }, (err, value) => (err || !value ? reject(err ?? new Error('no response')) : resolve(value))));

  beforeAll(async () => {
    const values = new Map([
      ['10.0.0.1:8000', { load: { waiting: 2, running: 1, kvUsage: 0.5 }, at: 0 }],
      ['10.0.0.2:8000', { load: { waiting: 0, running: 0, kvUsage: 0.2 }, at: 0 }],
    ]);
    const metrics = createLoadScorerMetrics(new Registry(), () => ({ known: 2, fresh: 2 }));
    const service = new LoadScoreService({ source: { load: (pod) => values.get(pod), clock: () => 100 }, staleAfterMs: 2_000, metrics });
    server = await startScorerGrpcServer({ address: '127.0.0.1:0', service, logger: createLogger({ app: 'load-scorer', level: 'silent' }) });
    client = scorerClient(server.address);
  });

  afterAll(async () => {
    client?.close();
    await server?.stop();
  });

  it('reports the port it bound', () => {
    expect(server.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(server.address).not.toBe('127.0.0.1:0');
  });

  it('serves both scorers and omits pods without values', async () => {
    const kv = await call({ pods: ['10.0.0.1:8000', '10.0.0.2:8000', '10.0.0.3:8000'] });
    expect(kv.scorer).toBe('kv-cache-utilization');
    expect(kv.request_blocks).toBe(0);
    expect(kv.scores.map((s) => [s.pod, s.score, s.matched_blocks, s.detail])).toEqual([
      ['10.0.0.1:8000', 0.5, 0, 'kv_usage=0.5'],
      ['10.0.0.2:8000', 0.8, 0, 'kv_usage=0.2'],
    ]);
    const queue = await call({ pods: ['10.0.0.1:8000', '10.0.0.2:8000'], scorer: 'queue-size' });
    expect(queue.scorer).toBe('queue-size');
    expect(queue.scores.map((s) => [s.pod, s.score])).toEqual([
      ['10.0.0.1:8000', 0],
      ['10.0.0.2:8000', 1],
    ]);
  });

  it('answers an unknown scorer with INVALID_ARGUMENT', async () => {
    await expect(call({ pods: ['10.0.0.1:8000'], scorer: 'precise-prefix' })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringContaining('unknown scorer "precise-prefix"') });
  });
});
