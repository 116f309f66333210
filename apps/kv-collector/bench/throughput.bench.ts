// Collector throughput: block operations per second from pods' ZMQ sockets into JetStream, against
// a raw JetStream publish of the same bytes from one process with the same window (the baseline,
// same run, same nats-server). Pods run in a child process; the collector is `kvr collector`, a
// process of its own, as deployed. Block ops = block hashes carried by the events.
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { encodeKvEventBatch, WIRE_LAYOUTS } from '@kvr/kv-events';
import { ensureStream } from '@kvr/jetstream';
import { discoveryPodsFor, fetchMetrics, histogramBuckets, processCpuSeconds, startApp, startBenchScript, startNats, waitFor, type BenchScript, type ScenarioRow, type ScenarioSuite } from '@kvr/testing';

const PODS = 4;
const BATCHES_PER_POD = 3_000;
const BLOCKS = 64;
const WINDOW = 256;
const TOTAL_BATCHES = PODS * BATCHES_PER_POD;
const BLOCK_OPS = TOTAL_BATCHES * BLOCKS;

/** Quantile from a Prometheus histogram's cumulative buckets (upper bound of the bucket reaching q). */
function histogramQuantile(text: string, name: string, q: number): number {
  const buckets = histogramBuckets(text, name);
  const total = buckets[buckets.length - 1]?.count ?? 0;
  return buckets.find((b) => b.count >= total * q)?.le ?? Number.NaN;
}

/** Starts a child script of this folder (see startBenchScript). */
const startBenchChild = (script: string, args: readonly string[], stdin: 'pipe' | 'ignore'): BenchScript => startBenchScript(join(__dirname, script), args, { stdin });

interface RawResult {
  opsPerSecond: number;
  p50: number;
  p99: number;
  /** CPU seconds of the publishing process and of nats-server while publishing. */
  publisherCpu: number;
  serverCpu: number;
}

/** The raw baseline (bench/raw-publisher.ts) in a fresh process, with nats-server's CPU around it. */
async function rawBaseline(natsUrl: string, natsPid: number, payload: Buffer): Promise<RawResult> {
  const nc = await connect({ servers: natsUrl });
  await ensureStream(await jetstreamManager(nc), { name: 'RAW', subjects: ['raw.>'], storage: 'file', maxAgeSeconds: 3600, maxBytes: -1, duplicateWindowSeconds: 120, replicas: 1 });
  await nc.close();
  const { child, lines } = startBenchChild('raw-publisher.ts', [natsUrl, payload.toString('hex'), String(TOTAL_BATCHES), String(PODS), String(WINDOW)], 'pipe');
  try {
    await lines.next(); // ready
    const serverCpuBefore = processCpuSeconds(natsPid);
    child.stdin?.write('go\n');
    const result = JSON.parse(String((await lines.next()).value)) as { messagesPerSecond: number; p50: number; p99: number; cpuSeconds: number };
    const serverCpu = processCpuSeconds(natsPid) - serverCpuBefore;
    return { opsPerSecond: result.messagesPerSecond * BLOCKS, p50: result.p50, p99: result.p99, publisherCpu: result.cpuSeconds, serverCpu };
  } finally {
    child.kill('SIGKILL');
  }
}

interface PodPublisher {
  readonly pods: { id: string; zmq: string; replay: string | null; model: string }[];
  readonly pid: number;
  go(): void;
  stop(): void;
}

async function startPodPublisher(): Promise<PodPublisher> {
  const { child, lines } = startBenchChild('pod-publisher.ts', [String(PODS), String(BATCHES_PER_POD), String(BLOCKS)], 'pipe');
  const pods = JSON.parse(String((await lines.next()).value)) as PodPublisher['pods'];
  return { pods, pid: child.pid as number, go: () => child.stdin?.write('go\n'), stop: () => void child.kill('SIGKILL') };
}

/** The naive relay (bench/naive-relay.ts) over fresh pods: seconds from its first message to its last ack. */
async function naiveRelay(natsUrl: string): Promise<number> {
  const nc = await connect({ servers: natsUrl });
  await ensureStream(await jetstreamManager(nc), { name: 'RELAY', subjects: ['relay.>'], storage: 'file', maxAgeSeconds: 3600, maxBytes: -1, duplicateWindowSeconds: 120, replicas: 1 });
  await nc.close();
  const pods = await startPodPublisher();
  const { child: relay, lines } = startBenchChild('naive-relay.ts', [natsUrl, JSON.stringify(pods.pods), String(TOTAL_BATCHES)], 'ignore');
  try {
    await lines.next(); // ready
    pods.go();
    const done = String((await lines.next()).value);
    return Number(done.split(' ')[1]);
  } finally {
    relay.kill('SIGKILL');
    pods.stop();
  }
}

