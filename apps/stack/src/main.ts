/**
 * `kvr up`: the whole system on one machine, for development, tests and the demo — its own
 * redis-server and nats-server -js on free ports, a simulated vLLM fleet, and every service that
 * exists (collector, indexer(s), tokenizer, load-scorer, gateway(s)). Each part is a real process
 * started the way a user starts it (`kvr <app>`), ready by its ready line.
 */
import { runAppCommand, UsageError, type CommandSpec, type ParsedValues } from '@kvr/runtime';
import { resolveBackend, startPipeline, type Pipeline, type PipelineBackend } from '@kvr/local-servers';
import { createLogger, type Logger } from '@kvr/telemetry';

const APP = 'up';

export const upSpec: CommandSpec = {
  name: 'kvr up',
  summary: 'Starts a local stack: Redis, NATS JetStream, a simulated vLLM fleet and the services, on free ports.',
  options: {
    pods: { type: 'string', description: 'Simulated pods (default 4)', placeholder: 'N' },
    'time-scale': { type: 'string', description: 'Simulated GPU speed-up (default 1)', placeholder: 'X' },
    partitions: { type: 'string', description: 'Event stream partitions (default 8)', placeholder: 'N' },
    model: { type: 'string', description: 'Served model (default Qwen/Qwen3-32B)', placeholder: 'NAME' },
    'replicas-gateway': { type: 'string', description: 'Gateway replicas (default 1)', placeholder: 'N' },
    'replicas-indexer': { type: 'string', description: 'Indexer replicas sharing the partitions (default 1)', placeholder: 'N' },
    port: { type: 'string', description: 'Port of the (first) gateway (default 0: a free one, printed)', placeholder: 'N' },
    'no-replay': { type: 'boolean', description: 'Pods without a replay socket, as in the reference deployment' },
    'log-level': { type: 'string', description: 'Log level of the services (default warn)', placeholder: 'LEVEL' },
    tokenization: { type: 'string', description: 'service (the tokenizer service, default) or in-process (each gateway tokenizes itself)', placeholder: 'MODE' },
    'index-access': { type: 'string', description: 'indexer (gateways ask the indexer, default) or redis (gateways read the index from Redis; servers backend only)', placeholder: 'MODE' },
    backend: { type: 'string', description: 'servers (redis-server + nats-server -js), in-process (standalone indexer: in-memory index, in-process bus; no collector) or auto: servers when both are installed (default auto)', placeholder: 'B' },
  },
  details: [
    'Prints one line when everything is up:',
    '{"event":"ready","app":"up","gateway":"http://…","gateways":[…],"pods":[{"id","http","zmq","replay"}…],"nats":"nats://…","redis":"redis://…",',
    '"tokenizer":"unix://…","collector":"http://…","indexer":"host:port","indexers":[…],"loadScorer":"host:port","listen":{…the same…}}',
    'and runs until SIGINT/SIGTERM, then stops everything it started. "backends":{"bus","index"} says what it runs on;',
    'on the in-process backend there is no nats, redis or collector.',
  ].join('\n'),
};

function positiveInt(values: ParsedValues, name: string, fallback: number): number {
  const text = values[name];
  if (typeof text !== 'string') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`--${name} must be a positive integer, got "${text}"`);
  return value;
}

const BACKENDS = ['auto', 'servers', 'in-process'];
const TOKENIZATIONS = ['service', 'in-process'];
const INDEX_ACCESSES = ['indexer', 'redis'];

/** `--tokenization` and `--index-access` as the gateways' environment (their config fields). */
function gatewayPaths(values: ParsedValues, model: string): Record<string, string> {
  const env: Record<string, string> = {};
  if (typeof values['tokenization'] === 'string') env['KVR_TOKENIZATION'] = values['tokenization'];
  if (values['tokenization'] === 'in-process') env['KVR_MODELS__PRELOAD'] = model;
  if (typeof values['index-access'] === 'string') env['KVR_INDEX_ACCESS'] = values['index-access'];
  return env;
}

