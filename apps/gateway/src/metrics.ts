import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { semconv } from '@kvr/telemetry';

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;

const LATENCY_BUCKETS = [0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

export function createGatewayMetrics(registry: Registry) {
  const registers = [registry];
  return {
    decisions: new Counter({ name: semconv.METRIC_ROUTE_DECISIONS_TOTAL, help: 'Routing decisions by model and reason (prefix_hit, no_hit, fallback).', labelNames: ['model', 'reason'] as const, registers }),
    scorerFallbacks: new Counter({ name: semconv.METRIC_SCORER_FALLBACKS_TOTAL, help: 'Scorer or tokenizer calls left out of a decision, by reason.', labelNames: ['scorer', 'reason'] as const, registers }),
    overhead: new Histogram({ name: semconv.METRIC_ROUTING_OVERHEAD_SECONDS, help: 'Time the gateway adds before forwarding: read, validate, tokenize, score, pick.', buckets: LATENCY_BUCKETS, registers }),
    tokenizeSeconds: new Histogram({ name: semconv.METRIC_GATEWAY_TOKENIZE_SECONDS, help: 'Tokenizer calls of the gateway.', buckets: LATENCY_BUCKETS, registers }),
    predictedHitRatio: new Histogram({ name: semconv.METRIC_GATEWAY_PREDICTED_HIT_RATIO, help: "Share of the prompt's blocks predicted in the chosen pod's cache.", labelNames: ['model'] as const, buckets: [0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1], registers }),
    rejected: new Counter({ name: semconv.METRIC_GATEWAY_REJECTED_TOTAL, help: 'Requests the gateway answered with an error itself, by reason.', labelNames: ['reason'] as const, registers }),
    retries: new Counter({ name: semconv.METRIC_GATEWAY_RETRIES_TOTAL, help: 'Forwarding attempts retried on the next-best pod.', labelNames: ['reason'] as const, registers }),
    speculative: new Counter({ name: semconv.METRIC_GATEWAY_SPECULATIVE_TOTAL, help: 'Speculative index inserts for the chosen pod.', labelNames: ['outcome'] as const, registers }),
    unindexed: new Counter({ name: semconv.METRIC_GATEWAY_UNINDEXED_TOTAL, help: 'Requests routed for a model that never had a confirmed index hit.', labelNames: ['model'] as const, registers }),
    forwarded: new Counter({ name: semconv.METRIC_GATEWAY_FORWARDED_TOTAL, help: 'Forwarded requests by how they ended.', labelNames: ['outcome'] as const, registers }),
    loadScoreCache: new Counter({ name: semconv.METRIC_GATEWAY_LOAD_SCORE_CACHE_TOTAL, help: 'Load-scorer answers reused (hit), fetched while the request waited (miss), refreshed in the background (refresh), or whose background refresh failed (refresh_failed).', labelNames: ['outcome'] as const, registers }),
    pods: new Gauge({ name: semconv.METRIC_GATEWAY_PODS, help: 'Pods known from discovery, and those answering.', labelNames: ['state'] as const, registers }),
  };
}
