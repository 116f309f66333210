// Public API of @kvr/loadgen: the benchmark's pure parts — inference-perf's shared_prefix
// workload and Poisson timer, per-stage statistics, and the report (Markdown tables, SVG charts).
// The HTTP side (streaming client, ladder, pods' metrics) lives in apps/bench.
export { seededRandom, shuffle } from './random';
export type { Random } from './random';
export { sharedPrefixWorkload, poissonSchedule } from './workload';
export type { SharedPrefixParams, SharedPrefixWorkload, WorkloadPrompt } from './workload';
export { percentile, summarizeStage, summarizeMode, saturatingRates } from './stats';
export type { RequestResult, StageSummary, ModeRun, ModeSummary } from './stats';
export { stageTable, summaryTable, lineChartSvg } from './report';