async function start(values: ParsedValues, logger: Logger): Promise<{ stop(): Promise<void> }> {
  const gatewayPort = typeof values['port'] === 'string' ? Number(values['port']) : 0;
  const { backend, reason } = resolveBackend((typeof values['backend'] === 'string' ? values['backend'] : 'auto') as PipelineBackend | 'auto');
  if (reason) logger.warn({ reason }, 'redis-server or nats-server missing: starting the standalone stack (in-memory index, in-process bus)');
  if (backend === 'in-process' && values['index-access'] === 'redis') throw new UsageError('--index-access redis needs Redis: not on the in-process backend (redis-server missing?)');
  const model = typeof values['model'] === 'string' ? values['model'] : 'Qwen/Qwen3-32B';
  const pipeline: Pipeline = await startPipeline({
    backend,
    pods: positiveInt(values, 'pods', 4),
    partitions: positiveInt(values, 'partitions', 8),
    timeScale: typeof values['time-scale'] === 'string' ? Number(values['time-scale']) : 1,
    model,
    gatewayEnv: gatewayPaths(values, model),
    logLevel: typeof values['log-level'] === 'string' ? values['log-level'] : 'warn',
    gateways: positiveInt(values, 'replicas-gateway', 1),
    indexers: positiveInt(values, 'replicas-indexer', 1),
    gatewayPort,
    noReplay: values['no-replay'] === true,
    onUnexpectedExit: (part, code, stderrTail) => {
      logger.error({ app: part, code, stderr: stderrTail }, 'a part of the stack exited; stopping everything');
      void pipeline.stop().then(() => process.exit(1));
    },
  });
  const addresses = pipeline.addresses();
  // The line has the addresses at the top level; `listen` keeps the common ready-line shape.
  process.stdout.write(`${JSON.stringify({ event: 'ready', app: APP, ...addresses, listen: addresses })}\n`);
  logger.info({ ...addresses }, 'stack up');
  return { stop: () => pipeline.stop() };
}

/** `kvr up [--pods N] [--time-scale X] …` */
export function main(argv: readonly string[]): Promise<number | undefined> {
  const logger = createLogger({ app: APP });
  return runAppCommand({
    app: APP,
    spec: upSpec,
    argv,
    logger,
    validate: (values) => {
      positiveInt(values, 'pods', 4);
      positiveInt(values, 'partitions', 8);
      positiveInt(values, 'replicas-gateway', 1);
      positiveInt(values, 'replicas-indexer', 1);
      const port = values['port'];
      if (typeof port === 'string' && !(Number.isInteger(Number(port)) && Number(port) >= 0 && Number(port) <= 65535)) throw new UsageError(`--port must be 0..65535, got "${port}"`);
      const backend = values['backend'];
      if (typeof backend === 'string' && !BACKENDS.includes(backend)) throw new UsageError(`--backend must be ${BACKENDS.join(', ')}; got "${backend}"`);
      if (backend === 'in-process' && positiveInt(values, 'replicas-indexer', 1) > 1) throw new UsageError('--replicas-indexer: the in-process backend runs one indexer');
      const tokenization = values['tokenization'];
      if (typeof tokenization === 'string' && !TOKENIZATIONS.includes(tokenization)) throw new UsageError(`--tokenization must be ${TOKENIZATIONS.join(' or ')}; got "${tokenization}"`);
      const indexAccess = values['index-access'];
      if (typeof indexAccess === 'string' && !INDEX_ACCESSES.includes(indexAccess)) throw new UsageError(`--index-access must be ${INDEX_ACCESSES.join(' or ')}; got "${indexAccess}"`);
      if (backend === 'in-process' && indexAccess === 'redis') throw new UsageError('--index-access redis needs Redis: not on the in-process backend');
      const scale = values['time-scale'];
      if (typeof scale === 'string' && !(Number(scale) > 0)) throw new UsageError(`--time-scale must be a positive number, got "${scale}"`);
    },
    start: (values) => start(values, logger),
    stopTimeoutMs: 30_000,
  });
}
