/**
 * The collector: pods from discovery, one `PodIngest` each, one ordered JetStream publisher for
 * all of them, shared epochs. Several replicas may run active-active: each subscribes to every
 * pod and publishes every batch under the same message id, and JetStream keeps the first copy.
 */
import { hostname } from 'node:os';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Registry } from 'prom-client';
import type { CollectorConfig } from '@kvr/config';
import { ALL_EVENTS_FILTER, DEAD_LETTER_PREFIX } from '@kvr/contracts';
import { podSourceFromSettings, type PodChange, type PodSource } from '@kvr/discovery';
import { EpochStore, ensureStream, OrderedPublisher, type StreamSpec } from '@kvr/jetstream';
import type { Logger } from '@kvr/telemetry';
import { createCollectorMetrics, type CollectorMetrics } from './metrics';
import { PodIngest } from './pod-ingest';

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

export function podSourceFor(config: CollectorConfig, logger: Logger): PodSource {
  return podSourceFromSettings(config.discovery, logger.child({ component: 'discovery' }));
}

export class Collector {
  private readonly ingests = new Map<string, PodIngest>();
  private stopping = false;

  private constructor(
    private readonly config: CollectorConfig,
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly publisher: OrderedPublisher,
    private readonly epochs: EpochStore,
    private readonly source: PodSource,
    private readonly metrics: CollectorMetrics,
    private readonly logger: Logger,
  ) {}

  static async start(config: CollectorConfig, logger: Logger, registry: Registry, source: PodSource = podSourceFor(config, logger)): Promise<Collector> {
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
        js: jetstream(nc),
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
      const collector = new Collector(config, nc, jsm, publisher, epochs, source, metrics, logger);
      await source.start((change) => collector.onChange(change));
      return collector;
    } catch (err) {
      await nc.close();
      throw err;
    }
  }

  get podCount(): number {
    return this.ingests.size;
  }

  /** Resolves when every batch handed to the publisher so far is acknowledged. */
  flush(): Promise<void> {
    return this.publisher.flush();
  }

  private onChange(change: PodChange): void {
    if (this.stopping) return;
    const id = change.pod.id;
    if (change.type === 'added') {
      if (this.ingests.has(id)) return;
      const ingest = new PodIngest(change.pod, {
        settings: {
          partitions: this.config.partitions,
          stream: this.config.stream.name,
          topicPrefix: this.config.zmq.topicPrefix,
          maxQueuedBatches: this.config.zmq.maxQueuedBatches,
          replayIdleTimeoutMs: this.config.zmq.replayIdleTimeoutMs,
          replayTimeoutMs: this.config.zmq.replayTimeoutMs,
          replayEnabled: !this.config.disableReplay,
        },
        publisher: this.publisher,
        jsm: this.jsm,
        epochs: this.epochs,
        metrics: this.metrics,
        logger: this.logger,
      });
      this.ingests.set(id, ingest);
      ingest.start();
    } else {
      const ingest = this.ingests.get(id);
      if (!ingest) return;
      this.ingests.delete(id);
      this.logger.info({ pod: id }, 'pod removed from discovery');
      ingest.stop(true).catch((err: unknown) => this.logger.error({ err, pod: id }, 'stopping the pod subscription failed'));
    }
    this.metrics.pods.set(this.ingests.size);
  }

  /** Stops discovery and subscriptions, sends what is buffered (bounded wait), closes NATS. */
  async stop(flushTimeoutMs = 5_000): Promise<void> {
    this.stopping = true;
    await this.source.stop();
    await Promise.all([...this.ingests.values()].map((ingest) => ingest.stop(false)));
    this.ingests.clear();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.publisher.flush().then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), flushTimeoutMs))),
    ]);
    clearTimeout(timer);
    if (timedOut) this.logger.warn({ unacked: this.publisher.unacked }, 'stopping with unacknowledged batches; a restart recovers them by replay');
    this.publisher.close();
    await this.nc.drain().catch(() => this.nc.close());
  }
}
