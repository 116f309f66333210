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
