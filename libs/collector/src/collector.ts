/**
 * The collector: pods from discovery, one `PodIngest` each, one sink for all of them.
 *
 * `startJetStreamCollector` is the product: an ordered JetStream publisher and shared epochs.
 * Several replicas may run active-active: each subscribes to every pod and publishes every batch
 * under the same message id, and JetStream keeps the first copy. The standalone stack builds a
 * `Collector` over an `InProcessBus` instead (no NATS on the machine).
 */
import { hostname } from 'node:os';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { Registry } from 'prom-client';
import type { CollectorConfig, CollectorZmqSettings } from '@kvr/config';
import { ALL_EVENTS_FILTER, DEAD_LETTER_PREFIX } from '@kvr/contracts';
import type { PodChange, PodSource } from '@kvr/discovery';
import { EpochStore, ensureStream, OrderedPublisher, type StreamSpec } from '@kvr/jetstream';
import type { Logger } from '@kvr/telemetry';
import { createCollectorMetrics, type CollectorMetrics } from './metrics';
import { PodIngest, type IngestSettings } from './pod-ingest';
import { JetStreamSink, type IngestSink } from './sink';

function streamSpec(settings: CollectorConfig['stream'], subjects: string[]): StreamSpec {
  return {
    name: settings.name,
    subjects,
    storage: settings.storage as 'file' | 'memory',
    maxAgeSeconds: settings.maxAgeSeconds,
    maxBytes: settings.maxBytes,
    duplicateWindowSeconds: settings.duplicateWindowSeconds,
    replicas: settings.replicas,
  };
}

/** The ingest settings of a config's ZMQ section. */
export function ingestSettings(partitions: number, zmq: CollectorZmqSettings, replayEnabled: boolean): IngestSettings {
  return {
    partitions,
    topicPrefix: zmq.topicPrefix,
    maxQueuedBatches: zmq.maxQueuedBatches,
    replayIdleTimeoutMs: zmq.replayIdleTimeoutMs,
    replayTimeoutMs: zmq.replayTimeoutMs,
    replayEnabled,
  };
}

export interface CollectorDeps {
  readonly settings: IngestSettings;
  readonly sink: IngestSink;
  readonly source: PodSource;
  readonly metrics: CollectorMetrics;
  readonly logger: Logger;
  /** Closes what the sink runs on (the NATS connection), after the last flush. */
  readonly close?: () => Promise<void>;
}

export class Collector {
  private readonly ingests = new Map<string, PodIngest>();
  private stopping = false;

  constructor(private readonly deps: CollectorDeps) {}

  /** Starts discovery; pods are subscribed to as they appear. */
  async start(): Promise<void> {
    await this.deps.source.start((change) => this.onChange(change));
  }

  get podCount(): number {
    return this.ingests.size;
  }

  /** Resolves when every batch handed to the sink so far is held by the bus. */
  flush(): Promise<void> {
    return this.deps.sink.flush();
  }

  private onChange(change: PodChange): void {
    if (this.stopping) return;
    const { settings, sink, metrics, logger } = this.deps;
    const id = change.pod.id;
    if (change.type === 'added') {
      if (this.ingests.has(id)) return;
      const ingest = new PodIngest(change.pod, { settings, sink, metrics, logger });
      this.ingests.set(id, ingest);
      ingest.start();
    } else {
      const ingest = this.ingests.get(id);
      if (!ingest) return;
      this.ingests.delete(id);
      logger.info({ pod: id }, 'pod removed from discovery');
      ingest.stop(true).catch((err: unknown) => logger.error({ err, pod: id }, 'stopping the pod subscription failed'));
    }
    metrics.pods.set(this.ingests.size);
  }

  /** Stops discovery and subscriptions, sends what is buffered (bounded wait), closes the sink. */
  async stop(flushTimeoutMs = 5_000): Promise<void> {
    this.stopping = true;
    const { source, sink, logger } = this.deps;
    await source.stop();
    await Promise.all([...this.ingests.values()].map((ingest) => ingest.stop(false)));
    this.ingests.clear();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      sink.flush().then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), flushTimeoutMs))),
    ]);
    clearTimeout(timer);
    if (timedOut) logger.warn({ unacked: sink.unacked }, 'stopping with unacknowledged batches; a restart recovers them by replay');
    sink.close();
    await this.deps.close?.();
  }
}

/** The product's collector: streams provisioned, JetStream publishing, epochs in a KV bucket. */
export async function startJetStreamCollector(config: CollectorConfig, logger: Logger, registry: Registry, source: PodSource): Promise<Collector> {
  const instance = config.instance || `${hostname()}-${process.pid}`;
  // noAsyncTraces: otherwise nats.js builds two Error objects (stack traces) per request, about
  // half of the collector's per-batch CPU (measured, docs/benchmarks.md); errors still carry messages.
  const nc = await connect({
    servers: config.nats.split(',').map((s) => s.trim()),
    name: `kv-collector ${instance}`,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: true,
    noAsyncTraces: true,
  });
  try {
    const jsm = await jetstreamManager(nc);
    const events = await ensureStream(jsm, streamSpec(config.stream, [ALL_EVENTS_FILTER]));
    const dlq = await ensureStream(jsm, streamSpec(config.deadLetterStream, [`${DEAD_LETTER_PREFIX}.>`]));
    logger.info({ stream: config.stream.name, created: events.created, deadLetters: config.deadLetterStream.name, dlqCreated: dlq.created }, 'streams ready');
    let publisherRef: OrderedPublisher | null = null;
    const metrics = createCollectorMetrics(registry, () => publisherRef?.bufferedBytes ?? 0);
    const publisher = new OrderedPublisher({
      nc,
      maxPendingAcks: config.publish.maxPendingAcks,
      maxBufferBytes: config.publish.maxBufferBytes,
      ackTimeoutMs: config.publish.ackTimeoutMs,
      hooks: {
        onPublished: (_message, _ack, latencyMs) => metrics.publishSeconds.observe(latencyMs / 1000),
        onRetry: (err, unacked) => {
          metrics.retries.inc();
          logger.warn({ err: String(err), unacked }, 'JetStream publish failed; holding and retrying in order');
        },
        onPossibleReorder: (subjects) => {
          metrics.reorders.inc();
          logger.warn({ subjects }, 'a retried message may now follow a later one on these subjects; the indexer treats the gap as loss');
        },
      },
    });
    publisherRef = publisher;
    const epochs = await EpochStore.open(nc, { bucket: config.epochBucket, writer: instance, replicas: config.stream.replicas });
    const collector = new Collector({
      settings: ingestSettings(config.partitions, config.zmq, !config.disableReplay),
      sink: new JetStreamSink(publisher, epochs, jsm, config.stream.name),
      source,
      metrics,
      logger,
      close: () => nc.drain().catch(() => nc.close()),
    });
    await collector.start();
    return collector;
  } catch (err) {
    await nc.close();
    throw err;
  }
}
