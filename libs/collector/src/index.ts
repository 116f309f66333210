// Public surface of @kvr/collector: pods' ZMQ event streams into a bus, in order, nothing lost.
export { Collector, ingestSettings, startJetStreamCollector } from './collector';
export type { CollectorDeps } from './collector';
export { PodIngest } from './pod-ingest';
export type { IngestDeps, IngestSettings } from './pod-ingest';
export { JetStreamSink } from './sink';
export type { IngestMessage, IngestSink } from './sink';
export { InProcessBus } from './in-process-bus';
export type { BusConsumer, BusMessage, InProcessBusOptions } from './in-process-bus';
export { createCollectorMetrics } from './metrics';
export type { CollectorMetrics } from './metrics';
