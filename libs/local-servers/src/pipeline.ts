/**
 * The whole routing pipeline on this machine, each part a real process started as users start
 * it (`kvr <app>`): redis-server, nats-server -js, a simulated vLLM fleet, collector, indexer(s),
 * tokenizer, load-scorer and gateway(s). `kvr up`, the end-to-end tests and the benchmark all
 * start it here, so they run the same system.
 *
 * Every address is fixed when the pipeline starts (free ports, one socket path), so a part can
 * be stopped and started again where its clients reconnect: what the fault-injection tests do.
 *
 * `backend: 'in-process'` is the stack for machines without redis-server and nats-server: no
 * servers, no collector; one standalone indexer (`kvr indexer --standalone`) subscribes to the
 * pods itself into an in-memory index, and the gateways keep their no-hit-LRU state locally.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, type AppProcess } from './app-process';
import { NATS_INSTALL_HINT, startNats, type NatsServerHandle } from './nats-server';
import { findBinary, MissingBinaryError } from './processes';
import { freePort } from './ports';
import { REDIS_INSTALL_HINT, startRedis, type RedisServerHandle } from './redis-server';

/** What carries the events and holds the index. */
export type PipelineBackend = 'servers' | 'in-process';

/**
 * The backend to run on. `auto`: the servers when redis-server and nats-server are both found,
 * else the in-process stack, with the reason (the missing binaries and how to install them).
 */
export function resolveBackend(requested: PipelineBackend | 'auto'): { backend: PipelineBackend; reason: string | null } {
  if (requested !== 'auto') return { backend: requested, reason: null };
  const missing: string[] = [];
  for (const [binary, hint] of [['redis-server', REDIS_INSTALL_HINT], ['nats-server', NATS_INSTALL_HINT]] as const) {
    try {
      findBinary(binary, hint);
    } catch (err) {
      if (!(err instanceof MissingBinaryError)) throw err;
      missing.push(err.message);
    }
  }
  return missing.length === 0 ? { backend: 'servers', reason: null } : { backend: 'in-process', reason: missing.join(' ') };
}

/** What carries the events and holds the index, as the (first) indexer's `/ready` names them. */
export interface PipelineBackends {
  readonly bus: string;
  readonly index: string;
}

/** The backends a running indexer reports (its probe server's `/ready` details). */
async function indexerBackends(indexer: AppProcess): Promise<PipelineBackends> {
  const ready = (await (await fetch(`${String(indexer.listen['http'])}/ready`)).json()) as { details?: { backends?: PipelineBackends } };
  const backends = ready.details?.backends;
  if (!backends) throw new Error(`the indexer's /ready does not name its backends: ${JSON.stringify(ready)}`);
  return backends;
}

export interface PipelineOptions {
  /** redis-server + nats-server (the product), or the standalone in-process stack. @default servers */
  backend?: PipelineBackend;
  /** Simulated pods. @default 4 */
  pods?: number;
  /** Simulated GPU speed-up. @default 1 */
  timeScale?: number;
  /** @default 8 */
  partitions?: number;
  /** @default Qwen/Qwen3-32B */
  model?: string;
  /** Pods without replay sockets (the reference deployment). @default false */
  noReplay?: boolean;
  /** More `kvr sim` flags. */
  simArgs?: readonly string[];
  /** @default 1 */
  gateways?: number;
  /** @default 1 */
  indexers?: number;
  /** Port of the first gateway. @default 0 (a free one) */
  gatewayPort?: number;
  /** Log level of the services. @default warn */
  logLevel?: string;
  /** Extra environment of the gateways (e.g. OTEL_* to export their spans). */
  gatewayEnv?: Record<string, string>;
  /** Extra environment of gateway replica i (after gatewayEnv), e.g. one replica on another index path. */
  gatewayReplicaEnv?: readonly Record<string, string>[];
  /** Extra environment of every service. */
  env?: Record<string, string>;
  /** Which parts to run beyond the fleet and the event path. @default all */
  routing?: boolean;
  /** Called when a part exits while nobody stopped it. */
  onUnexpectedExit?: (part: string, code: number | null, stderrTail: string) => void;
}

export interface PipelinePod {
  readonly id: string;
  readonly http: string;
  readonly zmq: string | null;
  readonly replay: string | null;
}

