/**
 * `kvr bench`: the shared-prefix benchmark against any OpenAI-compatible endpoint — a router
 * (`--target URL`) or pods in turn (`--rr URL,URL,…`, the Kubernetes Service stand-in). Prefix
 * hit rates come from the pods' own /metrics when `--pods` (or `--rr`) names them.
 */
import { summaryTable } from '@kvr/loadgen';
import { EXIT_CONFIG, helpText, parseCommand, UsageError, type CommandSpec, type ParsedValues } from '@kvr/runtime';
import { buildReport, buildWorkload, runMode, WORKLOAD_OPTIONS, workloadSettings, writeReport, type ModeSpec } from './run';

export const benchSpec: CommandSpec = {
  name: 'kvr bench',
  summary: 'Runs the shared-prefix benchmark (inference-perf shared_prefix, Poisson rate ladder) against an OpenAI-compatible endpoint.',
  options: {
    target: { type: 'string', description: 'Base URL of the router or server under test', placeholder: 'URL' },
    rr: { type: 'string', description: 'Instead of --target: pod base URLs, sent to in turn', placeholder: 'URL,URL,…' },
    pods: { type: 'string', description: "Pod base URLs whose /metrics give the prefix hit rate (default: the --rr list)", placeholder: 'URL,URL,…' },
    mode: { type: 'string', description: 'Name of this run in the report (default: precise for --target, rr for --rr)', placeholder: 'NAME' },
    ...WORKLOAD_OPTIONS,
  },
  details: 'Writes <out>/report.md, report.json, ttft.svg, throughput.svg. Defaults: the reference workload (150 groups × 5 prompts, 6000 + 1200 tokens, 1000 output tokens) and ladder 3,10,15,20,…,60 req/s.',
};

const urls = (text: unknown): string[] => (typeof text === 'string' ? text.split(',').map((u) => u.trim()).filter(Boolean) : []);

async function run(values: ParsedValues): Promise<number> {
  const target = typeof values['target'] === 'string' ? values['target'] : undefined;
  const rr = urls(values['rr']);
  if (!target === (rr.length === 0)) throw new UsageError('give exactly one of --target URL and --rr URL,URL,…');
  const pods = values['pods'] !== undefined ? urls(values['pods']) : rr;
  const settings = workloadSettings(values, { groups: 150, outputLen: 1000, rates: [3, 10, 15, 20, 22, 25, 30, 35, 40, 43, 46, 49, 52, 55, 57, 60], stageSeconds: 20, warmupRate: 15 });
  const mode = typeof values['mode'] === 'string' ? values['mode'] : target ? 'precise' : 'rr';
  const spec: ModeSpec = target ? { mode, targetFor: () => target } : { mode, targetFor: (i) => rr[i % rr.length] as string };
  const workload = await buildWorkload(settings);
  const result = await runMode(spec, workload, settings, pods);
  const report = buildReport(`kvr bench: ${mode}`, `npx kvr bench ${process.argv.slice(3).join(' ')}`.trim(), { target: target ?? rr.join(', '), workload: settings.params, ladder: settings.stages }, [result]);
  const files = writeReport(settings.out, report);
  process.stdout.write(`${summaryTable(report.summaries)}\n\nreport: ${files.join(', ')}\n`);
  return 0;
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    const parsed = parseCommand(benchSpec, argv);
    if (parsed.help) {
      process.stdout.write(helpText(benchSpec));
      return 0;
    }
    return await run(parsed.values);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${benchSpec.name}: ${err.message}\n\n${helpText(benchSpec)}`);
    return EXIT_CONFIG;
  }
}
