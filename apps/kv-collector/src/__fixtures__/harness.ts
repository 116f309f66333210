/** Collector test harness: real NATS JetStream, scripted pods on real ZMQ sockets, in-process collectors. */
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Registry } from 'prom-client';
import { CollectorConfig, loadConfig } from '@kvr/config';
import { HEADER_ENGINE_SEQ, HEADER_EPOCH, HEADER_KIND, HEADER_RESET_REASON, eventsSubject, partitionForPod } from '@kvr/contracts';
import { staticPodSource } from '@kvr/discovery';
import { fromHeaders } from '@kvr/jetstream';
import { createLogger } from '@kvr/telemetry';
import type { EventPod } from '@kvr/zmq-events/testing';
import { startJetStreamCollector, type Collector } from '@kvr/collector';

export const PARTITIONS = 4;

export interface StoredMessage {
  readonly kind: string;
  readonly epoch: number;
  readonly seq: bigint | null;
  readonly payload: Buffer;
  readonly resetReason?: string;
}

export function collectorConfig(natsUrl: string, overrides: Record<string, unknown> = {}): CollectorConfig {
  return loadConfig(CollectorConfig, {
    app: 'collector',
    env: {},
    overrides: { nats: natsUrl, partitions: PARTITIONS, probePort: 0, logLevel: 'silent', zmq: { replayIdleTimeoutMs: 500 }, publish: { ackTimeoutMs: 1000 }, ...overrides },
  }).config;
}

export function podSpecs(pods: readonly EventPod[]): Record<string, unknown>[] {
  return pods.map((pod) => ({ address: '127.0.0.1', httpPort: Number(pod.id.split(':')[1]), id: pod.id, zmqEndpoint: pod.zmq, replayEndpoint: pod.replay, model: pod.model }));
}

export async function startCollector(natsUrl: string, pods: readonly EventPod[], overrides: Record<string, unknown> = {}): Promise<{ collector: Collector; registry: Registry }> {
  const config = collectorConfig(natsUrl, overrides);
  const registry = new Registry();
  const logger = createLogger({ app: 'collector', level: (process.env['KVR_TEST_LOG'] as 'info' | undefined) ?? 'silent' });
  const collector = await startJetStreamCollector(config, logger, registry, staticPodSource(podSpecs(pods) as never));
  return { collector, registry };
}

export async function natsClient(url: string): Promise<{ nc: NatsConnection; jsm: JetStreamManager }> {
  const nc = await connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  return { nc, jsm: await jetstreamManager(nc) };
}

export function podSubject(pod: EventPod): string {
  return eventsSubject({ partition: partitionForPod(pod.id, PARTITIONS), model: pod.model, podId: pod.id });
}

/** Every message of the stream on `subject`, in stream order. */
export async function readSubject(jsm: JetStreamManager, subject: string, stream = 'KV_EVENTS'): Promise<StoredMessage[]> {
  const info = await jsm.streams.info(stream, { subjects_filter: subject });
  const out: StoredMessage[] = [];
  if (info.state.messages === 0) return out;
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const message = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (!message || message.subject !== subject) continue;
    const headers = fromHeaders(message.header);
    const seqText = headers[HEADER_ENGINE_SEQ] ?? '';
    out.push({
      kind: headers[HEADER_KIND] ?? '?',
      epoch: Number(headers[HEADER_EPOCH]),
      seq: seqText === '' ? null : BigInt(seqText),
      payload: Buffer.from(message.data),
      ...(headers[HEADER_RESET_REASON] ? { resetReason: headers[HEADER_RESET_REASON] } : {}),
    });
  }
  return out;
}

export const batchesOf = (messages: readonly StoredMessage[]): StoredMessage[] => messages.filter((m) => m.kind === 'batch');

/**
 * The stream holds the pod's valid batches exactly once, in order: per engine generation, the
 * batch messages of its epoch are the pod's sent batches, same seqs, same bytes.
 */
export function expectExactlyOnce(pod: EventPod, messages: readonly StoredMessage[], epochOfGeneration: (g: number) => number = (g) => g): void {
  const generations = [...new Set(pod.sent.map((b) => b.generation))];
  for (const generation of generations) {
    const batches = pod.sent.filter((b) => b.generation === generation && b.valid).map((b) => ({ seq: b.seq, payload: b.payload.toString('hex') }));
    const stored = batchesOf(messages)
      .filter((m) => m.epoch === epochOfGeneration(generation))
      .map((m) => ({ seq: m.seq, payload: m.payload.toString('hex') }));
    expect({ generation, batches: stored }).toEqual({ generation, batches });
  }
}

/** Keeps the pods stepping until the stream's last batch of each is the pod's last sent batch. */
export async function driveUntilCaughtUp(jsm: JetStreamManager, pods: readonly EventPod[], flush: () => Promise<void>, maxRounds = 200): Promise<void> {
  for (let round = 0; round < maxRounds; round++) {
    await flush();
    let caughtUp = true;
    for (const pod of pods) {
      const last = pod.sent[pod.sent.length - 1];
      const stored = batchesOf(await readSubject(jsm, podSubject(pod))).pop();
      if (!last || !stored || stored.seq !== last.seq || stored.payload.toString('hex') !== last.payload.toString('hex')) caughtUp = false;
    }
    if (caughtUp) return;
    for (const pod of pods) pod.step();
    await new Promise((resolve) => setTimeout(resolve, 20)); // pacing between pod steps, not a wait for a condition
  }
  throw new Error('the stream did not catch up with the pods');
}
