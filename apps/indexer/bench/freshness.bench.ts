// Freshness: how old a KV event is when the index holds it, at a steady 10k block ops/s. The whole
// write path runs as deployed: scripted vLLM pods (child process, real ZMQ) → `kvr collector` →
// nats-server -js → `kvr indexer` → redis-server, each its own process on this machine. The age
// is the indexer's own histogram (`kvr_indexer_event_age_seconds`: now − the batch's engine
// timestamp, observed after the Redis write), read from its /metrics before and after the
// measured window, so warm-up is excluded.
import { join } from 'node:path';
import { semconv } from '@kvr/telemetry';
import { discoveryPodsFor, fetchMetrics, histogramBuckets, startApp, startBenchScript, startNats, startRedis, sumSamples, waitFor, type ScenarioRow, type ScenarioSuite } from '@kvr/testing';

const PODS = 8;
const BATCHES_PER_SECOND_PER_POD = 25;
const STORES_PER_BATCH = 25;
const KEEP_BATCHES = 20;
const WARMUP_SECONDS = 3;
const MEASURE_SECONDS = 20;
const BLOCK_OPS_PER_SECOND = PODS * BATCHES_PER_SECOND_PER_POD * STORES_PER_BATCH * 2;

interface Buckets {
  readonly bounds: number[];
  readonly counts: number[];
}

function histogram(text: string, name: string): Buckets {
  const rows = histogramBuckets(text, name);
  return { bounds: rows.map((r) => r.le), counts: rows.map((r) => r.count) };
}

/** histogram_quantile as Prometheus computes it: linear interpolation inside the bucket reaching q. */
function quantile(after: Buckets, before: Buckets, q: number): number {
  const counts = after.counts.map((c, i) => c - (before.counts[i] ?? 0));
  const total = counts[counts.length - 1] ?? 0;
  const rank = total * q;
  for (let i = 0; i < counts.length; i++) {
    if ((counts[i] ?? 0) >= rank) {
      const lower = i === 0 ? 0 : (after.bounds[i - 1] as number);
      const upper = after.bounds[i] as number;
      if (!Number.isFinite(upper)) return lower;
      const below = i === 0 ? 0 : (counts[i - 1] as number);
      const inBucket = (counts[i] as number) - below;
      return lower + (upper - lower) * (inBucket === 0 ? 1 : (rank - below) / inBucket);
    }
  }
  return Number.NaN;
}

const suite: ScenarioSuite = {
  kind: 'scenario',
  title: 'indexer: event-to-index freshness at 10k block ops/s',
  notes: `${PODS} scripted pods × ${BATCHES_PER_SECOND_PER_POD} batches/s, each batch storing ${STORES_PER_BATCH} new blocks of 64 tokens and removing ${STORES_PER_BATCH} stored ${KEEP_BATCHES} batches earlier: ${BLOCK_OPS_PER_SECOND.toLocaleString('en-US')} block ops/s offered. Pods, \`kvr collector\`, nats-server (file stream), \`kvr indexer\` (8 partitions, one replica) and redis-server are separate processes on the same 2 cores. Age = indexer clock at the end of the Redis write − the batch's engine timestamp (same machine, same clock), from the indexer's histogram over ${MEASURE_SECONDS} s after ${WARMUP_SECONDS} s of warm-up, interpolated inside buckets of 2.5 ms around the target. Target: p99 ≤ 20 ms.`,
  async run(): Promise<ScenarioRow[]> {
    const [nats, redis] = await Promise.all([startNats(), startRedis()]);
    const stops: (() => Promise<unknown>)[] = [() => nats.stop(), () => redis.stop()];
    try {
      const { child, lines } = startBenchScript(join(__dirname, 'paced-pods.ts'), [String(PODS), String(BATCHES_PER_SECOND_PER_POD), String(STORES_PER_BATCH), String(KEEP_BATCHES)]);
      stops.unshift(async () => child.kill('SIGKILL'));
      const pods = JSON.parse(String((await lines.next()).value)) as { id: string; zmq: string; replay: string | null; model: string }[];
      const specs = pods.map((p) => discoveryPodsFor([p], p.model)[0]!);
      const collector = await startApp('collector', ['--probe-port', '0'], { env: { KVR_NATS: nats.url, KVR_DISCOVERY__PODS: JSON.stringify(specs), KVR_LOG_LEVEL: 'warn' } });
      stops.unshift(() => collector.stop());
      const indexer = await startApp('indexer', ['--probe-port', '0', '--grpc', '127.0.0.1:0'], { env: { KVR_NATS: nats.url, KVR_REDIS: redis.url, KVR_LOG_LEVEL: 'warn' } });
      stops.unshift(() => indexer.stop());
      const scrape = (): Promise<string> => fetchMetrics(String(indexer.listen['http']));
      const applied = (text: string): number => sumSamples(text, semconv.METRIC_INDEXER_MESSAGES_TOTAL, { kind: 'batch', outcome: 'applied' });

      child.stdin?.write(`go ${WARMUP_SECONDS + MEASURE_SECONDS}\n`);
      await new Promise((resolve) => setTimeout(resolve, WARMUP_SECONDS * 1000)); // the warm-up is a duration of the workload, not a wait for a condition
      const before = await scrape();
      const started = performance.now();
      const done = String((await lines.next()).value);
      const offered = Number(done.split(' ')[1]);
      // Everything the pods sent is in the index: the indexer applied every batch.
      await waitFor(async () => (applied(await scrape()) >= offered ? true : undefined), { what: 'the indexer to apply every batch', timeoutMs: 60_000 });
      const seconds = (performance.now() - started) / 1000;
      const after = await scrape();
      const name = semconv.METRIC_INDEXER_EVENT_AGE_SECONDS;
      const ages = { after: histogram(after, name), before: histogram(before, name) };
      const blockOps = (text: string): number => sumSamples(text, semconv.METRIC_INDEXER_ADMISSIONS_TOTAL) + sumSamples(text, semconv.METRIC_INDEXER_EVICTIONS_TOTAL);
      const ops = blockOps(after) - blockOps(before);
      const p50 = quantile(ages.after, ages.before, 0.5) * 1000;
      const p99 = quantile(ages.after, ages.before, 0.99) * 1000;
      return [
        { name: 'block ops offered', value: BLOCK_OPS_PER_SECOND, unit: 'ops/s' },
        { name: 'block ops applied to the index (measured window)', value: ops / seconds, unit: 'ops/s' },
        { name: 'batches applied (measured window)', value: (ages.after.counts.at(-1) ?? 0) - (ages.before.counts.at(-1) ?? 0), unit: '' },
        { name: 'event age when indexed, p50', value: p50, unit: 'ms' },
        { name: 'event age when indexed, p99', value: p99, unit: 'ms', target: '≤ 20 ms', met: p99 <= 20 },
      ];
    } finally {
      for (const stop of stops) await stop().catch(() => undefined);
    }
  },
};

export default suite;
