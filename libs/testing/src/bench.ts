import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { Bench } from 'tinybench';

/** One measured operation of a micro-benchmark suite. */
export interface BenchCase {
  name: string;
  fn: () => unknown;
  /** Work units one call handles (e.g. events per batch, tokens per prompt), for a throughput column. */
  unitsPerOp?: number;
  /** Name of the unit, e.g. `events`, `tokens`, `blocks`. */
  unit?: string;
}

/**
 * A micro-benchmark suite, default-exported by a `bench/*.bench.ts` file. Results are compared as
 * ratios to `baseline` within one run, because absolute timings on a shared 2-core machine drift.
 */
export interface BenchSuite {
  /** Heading in docs/benchmarks.md. */
  title: string;
  /** Name of the case the ratio column divides by; the first case when omitted. */
  baseline?: string;
  /** A sentence or two: what is measured and what the ratio means. */
  notes?: string;
  /** Measuring time per case. @default 300 */
  timeMs?: number;
  /** Sets up fixtures before measuring (runs once). */
  setup?: () => Promise<void> | void;
  cases: BenchCase[];
}

export interface BenchCaseResult {
  name: string;
  opsPerSecond: number;
  meanMicros: number;
  p99Micros: number;
  samples: number;
  unitsPerSecond?: number;
  unit?: string;
  ratioToBaseline: number;
}

/** Runs a suite with tinybench (warm-up included) and computes per-case ratios to the baseline. */
export async function runBenchSuite(suite: BenchSuite): Promise<BenchCaseResult[]> {
  await suite.setup?.();
  const bench = new Bench({ time: suite.timeMs ?? 300, warmupTime: 100 });
  for (const benchCase of suite.cases) bench.add(benchCase.name, benchCase.fn);
  await bench.warmup();
  await bench.run();
  const results = suite.cases.map((benchCase) => {
    const task = bench.getTask(benchCase.name);
    const result = task?.result;
    if (!result || result.error) throw new Error(`bench case "${benchCase.name}" failed: ${String(result?.error ?? 'no result')}`);
    const opsPerSecond = result.hz;
    return {
      name: benchCase.name,
      opsPerSecond,
      meanMicros: result.mean * 1000,
      p99Micros: result.p99 * 1000,
      samples: result.samples.length,
      unitsPerSecond: benchCase.unitsPerOp ? opsPerSecond * benchCase.unitsPerOp : undefined,
      unit: benchCase.unit,
      ratioToBaseline: 1,
    };
  });
  const baselineName = suite.baseline ?? suite.cases[0]?.name;
  const baseline = results.find((r) => r.name === baselineName);
  for (const r of results) r.ratioToBaseline = baseline ? r.opsPerSecond / baseline.opsPerSecond : 1;
  return results;
}

/** A Markdown section for docs/benchmarks.md. */
export function benchMarkdown(suite: BenchSuite, results: readonly BenchCaseResult[]): string {
  const baselineName = suite.baseline ?? suite.cases[0]?.name ?? '';
  const fmt = (n: number, digits = 1): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const lines = [`### ${suite.title}`, ''];
  if (suite.notes) lines.push(suite.notes, '');
  lines.push(`| case | ops/s | mean µs | p99 µs | throughput | × ${baselineName} |`, '|---|---:|---:|---:|---:|---:|');
  for (const r of results) {
    const throughput = r.unitsPerSecond !== undefined ? `${fmt(r.unitsPerSecond, 0)} ${r.unit ?? 'units'}/s` : '';
    lines.push(`| ${r.name} | ${fmt(r.opsPerSecond, 0)} | ${fmt(r.meanMicros, 2)} | ${fmt(r.p99Micros, 2)} | ${throughput} | ${fmt(r.ratioToBaseline, 2)} |`);
  }
  return lines.join('\n');
}

/** One measured quantity of a scenario, with the target it is held against (reported, never asserted). */
export interface ScenarioRow {
  name: string;
  value: number;
  unit: string;
  /** e.g. "< 5 s"; empty when the row is context for another. */
  target?: string;
  /** Whether the value meets the target; undefined without a target. */
  met?: boolean;
}

/**
 * A whole-system scenario (start a fleet, drive load, read CPU), default-exported by a
 * `bench/*.bench.ts` file like a micro-benchmark suite. Its rows should include a same-run
 * reference (e.g. one pod next to eight) so that the report stays readable on a noisy machine.
 */
export interface ScenarioSuite {
  kind: 'scenario';
  title: string;
  notes?: string;
  run(): Promise<ScenarioRow[]>;
}

export function scenarioMarkdown(suite: ScenarioSuite, rows: readonly ScenarioRow[]): string {
  const fmt = (n: number): string => n.toLocaleString('en-US', { maximumFractionDigits: n >= 100 ? 0 : n >= 10 ? 1 : 3 });
  const lines = [`### ${suite.title}`, ''];
  if (suite.notes) lines.push(suite.notes, '');
  lines.push('| measure | value | target | met |', '|---|---:|---|---|');
  for (const row of rows) {
    lines.push(`| ${row.name} | ${fmt(row.value)} ${row.unit} | ${row.target ?? ''} | ${row.met === undefined ? '' : row.met ? 'yes' : '**no**'} |`);
  }
  return lines.join('\n');
}

const TICKS_PER_SECOND = 100; // Linux USER_HZ

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
export function processCpuSeconds(pid: number): number {
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** A TypeScript script running as a process of its own, its stdout read line by line. */
export interface BenchScript {
  readonly child: ChildProcess;
  readonly lines: AsyncIterator<string>;
}

/**
 * Starts `script` (a TypeScript file, e.g. a scenario's helper beside it) through swc as its own
 * process: stdout piped and read by lines, stderr passed through. `v8Flags` come before the
 * script (SERVICE_V8_FLAGS runs it as the apps run).
 */
export function startBenchScript(script: string, args: readonly string[], options: { stdin?: 'pipe' | 'ignore'; v8Flags?: readonly string[] } = {}): BenchScript {
  const child = spawn(process.execPath, [...(options.v8Flags ?? []), '--require', '@swc-node/register', script, ...args], {
    env: Object.assign({}, process.env, { SWC_NODE_PROJECT: 'tsconfig.json' }),
    stdio: [options.stdin ?? 'pipe', 'pipe', 'inherit'],
  });
  return { child, lines: createInterface({ input: child.stdout as Readable })[Symbol.asyncIterator]() };
}
