import { startApp, type AppProcess, type StartAppOptions } from '@kvr/local-servers';

/** One simulated pod as `kvr sim` announces it. */
export interface SimPodEndpoints {
  readonly id: string;
  readonly http: string;
  readonly zmq: string | null;
  readonly replay: string | null;
}

export interface SimFleet {
  readonly pods: readonly SimPodEndpoints[];
  readonly process: AppProcess;
  stop(): Promise<number | null>;
}

export interface StartSimFleetOptions extends StartAppOptions {
  /** @default 1 */
  pods?: number;
  /** @default 20: tests rarely want GPU-speed pods */
  timeScale?: number;
  /** More `kvr sim` flags, e.g. ['--num-gpu-blocks', '64']. */
  args?: readonly string[];
}

/**
 * Starts `kvr sim` as a real process with every port free (`--port 0` etc.) and returns the pods
 * from its ready line. Use it wherever a test needs vLLM pods (collector, indexer, gateway, demo).
 */
export async function startSimFleet(options: StartSimFleetOptions = {}): Promise<SimFleet> {
  const args = ['--pods', String(options.pods ?? 1), '--port', '0', '--zmq-port', '0', '--replay-port', '0', '--time-scale', String(options.timeScale ?? 20), ...(options.args ?? [])];
  const process = await startApp('sim', args, options);
  const pods = process.listen['pods'];
  if (!Array.isArray(pods)) throw new Error(`kvr sim ready line has no pods: ${JSON.stringify(process.listen)}`);
  return { pods: pods as SimPodEndpoints[], process, stop: () => process.stop() };
}

/**
 * Every block resident on the pods right now, as `<request key>|<pod id>` (the pods' own
 * `/debug/blocks`, labelled with the router's request keys): the ground truth an index must equal.
 */
export async function residentBlocks(pods: readonly Pick<SimPodEndpoints, 'id' | 'http'>[]): Promise<Set<string>> {
  const truth = new Set<string>();
  for (const pod of pods) {
    const dump = (await (await fetch(`${pod.http}/debug/blocks`)).json()) as { blocks: { requestKey: string | null }[] };
    for (const block of dump.blocks) if (block.requestKey !== null) truth.add(`${block.requestKey}|${pod.id}`);
  }
  return truth;
}

/** The real (not speculative) entries of an index, as `<request key>|<pod id>`, comparable to `residentBlocks`. */
export async function indexedBlocks(index: { dump(): Promise<readonly { requestKey: bigint; pod: string; speculative: boolean }[]> }): Promise<Set<string>> {
  return new Set((await index.dump()).filter((e) => !e.speculative).map((e) => `${e.requestKey}|${e.pod}`));
}

/** How an index differs from the pods: how many resident blocks it lacks and how many it has that are gone. */
export async function compareWithPods(pods: readonly Pick<SimPodEndpoints, 'id' | 'http'>[], index: Parameters<typeof indexedBlocks>[0]): Promise<{ truth: number; missing: number; extra: number }> {
  const [truth, indexed] = await Promise.all([residentBlocks(pods), indexedBlocks(index)]);
  return { truth: truth.size, missing: [...truth].filter((k) => !indexed.has(k)).length, extra: [...indexed].filter((k) => !truth.has(k)).length };
}

/**
 * The static discovery entries (`KVR_DISCOVERY__PODS`) for pods with an HTTP URL or a
 * `<host>:<port>` id, as a collector or gateway under test is pointed at them.
 */
export function discoveryPodsFor(pods: readonly { id: string; http?: string; zmq: string | null; replay: string | null }[], model: string): { address: string; httpPort: number; id: string; zmqEndpoint: string | null; replayEndpoint: string | null; model: string }[] {
  return pods.map((p) => {
    const url = new URL(p.http ?? `http://${p.id}`);
    return { address: url.hostname, httpPort: Number(url.port), id: p.id, zmqEndpoint: p.zmq, replayEndpoint: p.replay, model };
  });
}
