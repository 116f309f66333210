/**
 * vLLM's /metrics for one simulated pod: the names (semconv.VLLM_*), labels (`model_name`,
 * `engine`) and histogram buckets vLLM v0.10–v0.2x uses (vllm/v1/metrics/loggers.py). Gauges and
 * the prefix-cache counters are read from the engine at scrape time.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SimEngine } from '@kvr/sim-engine';
import { semconv } from '@kvr/telemetry';

const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0];
const ITL_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0];
const E2E_BUCKETS = [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0];

export interface PodMetrics {
  readonly registry: Registry;
  readonly ttft: Histogram<'model_name' | 'engine'>;
  readonly itl: Histogram<'model_name' | 'engine'>;
  readonly e2e: Histogram<'model_name' | 'engine'>;
  readonly promptTokens: Counter<'model_name' | 'engine'>;
  readonly generationTokens: Counter<'model_name' | 'engine'>;
  readonly requestSuccess: Counter<'model_name' | 'engine' | 'finished_reason'>;
  readonly preemptions: Counter<'model_name' | 'engine'>;
  readonly eventBatches: Counter<'kind'>;
  readonly replayRequests: Counter;
  readonly rejected: Counter<'reason'>;
}

export function createPodMetrics(engine: SimEngine, model: string, cacheInfo: Record<string, string>): PodMetrics {
  const registry = new Registry();
  const labels = { model_name: model, engine: '0' };
  const labelNames = ['model_name', 'engine'] as const;
  const registers = [registry];
  new Gauge({ name: semconv.VLLM_NUM_REQUESTS_RUNNING, help: 'Number of requests in model execution batches.', labelNames, registers, collect() { this.set(labels, engine.stats().running); } });
  new Gauge({ name: semconv.VLLM_NUM_REQUESTS_WAITING, help: 'Number of requests waiting to be processed.', labelNames, registers, collect() { this.set(labels, engine.stats().waiting); } });
  new Gauge({ name: semconv.VLLM_KV_CACHE_USAGE_PERC, help: 'KV-cache usage. 1 means 100 percent usage.', labelNames, registers, collect() { this.set(labels, engine.stats().kvCacheUsage); } });
  // Counters that follow the engine's monotonic totals at scrape time; after an engine restart
  // (totals back to 0) they continue from where they were, as a Prometheus counter must.
  const followTotal = (name: string, help: string, read: () => number): void => {
    let last = 0;
    new Counter({
      name,
      help,
      labelNames,
      registers,
      collect() {
        const now = read();
        if (now < last) last = 0;
        this.inc(labels, Math.max(0, now - last)); // inc(0) makes the series visible from the first scrape
        last = now;
      },
    });
  };
  followTotal(semconv.VLLM_PREFIX_CACHE_QUERIES_TOTAL, 'Prefix cache queries, in terms of number of queried tokens.', () => engine.stats().prefixCacheQueries);
  followTotal(semconv.VLLM_PREFIX_CACHE_HITS_TOTAL, 'Prefix cache hits, in terms of number of cached tokens.', () => engine.stats().prefixCacheHits);
  const infoLabels = Object.keys(cacheInfo);
  new Gauge({ name: semconv.VLLM_CACHE_CONFIG_INFO, help: 'Information of the LLMEngine CacheConfig', labelNames: infoLabels, registers }).set(cacheInfo, 1);
  return {
    registry,
    ttft: new Histogram({ name: semconv.VLLM_TIME_TO_FIRST_TOKEN_SECONDS, help: 'Histogram of time to first token in seconds.', labelNames, buckets: TTFT_BUCKETS, registers }),
    itl: new Histogram({ name: semconv.VLLM_INTER_TOKEN_LATENCY_SECONDS, help: 'Histogram of inter-token latency in seconds.', labelNames, buckets: ITL_BUCKETS, registers }),
    e2e: new Histogram({ name: semconv.VLLM_E2E_REQUEST_LATENCY_SECONDS, help: 'Histogram of e2e request latency in seconds.', labelNames, buckets: E2E_BUCKETS, registers }),
    promptTokens: new Counter({ name: semconv.VLLM_PROMPT_TOKENS_TOTAL, help: 'Number of prefill tokens processed.', labelNames, registers }),
    generationTokens: new Counter({ name: semconv.VLLM_GENERATION_TOKENS_TOTAL, help: 'Number of generation tokens processed.', labelNames, registers }),
    requestSuccess: new Counter({ name: semconv.VLLM_REQUEST_SUCCESS_TOTAL, help: 'Count of successfully processed requests.', labelNames: [...labelNames, 'finished_reason'], registers }),
    preemptions: new Counter({ name: semconv.VLLM_NUM_PREEMPTIONS_TOTAL, help: 'Cumulative number of preemption from the engine.', labelNames, registers }),
    eventBatches: new Counter({ name: semconv.METRIC_SIM_EVENT_BATCHES_TOTAL, help: 'KV event batches sent on the PUB socket (live) or in replay answers (replayed).', labelNames: ['kind'], registers }),
    replayRequests: new Counter({ name: semconv.METRIC_SIM_REPLAY_REQUESTS_TOTAL, help: 'Replay requests answered on the ROUTER socket.', registers }),
    rejected: new Counter({ name: semconv.METRIC_SIM_REJECTED_REQUESTS_TOTAL, help: 'HTTP requests rejected with an OpenAI-style error.', labelNames: ['reason'], registers }),
  };
}
