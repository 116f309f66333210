// Public surface of @kvr/sim-engine: a simulated vLLM engine (prefix cache, scheduler, latency
// model) without I/O. apps/vllm-sim puts HTTP and ZMQ around it.
export { ENGINE_HASH_ALGOS, createEngineHasher } from './engine-hash';
export type { EngineHashAlgo, EngineHash, EngineHasher, EngineExtraKey } from './engine-hash';
export { BlockPool } from './block-pool';
export type { BlockPoolOptions, CacheBlocksInput, HashFormat, KvBlock, ResidentBlock } from './block-pool';
export { DEFAULT_LATENCY_MODEL, stepMilliseconds } from './latency-model';
export type { LatencyModelOptions, StepLoad } from './latency-model';
export { DEFAULT_SCHEDULER_OPTIONS, Scheduler, SimRequest } from './scheduler';
export type { BlockLabeler, PrefixCacheStats, SchedulerOptions, SimRequestInit, SimRequestStatus, StepEntry, StepOutput, StepPlan } from './scheduler';
export { SimEngine } from './engine';
export type { EngineStats, RequestListener, SimEngineHooks, SimEngineOptions, StepReport } from './engine';
