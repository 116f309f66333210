// Public surface of @kvr/local-servers: real redis-server / nats-server processes on free ports
// and our own apps as child processes, each ready by protocol. Used by the test harness
// (@kvr/testing re-exports it) and by `kvr up`.
export { startRedis } from './redis-server';
export type { RedisServerHandle, StartRedisOptions } from './redis-server';
export { startNats } from './nats-server';
export type { NatsServerHandle, StartNatsOptions } from './nats-server';
export { freePort } from './ports';
export { findBinary, MissingBinaryError, trackChild, startManagedProcess } from './processes';
export type { ManagedProcess } from './processes';
export { waitFor } from './wait';
export type { WaitOptions } from './wait';
export { startApp, childEnv, SERVICE_V8_FLAGS } from './app-process';
export type { AppProcess, StartAppOptions } from './app-process';
export { resolveBackend, startPipeline } from './pipeline';
export type { Pipeline, PipelineBackend, PipelineBackends, PipelineOptions, PipelinePod, PipelinePart } from './pipeline';