/** Names of the restartable parts: `collector`, `indexer` (`indexer-2`…), `tokenizer`, `load-scorer`, `gateway` (`gateway-2`…), `sim`. */
export type PipelinePart = string;

export interface Pipeline {
  readonly model: string;
  readonly backends: PipelineBackends;
  readonly pods: readonly PipelinePod[];
  /** Empty on the in-process backend (as `nats` and `collector`). */
  readonly redis: string;
  readonly nats: string;
  readonly tokenizer: string;
  readonly indexers: readonly string[];
  readonly loadScorer: string;
  readonly gateways: readonly string[];
  readonly collector: string;
  readonly partitions: number;
  /** The pods as a static discovery list (JSON for `KVR_DISCOVERY__PODS`), as every service here gets them. */
  readonly discoveryPods: string;
  /** The running process of a part (undefined while it is stopped). */
  part(name: PipelinePart): AppProcess | undefined;
  /** Stops a part (SIGTERM, or SIGKILL with `{kill: true}`). */
  stopPart(name: PipelinePart, options?: { kill?: boolean }): Promise<void>;
  /** Starts a stopped part again at the same address. */
  startPart(name: PipelinePart): Promise<void>;
  /** Stops redis-server (the index and the shared LRU go with it). */
  stopRedis(): Promise<void>;
  /** A new, empty redis-server on the same port. */
  startRedis(): Promise<void>;
  /** Stops everything, parts first, servers last. Safe to call twice. */
  stop(): Promise<void>;
  /** `{gateway, pods, nats, redis, tokenizer, indexer, loadScorer, …}` for ready lines. */
  addresses(): Record<string, unknown>;
}

interface PartSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Record<string, string>;
  process: AppProcess | undefined;
  stopping: boolean;
}

