/** What one streamed request measured. */
export interface RequestResult {
  readonly ok: boolean;
  /** Send to first content token (ms); NaN when none came. */
  readonly ttftMs: number;
  /** Mean gap between content tokens after the first (ms); NaN with fewer than two. */
  readonly itlMs: number;
  readonly e2eMs: number;
  readonly outputTokens: number;
  readonly promptTokens: number;
  readonly cachedTokens: number;
  readonly error?: string;
}

export interface StageSummary {
  readonly rate: number;
  readonly requests: number;
  readonly failed: number;
  readonly ttftMeanS: number;
  readonly ttftP50S: number;
  readonly ttftP90S: number;
  readonly itlMeanMs: number;
  readonly e2eMeanS: number;
  /** Output tokens per second of wall time, from the stage's first send to its last answer. */
  readonly outputTokensPerS: number;
  readonly requestsPerS: number;
  /** Prompt tokens the pods served from their prefix cache (their /metrics counters), 0..1. */
  readonly prefixHitRate: number;
  readonly durationS: number;
}

const mean = (values: readonly number[]): number => (values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length);

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number;
}

export function summarizeStage(rate: number, results: readonly RequestResult[], wallSeconds: number, prefixHitRate: number): StageSummary {
  const ok = results.filter((r) => r.ok);
  const ttft = ok.map((r) => r.ttftMs).filter(Number.isFinite);
  const itl = ok.map((r) => r.itlMs).filter(Number.isFinite);
  return {
    rate,
    requests: results.length,
    failed: results.length - ok.length,
    ttftMeanS: mean(ttft) / 1000,
    ttftP50S: percentile(ttft, 0.5) / 1000,
    ttftP90S: percentile(ttft, 0.9) / 1000,
    itlMeanMs: mean(itl),
    e2eMeanS: mean(ok.map((r) => r.e2eMs)) / 1000,
    outputTokensPerS: ok.reduce((s, r) => s + r.outputTokens, 0) / wallSeconds,
    requestsPerS: ok.length / wallSeconds,
    prefixHitRate,
    durationS: wallSeconds,
  };
}

/** One routing mode's run over the ladder. */
export interface ModeRun {
  readonly mode: string;
  readonly stages: readonly StageSummary[];
}

/** The mode's summary over the stages where round-robin saturates (or all stages). */
export interface ModeSummary {
  readonly mode: string;
  readonly ttftMeanS: number;
  readonly ttftP90S: number;
  readonly itlMeanMs: number;
  readonly outputTokensPerS: number;
  readonly requestsPerS: number;
  readonly prefixHitRate: number;
}

/** Request-weighted means over the chosen stages. */
export function summarizeMode(run: ModeRun, rates?: ReadonlySet<number>): ModeSummary {
  const stages = run.stages.filter((s) => !rates || rates.has(s.rate));
  const weight = (f: (s: StageSummary) => number): number => {
    const n = stages.reduce((a, s) => a + s.requests, 0);
    return n === 0 ? Number.NaN : stages.reduce((a, s) => a + f(s) * s.requests, 0) / n;
  };
  return {
    mode: run.mode,
    ttftMeanS: weight((s) => s.ttftMeanS),
    ttftP90S: weight((s) => s.ttftP90S),
    itlMeanMs: weight((s) => s.itlMeanMs),
    outputTokensPerS: weight((s) => s.outputTokensPerS),
    requestsPerS: weight((s) => s.requestsPerS),
    prefixHitRate: weight((s) => s.prefixHitRate),
  };
}

/**
 * The saturating stages of a baseline run: those whose mean TTFT is at least `factor` times the
 * lowest-rate stage's (the definition, factor 10).
 */
export function saturatingRates(baseline: ModeRun, factor = 10): Set<number> {
  const first = baseline.stages[0];
  if (!first) return new Set();
  return new Set(baseline.stages.filter((s) => s.ttftMeanS >= factor * first.ttftMeanS).map((s) => s.rate));
}
