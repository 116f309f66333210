import { SimConfig } from '@kvr/config';
import { announceReady, loadAppConfig, runAppCommand, type CommandSpec, type FlagTarget, type ParsedValues } from '@kvr/runtime';
import { createLogger, type Logger } from '@kvr/telemetry';
import { registryOptionsFromSettings, TokenizerRegistry, type ModelTokenizer } from '@kvr/tokenization';
import { SimPod } from './pod';

const APP = 'sim';

export const simSpec: CommandSpec = {
  name: 'kvr sim',
  summary: 'Simulated vLLM pods: OpenAI API, a real prefix cache, KV events on ZMQ with replay, vLLM /metrics, GPU-like latency.',
  options: {
    config: { type: 'string', description: 'YAML config file (also KVR_CONFIG); see docs/configuration.md#sim', placeholder: 'FILE' },
    pods: { type: 'string', description: 'Number of pods in this process (default 1)', placeholder: 'N' },
    model: { type: 'string', description: 'Served model (default Qwen/Qwen3-32B)', placeholder: 'NAME' },
    port: { type: 'string', description: 'HTTP port of the first pod (default 8000; 0 picks free ports)', placeholder: 'N' },
    'zmq-port': { type: 'string', description: 'ZMQ PUB port of the first pod (default 5557; 0 picks)', placeholder: 'N' },
    'replay-port': { type: 'string', description: 'ZMQ ROUTER replay port of the first pod (default 5558; 0 picks; --replay-port=-1 disables)', placeholder: 'N' },
    'time-scale': { type: 'string', description: 'Run N times faster than the GPU being imitated (default 1)', placeholder: 'N' },
    'event-format': { type: 'string', description: 'map (vLLM ≥ 0.26) or array (positional)', placeholder: 'FORMAT' },
    'hash-format': { type: 'string', description: 'int (default) or bytes', placeholder: 'FORMAT' },
    'num-gpu-blocks': { type: 'string', description: 'KV blocks per pod (default 4802)', placeholder: 'N' },
    'block-size': { type: 'string', description: 'Tokens per block (default 64)', placeholder: 'N' },
  },
  details: [
    'Prints {"event":"ready","app":"sim","listen":{"pods":[{"id","http","zmq","replay"}…]}} when every pod serves.',
    'With --pods N and fixed ports, pod i uses PORT+i for each port (as vLLM offsets data-parallel ranks).',
  ].join('\n'),
};

/** Flag → config path. */
const FLAGS: Record<string, FlagTarget> = {
  pods: { path: ['pods'], number: true },
  model: { path: ['model'] },
  port: { path: ['port'], number: true },
  'zmq-port': { path: ['kvEvents', 'port'], number: true },
  'replay-port': { path: ['kvEvents', 'replayPort'], number: true },
  'time-scale': { path: ['timeScale'], number: true },
  'event-format': { path: ['kvEvents', 'eventFormat'] },
  'hash-format': { path: ['kvEvents', 'hashFormat'] },
  'num-gpu-blocks': { path: ['cache', 'numGpuBlocks'], number: true },
  'block-size': { path: ['cache', 'blockSize'], number: true },
};

/** Words the simulated model "generates", each one token of the served model where possible. */
const WORDS = [' the', ' cache', ' router', ' prefix', ' block', ' token', ' pod', ' index', ' event', ' stream', ' fast', ' hit', ' model', ' batch', ' step', ' key'];

function vocabularyOf(tokenizer: ModelTokenizer): { id: number; text: string }[] {
  return WORDS.map((text) => ({ id: tokenizer.tokenize(text, { addSpecialTokens: false }).ids[0] ?? 0, text }));
}

function tokenizerRegistry(config: SimConfig): TokenizerRegistry {
  return new TokenizerRegistry(registryOptionsFromSettings(config.models));
}

/** Starts every pod of the fleet; on a failure, stops the ones already up and rethrows. */
export async function startFleet(config: SimConfig, logger: Logger): Promise<SimPod[]> {
  const tokenizer = await tokenizerRegistry(config).get(config.model);
  const vocabulary = vocabularyOf(tokenizer);
  const pods: SimPod[] = [];
  try {
    for (let index = 0; index < config.pods; index++) {
      const podLogger = logger.child({ pod: index });
      pods.push(await SimPod.start({ config, index, tokenizer, vocabulary, logger: podLogger }));
    }
  } catch (err) {
    await Promise.all(pods.map((pod) => pod.stop()));
    throw err;
  }
  return pods;
}

async function start(values: ParsedValues): Promise<{ stop(): Promise<void> }> {
  const { config, logger } = loadAppConfig(SimConfig, { app: APP, values, flags: FLAGS });
  const pods = await startFleet(config, logger);
  for (const pod of pods) logger.info({ ...pod.endpoints }, 'pod serving');
  announceReady(APP, { pods: pods.map((pod) => pod.endpoints) });
  return {
    async stop() {
      await Promise.all(pods.map((pod) => pod.stop()));
    },
  };
}

/** `kvr sim [--pods N] [--config FILE] …` */
export function main(argv: readonly string[]): Promise<number | undefined> {
  return runAppCommand({ app: APP, spec: simSpec, argv, logger: createLogger({ app: APP }), start: (values) => start(values) });
}
