// Servers and app processes come from @kvr/local-servers (shared with `kvr up`); the rest is test-only.
export { startRedis, startNats, freePort, findBinary, MissingBinaryError, waitFor, startApp, startPipeline, SERVICE_V8_FLAGS } from '@kvr/local-servers';
export type { RedisServerHandle, StartRedisOptions, NatsServerHandle, StartNatsOptions, WaitOptions, AppProcess, StartAppOptions, Pipeline, PipelineOptions, PipelinePod } from '@kvr/local-servers';
export { runCli, runCommand } from './cli';
export type { CliResult } from './cli';
export { runBenchSuite, benchMarkdown, scenarioMarkdown, processCpuSeconds, startBenchScript } from './bench';
export type { BenchCase, BenchScript, BenchSuite, BenchCaseResult, ScenarioRow, ScenarioSuite } from './bench';
export { createPrng, seededRandom } from './random';
export type { Prng } from './random';
export { compareWithPods, discoveryPodsFor, indexedBlocks, residentBlocks, startSimFleet } from './sim-fleet';
export type { SimFleet, SimPodEndpoints, StartSimFleetOptions } from './sim-fleet';
export { fetchMetrics, histogramBuckets, sumSamples } from './prom-text';
