import { CollectorConfig, ConfigError, loadConfig, redactConfig } from '@kvr/config';
import { DiscoveryConfigError } from '@kvr/discovery';
import { StreamConfigConflictError } from '@kvr/jetstream';
import { announceReady, runAppCommand, startAdminServer, type CommandSpec, type ParsedValues } from '@kvr/runtime';
import { createLogger, createMetricsRegistry, startTracing } from '@kvr/telemetry';
import { Collector } from './collector';

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

function overridesFrom(values: ParsedValues): { overrides: Record<string, unknown>; labels: Record<string, string> } {
  const overrides: Record<string, unknown> = {};
  const labels: Record<string, string> = {};
  const set = (flag: string, path: string[], value: unknown): void => {
    let target = overrides;
    for (const part of path.slice(0, -1)) target = (target[part] ??= {}) as Record<string, unknown>;
    target[path[path.length - 1] as string] = value;
    labels[path.join('.')] = `--${flag}`;
  };
  const num = (text: string): number | string => (text.trim() !== '' && !Number.isNaN(Number(text)) ? Number(text) : text);
  if (typeof values['nats'] === 'string') set('nats', ['nats'], values['nats']);
  if (typeof values['pods-file'] === 'string') {
    set('pods-file', ['discovery', 'file'], values['pods-file']);
    set('pods-file', ['discovery', 'kind'], 'file');
  }
  if (typeof values['partitions'] === 'string') set('partitions', ['partitions'], num(values['partitions']));
  if (typeof values['instance'] === 'string') set('instance', ['instance'], values['instance']);
  if (typeof values['probe-port'] === 'string') set('probe-port', ['probePort'], num(values['probe-port']));
  return { overrides, labels };
}

async function start(values: ParsedValues): Promise<{ stop(): Promise<void> }> {
  const { overrides, labels } = overridesFrom(values);
  const file = typeof values['config'] === 'string' ? values['config'] : process.env['KVR_CONFIG'];
  const { config, ignoredEnv } = loadConfig(CollectorConfig, { app: APP, file, env: process.env, overrides, overrideLabels: labels });
  const logger = createLogger({ app: APP, level: config.logLevel as 'info' });
  if (ignoredEnv.length > 0) logger.warn({ ignoredEnv }, 'KVR_ variables that the collector does not use');
  logger.info({ config: redactConfig(CollectorConfig, config) }, 'starting');
  const tracing = startTracing(APP);
  const registry = createMetricsRegistry({ app: APP });
  let collector: Collector;
  try {
    collector = await Collector.start(config, logger, registry);
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
