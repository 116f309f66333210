/**
 * A rate ladder as inference-perf runs it: per stage, int(rate × duration) requests at Poisson
 * arrival times, prompts from index 0 again, the stage ends when its last request has answered.
 */
import { poissonSchedule, summarizeStage, type RequestResult, type StageSummary, type WorkloadPrompt } from '@kvr/loadgen';
import { hitRate, prefixCounters } from './pod-metrics';
import { streamCompletion } from './stream-client';

export interface Stage {
  readonly rate: number;
  readonly durationS: number;
}

export interface LadderOptions {
  /** Base URL request i goes to: the router, or a pod (client-side modes; may ask the pods first). */
  readonly targetFor: (i: number, prompt: WorkloadPrompt) => string | Promise<string>;
  /** Called when a request to `target` has finished (client-side modes count in-flight requests). */
  readonly onFinished?: (target: string) => void;
  readonly prompts: readonly WorkloadPrompt[];
  readonly model: string;
  readonly outputLen: number;
  /** Pods whose /metrics prefix counters give the stage's hit rate. */
  readonly podUrls: readonly string[];
  readonly seed: number;
  /** Seconds slept between stages (inference-perf `interval`). */
  readonly intervalS?: number;
  readonly onProgress?: (stage: Stage, sent: number, done: number, total: number) => void;
}

export async function runStage(stage: Stage, index: number, options: LadderOptions): Promise<StageSummary> {
  const schedule = poissonSchedule(stage.rate, stage.durationS, options.seed + index);
  const before = await prefixCounters(options.podUrls);
  const results: Promise<RequestResult>[] = [];
  let done = 0;
  const started = performance.now();
  for (let i = 0; i < schedule.length; i++) {
    const wait = started + (schedule[i] as number) * 1000 - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const prompt = options.prompts[i % options.prompts.length] as WorkloadPrompt;
    results.push(
      Promise.resolve(options.targetFor(i, prompt)).then(async (target) => {
        const result = await streamCompletion(target, { model: options.model, prompt: prompt.text, maxTokens: options.outputLen });
        options.onFinished?.(target);
        done++;
        options.onProgress?.(stage, results.length, done, schedule.length);
        return result;
      }),
    );
    options.onProgress?.(stage, results.length, done, schedule.length);
  }
  const all = await Promise.all(results);
  const wall = (performance.now() - started) / 1000;
  const after = await prefixCounters(options.podUrls);
  return summarizeStage(stage.rate, all, wall, hitRate(before, after));
}

export async function runLadder(stages: readonly Stage[], options: LadderOptions): Promise<StageSummary[]> {
  const summaries: StageSummary[] = [];
  for (const [index, stage] of stages.entries()) {
    summaries.push(await runStage(stage, index, options));
    if (options.intervalS && index < stages.length - 1) await new Promise((resolve) => setTimeout(resolve, options.intervalS! * 1000));
  }
  return summaries;
}

/** A progress line on a terminal (stderr), nothing when stderr is not a TTY. */
export function terminalProgress(mode: string): (stage: Stage, sent: number, done: number, total: number) => void {
  if (!process.stderr.isTTY) return () => undefined;
  let lastDraw = 0;
  return (stage, sent, done, total) => {
    const now = Date.now();
    if (now - lastDraw < 100 && done < total) return;
    lastDraw = now;
    const width = 30;
    const filled = Math.round((done / Math.max(1, total)) * width);
    process.stderr.write(`\r${mode.padEnd(8)} ${String(stage.rate).padStart(3)} req/s [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} done, ${sent} sent `);
    if (done === total) process.stderr.write('\n');
  };
}
