/**
 * `kvr demo`: the reference benchmark's shape on this machine. Starts the whole pipeline with 8
 * simulated pods (`startPipeline`, as `kvr up`), runs the shared-prefix workload over a short
 * rate ladder with round-robin (the Kubernetes Service stand-in: requests straight to pods in
 * turn) and then through the gateway (precise routing), prints the comparison and writes the
 * report under out/. Stops everything it started.
 *
 * Sizing (upstream-spec §5.1): prompts of 6,000 + 1,200 tokens, groups of 5, and a working set
 * of 73 % of the fleet's KV capacity — with 40 groups instead of 150, the pods get 40 × 12,000 /
 * (0.73 × 8 × 64) ≈ 1,284 blocks each. The sims' latency model is unchanged (H100-like).
 */
import { resolveBackend, startPipeline, type PipelineBackend } from '@kvr/local-servers';
import { summaryTable } from '@kvr/loadgen';
import { EXIT_CONFIG, helpText, parseCommand, UsageError, type CommandSpec, type ParsedValues } from '@kvr/runtime';
import { createLogger } from '@kvr/telemetry';
import { resetPrefixCaches } from './pod-metrics';
import { startApp, type AppProcess } from '@kvr/local-servers';
import { MODES, oracle, randomPods, roundRobin, viaRouter, type Mode } from './modes';
import { buildReport, buildWorkload, loadTokenizer, runMode, WORKLOAD_OPTIONS, workloadSettings, writeReport, type ModeSpec } from './run';

const APP = 'demo';
const WORKING_SET_SHARE = 0.73;

export const demoSpec: CommandSpec = {
  name: 'kvr demo',
  summary: 'Round-robin vs precise prefix-cache routing on a simulated 8-pod fleet: the reference benchmark, shortened.',
  options: {
    pods: { type: 'string', description: 'Simulated pods (default 8)', placeholder: 'N' },
    modes: { type: 'string', description: `Routing modes to compare, in order: ${MODES.join(', ')} (default rr,precise)`, placeholder: 'M1,M2' },
    backend: { type: 'string', description: 'servers (redis-server + nats-server), in-process (in-memory index, in-process bus) or auto: servers when both are installed (default auto)', placeholder: 'B' },
    ...WORKLOAD_OPTIONS,
  },
  details: 'Writes out/report.md, out/report.json, out/ttft.svg and out/throughput.svg. Takes about 5 minutes on 2 cores.',
};

