import { CollectorConfig, ConfigError } from '@kvr/config';
import { startJetStreamCollector, type Collector } from '@kvr/collector';
import { DiscoveryConfigError, podSourceFromSettings } from '@kvr/discovery';
import { StreamConfigConflictError } from '@kvr/jetstream';
import { announceReady, loadAppConfig, runAppCommand, startAdminServer, type CommandSpec, type FlagTarget, type ParsedValues } from '@kvr/runtime';
import { createLogger, createMetricsRegistry, startTracing } from '@kvr/telemetry';

const APP = 'collector';

export const collectorSpec: CommandSpec = {
  name: 'kvr collector',
  summary: "Bridges every vLLM pod's KV-event stream (ZMQ) into NATS JetStream: ordered, de-duplicated, gaps replayed, restarts detected.",
  options: {
    config: { type: 'string', description: 'YAML config file (also KVR_CONFIG); see docs/configuration.md#collector', placeholder: 'FILE' },
    nats: { type: 'string', description: 'NATS URL(s) (default nats://127.0.0.1:4222)', placeholder: 'URL' },
    'pods-file': { type: 'string', description: 'Discover pods from this YAML/JSON file (watched)', placeholder: 'PATH' },
    partitions: { type: 'string', description: 'Partitions of the events stream (default 8; must match the indexers)', placeholder: 'N' },
    instance: { type: 'string', description: 'Replica name in logs and epoch records', placeholder: 'NAME' },
    'probe-port': { type: 'string', description: 'HTTP port for /health, /ready, /metrics (default 8091; 0 picks one)', placeholder: 'N' },
  },
  details: 'Prints {"event":"ready","app":"collector","listen":{"http":"http://…"}} once the streams exist and discovery has started.',
};

const FLAGS: Record<string, FlagTarget> = {
  nats: { path: ['nats'] },
  'pods-file': { path: ['discovery', 'file'] },
  partitions: { path: ['partitions'], number: true },
  instance: { path: ['instance'] },
  'probe-port': { path: ['probePort'], number: true },
};

async function start(values: ParsedValues): Promise<{ stop(): Promise<void> }> {
  const { config, logger } = loadAppConfig(CollectorConfig, {
    app: APP,
    values,
    flags: FLAGS,
    // A pods file also chooses the file source.
    adjust: (overrides) => {
      if (typeof values['pods-file'] === 'string') (overrides['discovery'] as Record<string, unknown>)['kind'] = 'file';
    },
  });
  const tracing = startTracing(APP);
  const registry = createMetricsRegistry({ app: APP });
  let collector: Collector;
  try {
    collector = await startJetStreamCollector(config, logger, registry, podSourceFromSettings(config.discovery, logger.child({ component: 'discovery' })));
  } catch (err) {
    // A conflicting stream or an invalid pod list is a configuration problem: exit 2 with the list.
    await tracing.shutdown();
    if (err instanceof StreamConfigConflictError) throw new ConfigError(APP, err.differences.map((d) => `stream ${err.stream}: ${d}`));
    if (err instanceof DiscoveryConfigError) throw new ConfigError(APP, err.problems.map((p) => `discovery: ${p}`));
    throw err;
  }
  const admin = await startAdminServer({ host: config.probeHost, port: config.probePort, registry, ready: () => ({ ok: true, details: { pods: collector.podCount } }) });
  announceReady(APP, { http: admin.url });
  return {
    async stop() {
      await collector.stop();
      await admin.close();
      await tracing.shutdown();
    },
  };
}

/** `kvr collector [--config FILE] [--nats URL] [--pods-file PATH] …` */
export function main(argv: readonly string[]): Promise<number | undefined> {
  return runAppCommand({ app: APP, spec: collectorSpec, argv, logger: createLogger({ app: APP }), start: (values) => start(values) });
}
