import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { semconv } from '@kvr/telemetry';

export type CollectorMetrics = ReturnType<typeof createCollectorMetrics>;

export function createCollectorMetrics(registry: Registry, readBufferBytes: () => number) {
  const registers = [registry];
  return {
    received: new Counter({ name: semconv.METRIC_COLLECTOR_RECEIVED_TOTAL, help: 'Batches received from pods.', labelNames: ['pod', 'source'] as const, registers }),
    published: new Counter({ name: semconv.METRIC_COLLECTOR_PUBLISHED_TOTAL, help: 'Messages JetStream stored (not duplicates).', labelNames: ['pod', 'kind'] as const, registers }),
    duplicates: new Counter({ name: semconv.METRIC_COLLECTOR_DUPLICATES_TOTAL, help: 'Batches not stored twice: already published (live) or dropped by JetStream (stream).', labelNames: ['pod', 'where'] as const, registers }),
    dropped: new Counter({ name: semconv.METRIC_COLLECTOR_DROPPED_TOTAL, help: 'Batches dropped before publishing; repaired later as a gap.', labelNames: ['pod', 'reason'] as const, registers }),
    deadLetters: new Counter({ name: semconv.METRIC_DEAD_LETTERS_TOTAL, help: 'Payloads that did not decode, sent to the dead-letter stream.', labelNames: ['pod', 'reason'] as const, registers }),
    gaps: new Counter({ name: semconv.METRIC_SEQUENCE_GAPS_TOTAL, help: 'Sequence gaps seen on pods.', labelNames: ['pod'] as const, registers }),
    replays: new Counter({ name: semconv.METRIC_REPLAYS_TOTAL, help: 'Gap repairs by outcome: filled by replay, unrecoverable (reset), unavailable (no replay socket), deferred (buffer full).', labelNames: ['pod', 'outcome'] as const, registers }),
    resets: new Counter({ name: semconv.METRIC_POD_RESETS_TOTAL, help: 'Pod resets published.', labelNames: ['pod', 'reason'] as const, registers }),
    publishSeconds: new Histogram({ name: semconv.METRIC_COLLECTOR_PUBLISH_SECONDS, help: 'Offer to JetStream acknowledgement.', buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers }),
    podLag: new Gauge({ name: semconv.METRIC_COLLECTOR_POD_LAG_SECONDS, help: "Engine batch timestamp to acknowledgement, last batch of each pod.", labelNames: ['pod'] as const, registers }),
    bufferBytes: new Gauge({ name: semconv.METRIC_COLLECTOR_BUFFER_BYTES, help: 'Bytes held for JetStream, unacknowledged.', registers, collect() { this.set(readBufferBytes()); } }),
    retries: new Counter({ name: semconv.METRIC_COLLECTOR_PUBLISH_RETRIES_TOTAL, help: 'Publish rounds that failed and were retried.', registers }),
    reorders: new Counter({ name: semconv.METRIC_COLLECTOR_POSSIBLE_REORDERS_TOTAL, help: 'Retries after which a later message may precede an earlier one on a subject.', registers }),
    pods: new Gauge({ name: semconv.METRIC_COLLECTOR_PODS, help: 'Pods subscribed to.', registers }),
  };
}
