import { IndexerConfig } from '@kvr/config';
import { announceReady, loadAppConfig, runAppCommand, startAdminServer, type CommandSpec, type FlagTarget, type ParsedValues } from '@kvr/runtime';
import { createLogger, createMetricsRegistry, startTracing } from '@kvr/telemetry';
import { Indexer } from './indexer';

const APP = 'indexer';

export const indexerSpec: CommandSpec = {
  name: 'kvr indexer',
  summary: 'Consumes the KV event stream by partition into the Redis block index and serves the precise-prefix Scorer over gRPC.',
  options: {
    config: { type: 'string', description: 'YAML config file (also KVR_CONFIG); see docs/configuration.md#indexer', placeholder: 'FILE' },
    nats: { type: 'string', description: 'NATS URL(s) (default nats://127.0.0.1:4222)', placeholder: 'URL' },
    redis: { type: 'string', description: 'Redis URL (default redis://127.0.0.1:6379)', placeholder: 'URL' },
    grpc: { type: 'string', description: 'gRPC listen host:port (default 127.0.0.1:50051; port 0 picks one)', placeholder: 'ADDR' },
    partitions: { type: 'string', description: 'Partitions of the events stream (default 8; as the collectors)', placeholder: 'N' },
    'probe-port': { type: 'string', description: 'HTTP port for /health, /ready, /metrics (default 8092; 0 picks one)', placeholder: 'N' },
  },
  details: 'Prints {"event":"ready","app":"indexer","listen":{"grpc":"host:port","http":"http://…"}} once it serves.',
};

const FLAGS: Record<string, FlagTarget> = {
  nats: { path: ['nats'] },
  redis: { path: ['redis'] },
  grpc: { path: ['grpc'] },
  partitions: { path: ['partitions'], number: true },
  'probe-port': { path: ['probePort'], number: true },
};

async function start(values: ParsedValues): Promise<{ stop(): Promise<void> }> {
  const { config, logger } = loadAppConfig(IndexerConfig, { app: APP, values, flags: FLAGS });
  const tracing = startTracing(APP);
  const registry = createMetricsRegistry({ app: APP });
  const indexer = await Indexer.start(config, logger, registry);
  const admin = await startAdminServer({ host: config.probeHost, port: config.probePort, registry, ready: () => ({ ok: true, details: { partitions: indexer.ownedPartitions } }) });
  announceReady(APP, { grpc: indexer.grpcAddress, http: admin.url });
  return {
    async stop() {
      await indexer.stop();
      await admin.close();
      await tracing.shutdown();
    },
  };
}

/** `kvr indexer [--config FILE] [--nats URL] [--redis URL] [--grpc ADDR] …` */
export function main(argv: readonly string[]): Promise<number | undefined> {
  return runAppCommand({ app: APP, spec: indexerSpec, argv, logger: createLogger({ app: APP }), start: (values) => start(values) });
}
