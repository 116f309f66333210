/**
 * Shared by `kvr bench` and `kvr demo`: the workload from flags, one routing mode over the
 * ladder (warm-up pass first), and the report files.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lineChartSvg, saturatingRates, sharedPrefixWorkload, stageTable, summarizeMode, summaryTable, type ModeRun, type ModeSummary, type SharedPrefixParams, type SharedPrefixWorkload, type WorkloadPrompt } from '@kvr/loadgen';
import { UsageError, type ParsedValues } from '@kvr/runtime';
import { TokenizerRegistry, type HfModelTokenizer } from '@kvr/tokenization';
import { runLadder, runStage, terminalProgress, type Stage } from './ladder';
import { singleTokenWords } from './words';

export const WORKLOAD_OPTIONS = {
  model: { type: 'string', description: 'Model name sent in requests (default Qwen/Qwen3-32B)', placeholder: 'NAME' },
  groups: { type: 'string', description: 'shared_prefix num_groups', placeholder: 'N' },
  'prompts-per-group': { type: 'string', description: 'shared_prefix num_prompts_per_group (default 5)', placeholder: 'N' },
  'system-prompt-len': { type: 'string', description: 'shared_prefix system_prompt_len in tokens (default 6000)', placeholder: 'N' },
  'question-len': { type: 'string', description: 'shared_prefix question_len in tokens (default 1200)', placeholder: 'N' },
  'output-len': { type: 'string', description: 'max_tokens of each request', placeholder: 'N' },
  rates: { type: 'string', description: 'Rate ladder in req/s, comma-separated', placeholder: 'R1,R2,…' },
  'stage-seconds': { type: 'string', description: 'Duration of each stage', placeholder: 'S' },
  'warmup-rate': { type: 'string', description: 'Rate of the warm-up pass over every prompt (0: none)', placeholder: 'R' },
  seed: { type: 'string', description: 'Workload and arrival seed (default 1)', placeholder: 'N' },
  out: { type: 'string', description: 'Directory for the report (default out/)', placeholder: 'DIR' },
} as const;

export interface WorkloadSettings {
  model: string;
  params: SharedPrefixParams;
  stages: Stage[];
  warmupRate: number;
  out: string;
}

function int(values: ParsedValues, name: string, fallback: number, min = 1): number {
  const text = values[name];
  if (typeof text !== 'string') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got "${text}"`);
  return value;
}

function positive(values: ParsedValues, name: string, fallback: number): number {
  const text = values[name];
  if (typeof text !== 'string') return fallback;
  const value = Number(text);
  if (!(value >= 0)) throw new UsageError(`--${name} must be a number ≥ 0, got "${text}"`);
  return value;
}

export function workloadSettings(values: ParsedValues, defaults: { groups: number; outputLen: number; rates: number[]; stageSeconds: number; warmupRate: number }): WorkloadSettings {
  const ratesText = values['rates'];
  const rates = typeof ratesText === 'string' ? ratesText.split(',').map((r) => Number(r.trim())) : defaults.rates;
  if (rates.length === 0 || rates.some((r) => !(r > 0))) throw new UsageError(`--rates must be positive numbers, got "${String(ratesText)}"`);
  const stageSeconds = positive(values, 'stage-seconds', defaults.stageSeconds);
  return {
    model: typeof values['model'] === 'string' ? values['model'] : 'Qwen/Qwen3-32B',
    params: {
      groups: int(values, 'groups', defaults.groups),
      promptsPerGroup: int(values, 'prompts-per-group', 5),
      systemPromptLen: int(values, 'system-prompt-len', 6000),
      questionLen: int(values, 'question-len', 1200),
      outputLen: int(values, 'output-len', defaults.outputLen),
      seed: int(values, 'seed', 1, 0),
    },
    stages: rates.map((rate) => ({ rate, durationS: stageSeconds })),
    warmupRate: positive(values, 'warmup-rate', defaults.warmupRate),
    out: typeof values['out'] === 'string' ? values['out'] : 'out',
  };
}

/** The model's tokenizer, as the pods and the router load it. */
export function loadTokenizer(model: string): Promise<HfModelTokenizer> {
  return new TokenizerRegistry({}).get(model);
}

