import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { semconv } from '@kvr/telemetry';

export type ScrapeOutcome = 'ok' | 'error' | 'timeout';
export type ScoreOutcome = 'ok' | 'invalid' | 'error';

export type LoadScorerMetrics = ReturnType<typeof createLoadScorerMetrics>;

/** The load scorer's own series; `podCounts` is read at collection time for the pods gauge. */
export function createLoadScorerMetrics(registry: Registry, podCounts: () => { known: number; fresh: number }) {
  const registers = [registry];
  return {
    scrapes: new Counter({ name: semconv.METRIC_LOAD_SCORER_SCRAPES_TOTAL, help: "Scrapes of the pods' vLLM /metrics, by outcome.", labelNames: ['outcome'] as const, registers }),
    scrapeSeconds: new Histogram({
      name: semconv.METRIC_LOAD_SCORER_SCRAPE_SECONDS,
      help: 'One scrape, request to parsed values, whatever its outcome.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    pods: new Gauge({
      name: semconv.METRIC_LOAD_SCORER_PODS,
      help: 'Pods discovered (known) and pods whose values are fresh (fresh).',
      labelNames: ['state'] as const,
      registers,
      collect() {
        const counts = podCounts();
        this.set({ state: 'known' }, counts.known);
        this.set({ state: 'fresh' }, counts.fresh);
      },
    }),
    scores: new Counter({ name: semconv.METRIC_LOAD_SCORER_SCORE_TOTAL, help: 'Score calls served, by scorer and outcome.', labelNames: ['scorer', 'outcome'] as const, registers }),
    omittedPods: new Counter({ name: semconv.METRIC_LOAD_SCORER_OMITTED_PODS_TOTAL, help: 'Candidate pods left out of a Score answer for want of fresh values.', labelNames: ['scorer'] as const, registers }),
  };
}
