/**
 * `kvr up`: the whole system on one machine, for development, tests and the demo — its own
 * redis-server and nats-server -js on free ports, a simulated vLLM fleet, and every service that
 * exists (collector, indexer(s), tokenizer, load-scorer, gateway(s)). Each part is a real process
 * started the way a user starts it (`kvr <app>`), ready by its ready line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAppCommand, UsageError, type CommandSpec, type ParsedValues } from '@kvr/runtime';
import { startApp, startNats, startRedis, type AppProcess } from '@kvr/local-servers';
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
  },
  details: [
    'Prints one line when everything is up:',
    '{"event":"ready","app":"up","gateway":"http://…","gateways":[…],"pods":[{"id","http","zmq","replay"}…],"nats":"nats://…","redis":"redis://…",',
    '"tokenizer":"unix://…","collector":"http://…","indexer":"host:port","indexers":[…],"loadScorer":"host:port","listen":{…the same…}}',
    'and runs until SIGINT/SIGTERM, then stops everything it started.',
  ].join('\n'),
};

function positiveInt(values: ParsedValues, name: string, fallback: number): number {
  const text = values[name];
  if (typeof text !== 'string') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`--${name} must be a positive integer, got "${text}"`);
  return value;
}

interface Part {
  readonly name: string;
  stop(): Promise<unknown>;
}

async function start(values: ParsedValues, logger: Logger): Promise<{ stop(): Promise<void> }> {
  const pods = positiveInt(values, 'pods', 4);
  const partitions = positiveInt(values, 'partitions', 8);
  const timeScale = typeof values['time-scale'] === 'string' ? values['time-scale'] : '1';
  const model = typeof values['model'] === 'string' ? values['model'] : 'Qwen/Qwen3-32B';
  const logLevel = typeof values['log-level'] === 'string' ? values['log-level'] : 'warn';
  const gatewayReplicas = positiveInt(values, 'replicas-gateway', 1);
  const indexerReplicas = positiveInt(values, 'replicas-indexer', 1);
  const gatewayPort = typeof values['port'] === 'string' ? values['port'] : '0';
  const parts: Part[] = [];
  const children: AppProcess[] = [];
  let stopping = false;
  const dir = mkdtempSync(join(tmpdir(), 'kvr-up-'));
  const stopAll = async (): Promise<void> => {
    stopping = true;
    for (const part of parts.reverse()) {
      try {
        await part.stop();
      } catch (err) {
        logger.warn({ err, part: part.name }, 'stopping a part failed');
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const app = async (name: string, args: string[], env: Record<string, string>, command = name): Promise<AppProcess> => {
    const child = await startApp(command, args, { env: { KVR_LOG_LEVEL: logLevel, ...env }, timeoutMs: 60_000 });
    children.push(child);
    parts.push({ name, stop: () => child.stop() });
    child.child.once('exit', (code) => {
      if (stopping) return;
      logger.error({ app: name, code, stderr: child.stderr().slice(-4000) }, 'a part of the stack exited; stopping everything');
      void stopAll().then(() => process.exit(1));
    });
    return child;
  };
  try {
    const redis = await startRedis();
    parts.push({ name: 'redis', stop: () => redis.stop() });
    const nats = await startNats();
    parts.push({ name: 'nats', stop: () => nats.stop() });
    const simArgs = ['--pods', String(pods), '--port', '0', '--zmq-port', '0', '--time-scale', timeScale, '--model', model];
    simArgs.push(values['no-replay'] === true ? '--replay-port=-1' : '--replay-port=0');
    const sim = await app('sim', simArgs, {});
    const simPods = sim.listen['pods'] as { id: string; http: string; zmq: string; replay: string | null }[];
    const podSpecs = simPods.map((pod) => {
      const url = new URL(pod.http);
      return { address: url.hostname, httpPort: Number(url.port), id: pod.id, zmqEndpoint: pod.zmq, replayEndpoint: pod.replay, model };
    });
    const collector = await app('collector', ['--probe-port', '0'], { KVR_NATS: nats.url, KVR_PARTITIONS: String(partitions), KVR_DISCOVERY__PODS: JSON.stringify(podSpecs) });
    const indexers = await Promise.all(
      Array.from({ length: indexerReplicas }, (_, i) =>
        app(indexerReplicas === 1 ? 'indexer' : `indexer-${i + 1}`, ['--grpc', '127.0.0.1:0', '--probe-port', '0'], { KVR_NATS: nats.url, KVR_REDIS: redis.url, KVR_PARTITIONS: String(partitions) }, 'indexer'),
      ),
    );
    const indexer = String((indexers[0] as AppProcess).listen['grpc']);
    const tokenizer = await app('tokenizer', ['--socket', join(dir, 'tokenizer.sock'), '--probe-port', '0'], { KVR_MODELS__PRELOAD: model });
    const loadScorer = await app('load-scorer', ['--grpc', '127.0.0.1:0', '--probe-port', '0'], { KVR_DISCOVERY__PODS: JSON.stringify(podSpecs) });
    const gateways: AppProcess[] = [];
    for (let i = 0; i < gatewayReplicas; i++) {
      // Every replica reads the same index and shares the no-hit-LRU state in the same Redis.
      // Indexer replicas serve the same shared index; replica i talks to indexer i (round robin).
      const gatewayIndexer = String((indexers[i % indexers.length] as AppProcess).listen['grpc']);
      gateways.push(
        await app(
          gatewayReplicas === 1 ? 'gateway' : `gateway-${i + 1}`,
          ['--port', i === 0 ? gatewayPort : '0', '--tokenizer', String(tokenizer.listen['grpc']), '--indexer', gatewayIndexer, '--load-scorer', String(loadScorer.listen['grpc']), '--redis', redis.url],
          { KVR_DISCOVERY__PODS: JSON.stringify(podSpecs) },
          'gateway',
        ),
      );
    }
    const gatewayUrls = gateways.map((g) => String(g.listen['http']));
    const addresses = {
      gateway: gatewayUrls[0] as string,
      gateways: gatewayUrls,
      pods: simPods,
      nats: nats.url,
      redis: redis.url,
      tokenizer: String(tokenizer.listen['grpc']),
      collector: String(collector.listen['http']),
      indexer,
      indexers: indexers.map((i) => String(i.listen['grpc'])),
      loadScorer: String(loadScorer.listen['grpc']),
      partitions,
    };
    // The line has the addresses at the top level; `listen` keeps the common ready-line shape.
    process.stdout.write(`${JSON.stringify({ event: 'ready', app: APP, ...addresses, listen: addresses })}\n`);
    logger.info({ ...addresses }, 'stack up');
    return { stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
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
    },
    start: (values) => start(values, logger),
    stopTimeoutMs: 30_000,
  });
}
