// Nest's decorators read design-time metadata: the polyfill must be in place before they load.
import 'reflect-metadata';
import { ConfigError, LoadScorerConfig } from '@kvr/config';
import { DiscoveryConfigError } from '@kvr/discovery';
import { announceReady, loadAppConfig, runAppCommand, startAdminServer, type AdminServer, type CommandSpec, type FlagTarget, type ParsedValues } from '@kvr/runtime';
import { createLogger, createMetricsRegistry, startTracing } from '@kvr/telemetry';
import { LoadScorer } from './load-scorer';

const APP = 'load-scorer';

export const loadScorerSpec: CommandSpec = {
  name: 'kvr load-scorer',
  summary: "Scrapes every vLLM pod's /metrics and serves the kv-cache-utilization and queue-size Scorers over gRPC.",
  options: {
    config: { type: 'string', description: 'YAML config file (also KVR_CONFIG); see docs/configuration.md#load-scorer', placeholder: 'FILE' },
    grpc: { type: 'string', description: 'gRPC listen host:port (default 127.0.0.1:50052; port 0 picks one)', placeholder: 'ADDR' },
    'scrape-interval-ms': { type: 'string', description: "How often each pod's /metrics is scraped, ms (default 50)", placeholder: 'N' },
    'probe-port': { type: 'string', description: 'HTTP port for /health, /ready, /metrics (default 8093; 0 picks one)', placeholder: 'N' },
  },
  details: [
    'Pods come from the discovery section (static list, e.g. KVR_DISCOVERY__PODS=\'[{"address":"10.0.0.7","httpPort":8000}]\', a watched file or Kubernetes).',
    'Prints {"event":"ready","app":"load-scorer","listen":{"grpc":"host:port","http":"http://…"}} once it serves.',
  ].join('\n'),
};

const FLAGS: Record<string, FlagTarget> = {
  grpc: { path: ['grpc'] },
  'scrape-interval-ms': { path: ['scrapeIntervalMs'], number: true },
  'probe-port': { path: ['probePort'], number: true },
};

async function start(values: ParsedValues): Promise<{ stop(): Promise<void> }> {
  const { config, logger } = loadAppConfig(LoadScorerConfig, { app: APP, values, flags: FLAGS });
  const tracing = startTracing(APP);
  const registry = createMetricsRegistry({ app: APP });
  let scorer: LoadScorer;
  try {
    scorer = await LoadScorer.start(config, logger, registry);
  } catch (err) {
    await tracing.shutdown();
    // An invalid pod list is a configuration problem: exit 2 with the list.
    if (err instanceof DiscoveryConfigError) throw new ConfigError(APP, err.problems.map((p) => `discovery: ${p}`));
    throw err;
  }
  let admin: AdminServer;
  try {
    admin = await startAdminServer({ host: config.probeHost, port: config.probePort, registry, ready: () => scorer.ready() });
  } catch (err) {
    await scorer.stop();
    await tracing.shutdown();
    throw err;
  }
  announceReady(APP, { grpc: scorer.grpcAddress, http: admin.url });
  return {
    async stop() {
      await scorer.stop();
      await admin.close();
      await tracing.shutdown();
    },
  };
}

/** `kvr load-scorer [--config FILE] [--grpc ADDR] [--scrape-interval-ms N] [--probe-port N]` */
export function main(argv: readonly string[]): Promise<number | undefined> {
  return runAppCommand({ app: APP, spec: loadScorerSpec, argv, logger: createLogger({ app: APP }), start: (values) => start(values) });
}