/** The workload with exact token lengths, checked against the model's own rendering. */
export async function buildWorkload(settings: WorkloadSettings, tokenizer?: HfModelTokenizer): Promise<SharedPrefixWorkload> {
  tokenizer ??= await loadTokenizer(settings.model);
  const workload = sharedPrefixWorkload(settings.params, singleTokenWords(tokenizer));
  const sample = workload.prompts[0];
  const expected = settings.params.systemPromptLen + settings.params.questionLen;
  const actual = sample ? tokenizer.renderCompletion(sample.text).length : expected;
  if (Math.abs(actual - expected) > 2) throw new Error(`workload prompts are ${actual} tokens, expected ${expected}`);
  return workload;
}

export interface ModeSpec {
  readonly mode: string;
  readonly targetFor: (i: number, prompt: WorkloadPrompt) => string | Promise<string>;
  readonly onFinished?: (target: string) => void;
}

export async function runMode(spec: ModeSpec, workload: SharedPrefixWorkload, settings: WorkloadSettings, podUrls: readonly string[]): Promise<ModeRun> {
  const options = {
    targetFor: spec.targetFor,
    ...(spec.onFinished ? { onFinished: spec.onFinished } : {}),
    prompts: workload.prompts,
    model: settings.model,
    outputLen: settings.params.outputLen,
    podUrls,
    seed: settings.params.seed * 1000,
    onProgress: terminalProgress(spec.mode),
  };
  if (settings.warmupRate > 0) {
    // One pass over every prompt, so that each stage starts from a warm fleet as in the reference.
    await runStage({ rate: settings.warmupRate, durationS: workload.prompts.length / settings.warmupRate }, -1, { ...options, onProgress: terminalProgress(`${spec.mode}:warm`) });
  }
  return { mode: spec.mode, stages: await runLadder(settings.stages, options) };
}

export interface Report {
  readonly title: string;
  readonly command: string;
  readonly setup: Record<string, unknown>;
  readonly runs: readonly ModeRun[];
  /** Rates the summary covers: where the baseline saturates (all when it never does). */
  readonly summaryRates: readonly number[];
  readonly summaries: readonly ModeSummary[];
}

export function buildReport(title: string, command: string, setup: Record<string, unknown>, runs: readonly ModeRun[], baseline?: string): Report {
  const base = runs.find((r) => r.mode === baseline);
  let rates = base ? saturatingRates(base) : new Set<number>();
  if (rates.size === 0) rates = new Set(runs[0]?.stages.map((s) => s.rate) ?? []);
  return { title, command, setup, runs, summaryRates: [...rates].sort((a, b) => a - b), summaries: runs.map((r) => summarizeMode(r, rates)) };
}

export function reportMarkdown(report: Report): string {
  const lines = [
    `# ${report.title}`,
    '',
    `Command: \`${report.command}\``,
    '',
    '| setting | value |',
    '|---|---|',
    ...Object.entries(report.setup).map(([k, v]) => `| ${k} | ${typeof v === 'string' ? v : JSON.stringify(v)} |`),
    '',
    `## Summary (stages at ${report.summaryRates.join(', ')} req/s)`,
    '',
    summaryTable(report.summaries),
    '',
    '![TTFT mean against rate](ttft.svg) ![Output throughput against rate](throughput.svg)',
    '',
  ];
  for (const run of report.runs) lines.push(`## ${run.mode}`, '', stageTable(run), '');
  return lines.join('\n');
}

/** Writes report.json, report.md and the two charts under `dir`; returns the paths. */
export function writeReport(dir: string, report: Report): string[] {
  mkdirSync(dir, { recursive: true });
  const files: [string, string][] = [
    ['report.json', JSON.stringify(report, null, 2)],
    ['report.md', reportMarkdown(report)],
    ['ttft.svg', lineChartSvg('TTFT mean against request rate', 'TTFT mean (s)', report.runs, (s) => s.ttftMeanS)],
    ['throughput.svg', lineChartSvg('Output throughput against request rate', 'output tokens/s', report.runs, (s) => s.outputTokensPerS)],
  ];
  return files.map(([name, text]) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  });
}