export async function startPipeline(options: PipelineOptions = {}): Promise<Pipeline> {
  const model = options.model ?? 'Qwen/Qwen3-32B';
  const partitions = options.partitions ?? 8;
  const routing = options.routing ?? true;
  const backend = options.backend ?? 'servers';
  const servers = backend === 'servers';
  if (!servers && (options.indexers ?? 1) > 1) throw new Error('the in-process backend runs one (standalone) indexer');
  const dir = mkdtempSync(join(tmpdir(), 'kvr-pipeline-'));
  const parts = new Map<string, PartSpec>();
  const order: string[] = [];
  let redis: RedisServerHandle | undefined;
  let nats: NatsServerHandle | undefined;
  let stopped = false;
  const baseEnv = { KVR_LOG_LEVEL: options.logLevel ?? 'warn', ...options.env };

  const launch = async (name: string): Promise<AppProcess> => {
    const spec = parts.get(name);
    if (!spec) throw new Error(`no pipeline part ${name}`);
    spec.stopping = false;
    const process = await startApp(spec.command, spec.args, { env: { ...baseEnv, ...spec.env }, timeoutMs: 60_000 });
    spec.process = process;
    process.child.once('exit', (code) => {
      if (spec.process === process) spec.process = undefined;
      if (!spec.stopping && !stopped) options.onUnexpectedExit?.(name, code, process.stderr().slice(-4000));
    });
    return process;
  };
  const define = async (name: string, command: string, args: readonly string[], env: Record<string, string> = {}): Promise<AppProcess> => {
    parts.set(name, { command, args, env, process: undefined, stopping: false });
    order.push(name);
    return launch(name);
  };
  const stopPart = async (name: string, stopOptions: { kill?: boolean } = {}): Promise<void> => {
    const spec = parts.get(name);
    if (!spec?.process) return;
    spec.stopping = true;
    const process = spec.process;
    if (stopOptions.kill) {
      const exited = new Promise<void>((resolve) => process.child.once('exit', () => resolve()));
      process.child.kill('SIGKILL');
      await exited;
    } else {
      await process.stop();
    }
    spec.process = undefined;
  };
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    for (const name of [...order].reverse()) await stopPart(name).catch(() => undefined);
    await nats?.stop();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    if (servers) {
      redis = await startRedis();
      nats = await startNats();
    }
    const redisPort = redis?.port ?? 0;
    const simArgs = ['--pods', String(options.pods ?? 4), '--port', '0', '--zmq-port', '0', '--time-scale', String(options.timeScale ?? 1), '--model', model, options.noReplay ? '--replay-port=-1' : '--replay-port=0', ...(options.simArgs ?? [])];
    const sim = await define('sim', 'sim', simArgs);
    const pods = sim.listen['pods'] as PipelinePod[];
    const podSpecs = JSON.stringify(
      pods.map((pod) => {
        const url = new URL(pod.http);
        return { address: url.hostname, httpPort: Number(url.port), id: pod.id, zmqEndpoint: pod.zmq, replayEndpoint: pod.replay, model };
      }),
    );
    const collector = nats ? await define('collector', 'collector', ['--probe-port', '0'], { KVR_NATS: nats.url, KVR_PARTITIONS: String(partitions), KVR_DISCOVERY__PODS: podSpecs }) : null;
    const indexers: string[] = [];
    let firstIndexer: AppProcess | undefined;
    const indexerCount = options.indexers ?? 1;
    for (let i = 0; i < indexerCount; i++) {
      const address = `127.0.0.1:${await freePort()}`;
      indexers.push(address);
      const args = ['--grpc', address, '--probe-port', '0'];
      const env: Record<string, string> = nats && redis ? { KVR_NATS: nats.url, KVR_REDIS: redis.url, KVR_PARTITIONS: String(partitions) } : { KVR_PARTITIONS: String(partitions), KVR_DISCOVERY__PODS: podSpecs };
      const indexer = await define(i === 0 ? 'indexer' : `indexer-${i + 1}`, 'indexer', servers ? args : [...args, '--standalone'], env);
      firstIndexer ??= indexer;
    }
    const socket = join(dir, 'tokenizer.sock');
    const gateways: string[] = [];
    let loadScorer = '';
    if (routing) {
      await define('tokenizer', 'tokenizer', ['--socket', socket, '--probe-port', '0'], { KVR_MODELS__PRELOAD: model });
      loadScorer = `127.0.0.1:${await freePort()}`;
      await define('load-scorer', 'load-scorer', ['--grpc', loadScorer, '--probe-port', '0'], { KVR_DISCOVERY__PODS: podSpecs });
      for (let i = 0; i < (options.gateways ?? 1); i++) {
        const port = i === 0 && options.gatewayPort ? options.gatewayPort : await freePort();
        // Replica i asks indexer i (round robin): every indexer serves the same shared index.
        const args = ['--port', String(port), '--tokenizer', `unix://${socket}`, '--indexer', indexers[i % indexers.length] as string, '--load-scorer', loadScorer, redis ? `--redis=${redis.url}` : '--redis='];
        const gateway = await define(i === 0 ? 'gateway' : `gateway-${i + 1}`, 'gateway', args, { KVR_DISCOVERY__PODS: podSpecs, ...options.gatewayEnv, ...options.gatewayReplicaEnv?.[i] });
        gateways.push(String(gateway.listen['http']));
      }
    }
    const natsUrl = nats?.url ?? '';
    const redisUrl = redis?.url ?? '';
    const collectorUrl = collector ? String(collector.listen['http']) : '';
    const backends = await indexerBackends(firstIndexer as AppProcess);
    const pipeline: Pipeline = {
      model,
      backends,
      pods,
      redis: redisUrl,
      nats: natsUrl,
      tokenizer: routing ? `unix://${socket}` : '',
      indexers,
      loadScorer,
      gateways,
      collector: collectorUrl,
      partitions,
      discoveryPods: podSpecs,
      part: (name) => parts.get(name)?.process,
      stopPart,
      startPart: async (name) => {
        await launch(name);
      },
      stopRedis: async () => {
        if (!servers) throw new Error('no redis-server on the in-process backend');
        await redis?.stop();
      },
      startRedis: async () => {
        if (!servers) throw new Error('no redis-server on the in-process backend');
        redis = await startRedis({ port: redisPort });
      },
      stop,
      addresses: () => ({
        ...(gateways.length > 0 ? { gateway: gateways[0], gateways } : {}),
        pods,
        backends,
        ...(servers ? { nats: natsUrl, redis: redisUrl, collector: collectorUrl } : {}),
        ...(routing ? { tokenizer: `unix://${socket}`, loadScorer } : {}),
        indexer: indexers[0],
        indexers,
        partitions,
      }),
    };
    return pipeline;
  } catch (err) {
    await stop();
    throw err;
  }
}
