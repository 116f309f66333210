import { ConfigError, IndexerConfig } from '@kvr/config';
import { indexerBackends } from '@kvr/contracts';
import { DiscoveryConfigError } from '@kvr/discovery';
import { announceReady, loadAppConfig, runAppCommand, startAdminServer, type CommandSpec, type FlagTarget, type ParsedValues } from '@kvr/runtime';
import { createLogger, createMetricsRegistry, startTracing } from '@kvr/telemetry';
import { Indexer } from './indexer';
import { StandaloneIndexer } from './standalone';


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
    standalone: { type: 'boolean', description: "No NATS, no Redis: subscribe to the pods' events in this process into an in-memory index (one replica; nothing kept across restarts)" },
    'pods-file': { type: 'string', description: 'Standalone: discover pods from this YAML/JSON file (watched)', placeholder: 'PATH' },
  },
  details:
    'Prints {"event":"ready","app":"indexer","listen":{"grpc":"host:port","http":"http://…"}} once it serves; /ready names the backends (bus, index). Standalone mode takes its pods from the discovery settings (KVR_DISCOVERY__PODS, --pods-file, or Kubernetes) as the collector does.',
};

const FLAGS: Record<string, FlagTarget> = {
  nats: { path: ['nats'] },
  redis: { path: ['redis'] },
  grpc: { path: ['grpc'] },
  partitions: { path: ['partitions'], number: true },
  'probe-port': { path: ['probePort'], number: true },
  'pods-file': { path: ['discovery', 'file'] },
};

async function start(values: ParsedValues): Promise<{ stop(): Promise<void> }> {
  const { config, logger } = loadAppConfig(IndexerConfig, {
    app: APP,
    values,
    flags: FLAGS,
    adjust: (overrides) => {
      if (values['standalone'] === true) overrides['standalone'] = true;
      // A pods file also chooses the file source.
      if (typeof values['pods-file'] === 'string') (overrides['discovery'] as Record<string, unknown>)['kind'] = 'file';
    },
  });
  const tracing = startTracing(APP);
  const registry = createMetricsRegistry({ app: APP });
  let service: { grpcAddress: string; stop(): Promise<void>; details(): Record<string, unknown> };
  try {
    if (config.standalone) {
      const standalone = await StandaloneIndexer.start(config, logger, registry);
      service = { grpcAddress: standalone.grpcAddress, stop: () => standalone.stop(), details: () => ({ pods: standalone.podCount }) };
    } else {
      const indexer = await Indexer.start(config, logger, registry);
      service = { grpcAddress: indexer.grpcAddress, stop: () => indexer.stop(), details: () => ({ partitions: indexer.ownedPartitions }) };
    }
  } catch (err) {
    await tracing.shutdown();
    if (err instanceof DiscoveryConfigError) throw new ConfigError(APP, err.problems.map((p) => `discovery: ${p}`));
    throw err;
  }
  const admin = await startAdminServer({ host: config.probeHost, port: config.probePort, registry, ready: () => ({ ok: true, details: { ...service.details(), backends: indexerBackends(config.standalone) } }) });
  announceReady(APP, { grpc: service.grpcAddress, http: admin.url });
  return {
    async stop() {
      await service.stop();
      await admin.close();
      await tracing.shutdown();
    },
  };
}

/** `kvr indexer [--config FILE] [--nats URL] [--redis URL] [--grpc ADDR] …` */
export function main(argv: readonly string[]): Promise<number | undefined> {
  return runAppCommand({ app: APP, spec: indexerSpec, argv, logger: createLogger({ app: APP }), start: (values) => start(values) });
}