const suite: ScenarioSuite = {
  kind: 'scenario',
  title: 'kv-collector: block operations per second, ZMQ → JetStream',
  notes: `${PODS} pods × ${BATCHES_PER_POD.toLocaleString('en-US')} batches of ${BLOCKS} BlockStored hashes (${BLOCK_OPS.toLocaleString('en-US')} block ops), published by the pods as fast as ZMQ takes them; \`kvr collector\` in its own process publishes to a file-backed stream with a ${WINDOW}-ack window. Baseline: the same payload bytes published straight to JetStream from a fresh process with the same window. Second baseline: a naive relay process (ZMQ receive → publish with a message id, same window, no validation, ordering, gap or restart logic) over the same pods. Latency: collector offer → PubAck (histogram upper bounds); raw: publish → PubAck. Target: collector within 1.5× of the baseline; goal ≥ 250k block ops/s.`,
  async run(): Promise<ScenarioRow[]> {
    const nats = await startNats();
    const children: { stop(): Promise<unknown> }[] = [];
    try {
      const payload = encodeKvEventBatch(
        {
          ts: Date.now() / 1000,
          events: [{ type: 'BlockStored', blockHashes: Array.from({ length: BLOCKS }, (_, i) => BigInt(i + 1) * 0x9e3779b97f4a7c15n % 2n ** 64n), parentBlockHash: null, tokenIds: Array.from({ length: BLOCKS * 16 }, (_, i) => i), blockSize: 16, loraId: null, medium: 'GPU', loraName: null, extraKeys: null, groupIdx: 0, kvCacheSpecKind: 'full_attention', kvCacheSpecSlidingWindow: null }],
          dataParallelRank: 0,
        },
        WIRE_LAYOUTS.map,
      );
      const natsPid = nats.pid as number;
      const raw = await rawBaseline(nats.url, natsPid, payload);

      const relaySeconds = await naiveRelay(nats.url);
      const podPublisher = await startPodPublisher();
      children.push({ stop: async () => podPublisher.stop() });
      const pods = podPublisher.pods;
      const specs = pods.map((p) => discoveryPodsFor([p], p.model)[0]!);
      const collector = await startApp('collector', ['--probe-port', '0'], { env: { KVR_NATS: nats.url, KVR_DISCOVERY__PODS: JSON.stringify(specs), KVR_LOG_LEVEL: 'warn', KVR_PUBLISH__MAX_PENDING_ACKS: String(WINDOW) } });
      children.push(collector);
      const nc = await connect({ servers: nats.url });
      const jsm = await jetstreamManager(nc);
      await waitFor(async () => ((await jsm.streams.info('KV_EVENTS')).state.messages >= PODS ? true : undefined), { what: 'the collector to announce the pods' });
      // Completion is the stream's own time of its last stored message (same machine, same clock),
      // read by polling the stream's state. A core subscription on the subjects would time it too,
      // but nats-server would then copy every batch to this process as well: work the raw
      // baseline, timed by its acks, does not carry.
      const collectorPid = collector.child.pid as number;
      const cpuBefore = { collector: processCpuSeconds(collectorPid), pods: processCpuSeconds(podPublisher.pid), server: processCpuSeconds(natsPid) };
      const startedAt = Date.now();
      podPublisher.go();
      const finalState = await waitFor(
        async () => {
          const { state } = await jsm.streams.info('KV_EVENTS');
          return state.messages - PODS >= TOTAL_BATCHES ? state : undefined; // minus the `added` messages
        },
        { what: 'every batch in the stream', intervalMs: 20, timeoutMs: 120_000 },
      );
      const seconds = (Date.parse(finalState.last_ts) - startedAt) / 1000;
      // Idle processes take no CPU, so reading after the poll noticed completion adds nothing.
      const cpu = { collector: processCpuSeconds(collectorPid) - cpuBefore.collector, pods: processCpuSeconds(podPublisher.pid) - cpuBefore.pods, server: processCpuSeconds(natsPid) - cpuBefore.server };
      const perBatchUs = (cpuSeconds: number): number => (cpuSeconds / TOTAL_BATCHES) * 1e6;
      const stored = finalState.messages - PODS;
      await nc.close();
      const metrics = await fetchMetrics(String(collector.listen['http']));
      const collectorOps = BLOCK_OPS / seconds;
      const dropped = [...metrics.matchAll(/^kvr_collector_dropped_total\{[^}]*\} (\d+)/gm)].reduce((s, m) => s + Number(m[1]), 0);
      return [
        { name: 'raw JetStream publish (baseline)', value: raw.opsPerSecond, unit: 'block ops/s' },
        { name: 'naive relay: ZMQ → JetStream, no checks (second baseline)', value: BLOCK_OPS / relaySeconds, unit: 'block ops/s' },
        { name: 'collector, ZMQ → JetStream', value: collectorOps, unit: 'block ops/s', target: '≥ 250,000', met: collectorOps >= 250_000 },
        { name: 'baseline ÷ collector', value: raw.opsPerSecond / collectorOps, unit: '×', target: '≤ 1.5', met: raw.opsPerSecond / collectorOps <= 1.5 },
        { name: 'naive relay ÷ collector', value: BLOCK_OPS / relaySeconds / collectorOps, unit: '×' },
        { name: 'raw publish latency p50 / p99', value: raw.p50, unit: `ms / ${raw.p99.toFixed(1)} ms` },
        { name: 'collector publish latency p50 (≤)', value: histogramQuantile(metrics, 'kvr_collector_publish_seconds', 0.5) * 1000, unit: 'ms' },
        { name: 'collector publish latency p99 (≤)', value: histogramQuantile(metrics, 'kvr_collector_publish_seconds', 0.99) * 1000, unit: 'ms' },
        { name: 'batches stored / sent', value: stored, unit: `of ${TOTAL_BATCHES} (dropped and replayed: ${dropped})` },
        { name: 'CPU per batch: raw publisher process', value: perBatchUs(raw.publisherCpu), unit: 'µs' },
        { name: 'CPU per batch: nats-server, raw publish', value: perBatchUs(raw.serverCpu), unit: 'µs' },
        { name: 'CPU per batch: collector process (all its threads)', value: perBatchUs(cpu.collector), unit: 'µs' },
        { name: 'CPU per batch: pods process (ZMQ sends)', value: perBatchUs(cpu.pods), unit: 'µs' },
        { name: 'CPU per batch: nats-server, from the collector', value: perBatchUs(cpu.server), unit: 'µs' },
      ];
    } finally {
      for (const child of children.reverse()) await child.stop();
      await nats.stop();
    }
  },
};

export default suite;