async function run(values: ParsedValues): Promise<number> {
  const logger = createLogger({ app: APP });
  const settings = workloadSettings(values, { groups: 40, outputLen: 100, rates: [3, 10, 17, 24], stageSeconds: 20, warmupRate: 10 });
  const pods = typeof values['pods'] === 'string' ? Number(values['pods']) : 8;
  const modes = (typeof values['modes'] === 'string' ? values['modes'] : 'rr,precise').split(',').map((m) => m.trim());
  if (!(Number.isInteger(pods) && pods >= 1)) throw new UsageError(`--pods must be a positive integer, got "${String(values['pods'])}"`);
  for (const mode of modes) if (!(MODES as readonly string[]).includes(mode)) throw new UsageError(`unknown mode "${mode}"; modes: ${MODES.join(', ')}`);
  const requested = typeof values['backend'] === 'string' ? values['backend'] : 'auto';
  if (!['auto', 'servers', 'in-process'].includes(requested)) throw new UsageError(`--backend must be auto, servers or in-process, got "${requested}"`);
  const { backend, reason } = resolveBackend(requested as PipelineBackend | 'auto');
  if (reason) process.stderr.write(`demo: redis-server and nats-server are needed for the full stack and are not both here: ${reason}\ndemo: running on the standalone stack instead: an in-memory index and an in-process bus (one indexer, nothing shared or kept)\n`);
  const p = settings.params;
  const blocks = Math.ceil((p.groups * (p.systemPromptLen + p.promptsPerGroup * p.questionLen)) / (WORKING_SET_SHARE * pods * 64));
  process.stderr.write(`demo: building the workload (${p.groups} groups × ${p.promptsPerGroup} prompts of ${p.systemPromptLen} + ${p.questionLen} tokens)\n`);
  const tokenizer = await loadTokenizer(settings.model);
  const workload = await buildWorkload(settings, tokenizer);
  const services = backend === 'servers' ? 'Redis, NATS JetStream, ' : '';
  const eventPath = backend === 'servers' ? 'collector, indexer' : 'standalone indexer (in-process bus, in-memory index)';
  process.stderr.write(`demo: starting ${services}${pods} simulated pods (${blocks} KV blocks each), ${eventPath}, tokenizer, load-scorer, gateway\n`);
  const pipeline = await startPipeline({
    backend,
    env: { KVR_NO_BUILD: '1' },
    pods,
    model: settings.model,
    timeScale: 1,
    simArgs: ['--num-gpu-blocks', String(blocks)],
    logLevel: 'error',
    onUnexpectedExit: (part, code, stderr) => logger.error({ part, code, stderr }, 'a part of the pipeline exited'),
  });
  const extraGateways: AppProcess[] = [];
  // Ctrl-C: stop what was started, then leave.
  const interrupt = (): void => void Promise.all([...extraGateways.map((g) => g.stop()), pipeline.stop()]).then(() => process.exit(130));
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    const podUrls = pipeline.pods.map((pod) => pod.http);
    // Modes with a differently weighted gateway get their own, on the same services and pods.
    const gatewayWith = async (weights: Record<string, string>): Promise<AppProcess> => {
      const gateway = await startApp('gateway', ['--port', '0', '--tokenizer', pipeline.tokenizer, '--indexer', pipeline.indexers[0] as string, '--load-scorer', pipeline.loadScorer, `--redis=${pipeline.redis}`], {
        env: { KVR_NO_BUILD: '1', KVR_LOG_LEVEL: 'error', KVR_DISCOVERY__PODS: pipeline.discoveryPods, KVR_REDIS_PREFIX: `kvr-${Object.values(weights).join('-')}`, ...weights },
      });
      extraGateways.push(gateway);
      return gateway;
    };
    // load: only kv-cache-utilization and queue-size. approx: prefix learned from its own
    // decisions instead of events (GAIE's approximate scorer), with llm-d's other scorers.
    const loadGateway = modes.includes('load') ? await gatewayWith({ KVR_WEIGHTS__PRECISE_PREFIX: '0', KVR_WEIGHTS__NO_HIT_LRU: '0' }) : undefined;
    const approxGateway = modes.includes('approx') ? await gatewayWith({ KVR_WEIGHTS__PRECISE_PREFIX: '0', KVR_WEIGHTS__APPROX_PREFIX: '3' }) : undefined;
    const specFor = (mode: Mode): ModeSpec => {
      if (mode === 'rr') return roundRobin(podUrls);
      if (mode === 'random') return randomPods(podUrls, p.seed);
      if (mode === 'load') return viaRouter('load', String(loadGateway?.listen['http']));
      if (mode === 'approx') return viaRouter('approx', String(approxGateway?.listen['http']));
      if (mode === 'oracle') return oracle(podUrls, workload.prompts, tokenizer, settings.model);
      return viaRouter('precise', pipeline.gateways[0] as string);
    };
    const runs = [];
    let routerCounters: Record<string, number> = {};
    for (const mode of modes) {
      await resetPrefixCaches(podUrls);
      process.stderr.write(`demo: ${mode}: warm-up pass over ${workload.prompts.length} prompts, then ${settings.stages.map((s) => s.rate).join(', ')} req/s × ${settings.stages[0]?.durationS} s\n`);
      runs.push(await runMode(specFor(mode as Mode), workload, settings, podUrls));
      if (mode === 'precise') routerCounters = await gatewayCounters(pipeline.gateways[0] as string);
    }
    const command = `npx kvr demo ${process.argv.slice(3).join(' ')}`.trim();
    const report = buildReport(`kvr demo: routing modes compared (${modes.join(', ')})`, command, {
      pods: `${pods} simulated vLLM pods (kvr sim, H100-like latency model), ${blocks} KV blocks of 64 tokens each`,
      workload: `shared_prefix: ${p.groups} groups × ${p.promptsPerGroup} prompts, ${p.systemPromptLen} + ${p.questionLen} tokens, ${p.outputLen} output tokens, seed ${p.seed}`,
      workingSet: `${workload.workingSetTokens} tokens = ${((workload.workingSetTokens / (pods * blocks * 64)) * 100).toFixed(0)} % of the fleet's KV capacity`,
      ladder: settings.stages.map((s) => `${s.rate} req/s × ${s.durationS} s`).join(', '),
      backends: pipeline.backends,
      index: pipeline.backends.index === 'redis' ? 'Redis (redis-server on this machine)' : 'in memory (standalone indexer: redis-server was not available)',
      bus: pipeline.backends.bus === 'nats-jetstream' ? 'NATS JetStream (nats-server -js on this machine)' : 'in-process (standalone indexer: nats-server was not available)',
      modes: modes.join(', '),
      rr: 'requests sent to the pods in turn (Kubernetes Service stand-in)',
      random: 'a pod at random',
      load: 'a gateway with only the kv-cache-utilization and queue-size scorers',
      approx: 'a gateway whose prefix scorer remembers its own past decisions (no KV events), with the load scorers and no-hit-LRU',
      precise: 'requests sent to the gateway (tokenizer, indexer, load-scorer, no-hit-LRU)',
      oracle: "before each request every pod's cache is asked (POST /debug/lookup); longest prefix wins, ties to the least busy",
      ...(Object.keys(routerCounters).length > 0 ? { gatewayCounters: routerCounters } : {}),
    }, runs, 'rr');
    const files = writeReport(settings.out, report);
    process.stdout.write(`\n${summaryTable(report.summaries)}\n\n(stages at ${report.summaryRates.join(', ')} req/s; report: ${files.join(', ')})\n`);
    const rr = report.summaries.find((s) => s.mode === 'rr');
    const precise = report.summaries.find((s) => s.mode === 'precise');
    if (rr && precise) {
      process.stdout.write(`precise vs rr: TTFT mean ${(precise.ttftMeanS / rr.ttftMeanS).toFixed(3)}×, output tok/s ${(precise.outputTokensPerS / rr.outputTokensPerS).toFixed(2)}×, prefix hit rate ${(precise.prefixHitRate * 100).toFixed(1)} % vs ${(rr.prefixHitRate * 100).toFixed(1)} %\n`);
    }
    return 0;
  } finally {
    await Promise.all(extraGateways.map((g) => g.stop()));
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    await pipeline.stop();
  }
}

/** The gateway's decision and fallback counters (warm-up included), for the report: why precise routed as it did. */
async function gatewayCounters(gateway: string): Promise<Record<string, number>> {
  const res = await fetch(new URL('/metrics', gateway));
  const text = await res.text();
  if (res.status !== 200) throw new Error(`the gateway's /metrics answered ${res.status}`);
  const counters: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = /^kvr_gateway_(route_decisions_total|scorer_fallbacks_total)\{(.*)\} (\S+)$/.exec(line);
    if (!match) continue;
    const labels = (match[2] as string).split(',').filter((l) => !l.startsWith('app=') && !l.startsWith('model=')).map((l) => l.replace(/"/g, '')).join(',');
    counters[`${match[1] as string}{${labels}}`] = Number(match[3]);
  }
  return counters;
}

/** `kvr demo [--pods N] [--rates …] [--out DIR]`: resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    const parsed = parseCommand(demoSpec, argv);
    if (parsed.help) {
      process.stdout.write(helpText(demoSpec));
      return 0;
    }
    return await run(parsed.values);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${demoSpec.name}: ${err.message}\n\n${helpText(demoSpec)}`);
    return EXIT_CONFIG;
  }
}
