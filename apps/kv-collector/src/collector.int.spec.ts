/**
 * The collector end to end. Real: nats-server -js (free port, killed and restarted for an
 * outage), ZMQ PUB/ROUTER pods (`startEventPod`, the simulator's publisher code), the collector
 * (in process). Mocked: nothing. Each test checks the stream holds every batch exactly once and
 * in order per pod, by bytes.
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { semconv } from '@kvr/telemetry';
import { startInMemoryTracing } from '@kvr/telemetry/testing';
import { startNats, waitFor, type NatsServerHandle } from '@kvr/testing';
import { startEventPod, type EventPod } from '@kvr/zmq-events/testing';
import { batchesOf, driveUntilCaughtUp, expectExactlyOnce, natsClient, podSubject, readSubject, startCollector } from './__fixtures__/harness';

describe('kv-collector', () => {
  let nats: NatsServerHandle;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const pods: EventPod[] = [];
  const newPod = async (options: Parameters<typeof startEventPod>[0] = {}): Promise<EventPod> => {
    const pod = await startEventPod(options);
    pods.push(pod);
    return pod;
  };

  beforeEach(async () => {
    nats = await startNats();
    ({ nc, jsm } = await natsClient(nats.url));
  });
  afterEach(async () => {
    await Promise.all(pods.splice(0).map((pod) => pod.stop()));
    await nc.close();
    await nats.stop();
  });

  it('publishes every batch of every pod once, in order, and fills a collector restart gap by replay', async () => {
    const [a, b] = [await newPod(), await newPod({ eventFormat: 'array' })];
    let { collector } = await startCollector(nats.url, [a, b]);
    await driveUntilCaughtUp(jsm, [a, b], () => collector.flush());
    for (let i = 0; i < 20; i++) [a, b].forEach((pod) => pod.step(3));
    await driveUntilCaughtUp(jsm, [a, b], () => collector.flush());
    await collector.stop();
    // While no collector runs, the pods go on.
    for (let i = 0; i < 15; i++) [a, b].forEach((pod) => pod.step());
    ({ collector } = await startCollector(nats.url, [a, b]));
    await driveUntilCaughtUp(jsm, [a, b], () => collector.flush());
    await collector.stop();
    for (const pod of [a, b]) {
      const messages = await readSubject(jsm, podSubject(pod));
      expectExactlyOnce(pod, messages);
      expect(messages.filter((m) => m.kind === 'reset')).toEqual([]);
    }
  });

  it('catches up with a quiet pod: what it published before the collector came is replayed without waiting for its next batch', async () => {
    const pod = await newPod();
    for (let i = 0; i < 12; i++) pod.step(2); // to nobody: no subscriber yet
    const { collector, registry } = await startCollector(nats.url, [pod]);
    // The pod publishes nothing more; the stream must still end up with all of it.
    const messages = await waitFor(
      async () => {
        await collector.flush();
        const stored = await readSubject(jsm, podSubject(pod));
        return batchesOf(stored).length === pod.sent.length ? stored : undefined;
      },
      { what: "the quiet pod's earlier batches in the stream" },
    );
    await collector.stop();
    expectExactlyOnce(pod, messages);
    expect(messages.filter((m) => m.kind === 'reset')).toEqual([]);
    expect(await registry.getSingleMetricAsString('kvr_collector_batches_received_total')).toMatch(/source="replay"} 12$/m);
  });

  it('holds batches while NATS is down and publishes them in order when it returns', async () => {
    const pod = await newPod();
    const { collector, registry } = await startCollector(nats.url, [pod]);
    await driveUntilCaughtUp(jsm, [pod], () => collector.flush());
    await nats.kill();
    for (let i = 0; i < 25; i++) pod.step(2);
    await waitFor(async () => ((await registry.getSingleMetricAsString('kvr_collector_publish_retries_total')).match(/ [1-9]\d*$/m) ? true : undefined), { what: 'a failed publish' });
    await nats.restart();
    await driveUntilCaughtUp(jsm, [pod], () => collector.flush());
    await collector.stop();
    expectExactlyOnce(pod, await readSubject(jsm, podSubject(pod)));
  });

  it('turns an engine restart into a reset and a new epoch, even for a collector that was down during it', async () => {
    const pod = await newPod();
    const first = await startCollector(nats.url, [pod], { instance: 'one' });
    const second = await startCollector(nats.url, [pod], { instance: 'two' });
    const flushBoth = async (): Promise<void> => void (await Promise.all([first.collector.flush(), second.collector.flush()]));
    await driveUntilCaughtUp(jsm, [pod], flushBoth);
    for (let i = 0; i < 10; i++) pod.step();
    await driveUntilCaughtUp(jsm, [pod], flushBoth);
    await second.collector.stop();
    pod.restart();
    for (let i = 0; i < 5; i++) pod.step();
    await driveUntilCaughtUp(jsm, [pod], () => first.collector.flush());
    // The second replica comes back after the restart: it must publish under the new epoch.
    const back = await startCollector(nats.url, [pod], { instance: 'two' });
    await first.collector.stop();
    for (let i = 0; i < 5; i++) pod.step();
    await driveUntilCaughtUp(jsm, [pod], () => back.collector.flush());
    await back.collector.stop();
    const messages = await readSubject(jsm, podSubject(pod));
    expectExactlyOnce(pod, messages);
    const resets = messages.filter((m) => m.kind === 'reset');
    expect(resets.map((m) => [m.epoch, m.resetReason])).toEqual([[1, 'engine_restart']]);
    // The reset comes before every batch of the new epoch.
    const resetIndex = messages.indexOf(resets[0]!);
    expect(messages.findIndex((m) => m.kind === 'batch' && m.epoch === 1)).toBeGreaterThan(resetIndex);
  });

  it('without a replay socket, an unrecoverable gap becomes a reset and publishing continues', async () => {
    const pod = await newPod({ replay: false });
    let { collector } = await startCollector(nats.url, [pod]);
    await driveUntilCaughtUp(jsm, [pod], () => collector.flush());
    await collector.stop();
    const missed = [pod.step(), pod.step(), pod.step()];
    ({ collector } = await startCollector(nats.url, [pod]));
    await driveUntilCaughtUp(jsm, [pod], () => collector.flush());
    await collector.stop();
    const messages = await readSubject(jsm, podSubject(pod));
    const seqs = batchesOf(messages).map((m) => m.seq);
    for (const batch of missed) expect(seqs).not.toContain(batch.seq);
    expect(messages.filter((m) => m.kind === 'reset').map((m) => m.resetReason)).toContain('unrecoverable_gap');
    // Batches after the reset are consecutive, and every stored batch is byte-identical to what the pod sent.
    for (const m of batchesOf(messages)) expect(m.payload).toEqual(pod.sent.find((b) => b.seq === m.seq)!.payload);
  });

  it('dead-letters garbage payloads with the reason and keeps the stream intact', async () => {
    const pod = await newPod();
    const { collector, registry } = await startCollector(nats.url, [pod]);
    await driveUntilCaughtUp(jsm, [pod], () => collector.flush());
    pod.garbage();
    pod.garbage(Buffer.from('not msgpack at all'));
    for (let i = 0; i < 3; i++) pod.step();
    await driveUntilCaughtUp(jsm, [pod], () => collector.flush());
    await collector.stop();
    const dlq = await jsm.streams.info('KV_DLQ');
    expect(dlq.state.messages).toBeGreaterThanOrEqual(2);
    const letter = await jsm.streams.getMessage('KV_DLQ', { seq: dlq.state.first_seq });
    expect(letter?.header.get('Kvr-Dlq-Reason')).toMatch(/\w+/);
    expect(letter?.header.get('Kvr-Pod')).toBe(pod.id);
    expect(await registry.getSingleMetricAsString('kvr_dead_letters_total')).toMatch(/kvr_dead_letters_total\{[^}]*\} [1-9]/);
    // The garbage took sequence numbers; the valid batches around it are all there, without a reset.
    const messages = await readSubject(jsm, podSubject(pod));
    expectExactlyOnce(pod, messages);
  });
});

describe('kv-collector tracing', () => {
  it('carries the publish span context to consumers in the message headers', async () => {
    const tracing = startInMemoryTracing();
    const nats = await startNats();
    const { nc, jsm } = await natsClient(nats.url);
    const pod = await startEventPod();
    try {
      const { collector } = await startCollector(nats.url, [pod]);
      await driveUntilCaughtUp(jsm, [pod], () => collector.flush());
      await collector.stop();
      const info = await jsm.streams.info('KV_EVENTS', { subjects_filter: podSubject(pod) });
      const last = await jsm.streams.getMessage('KV_EVENTS', { last_by_subj: podSubject(pod) });
      expect(info.state.messages).toBeGreaterThan(0);
      const traceparent = last?.header.get('traceparent') ?? '';
      expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
      const [, traceId, spanId] = traceparent.split('-');
      const spans = await tracing.finishedSpans();
      const span = spans.find((s) => s.spanContext().spanId === spanId);
      expect(span?.name).toBe(semconv.SPAN_COLLECTOR_PUBLISH);
      expect(span?.spanContext().traceId).toBe(traceId);
      expect(span?.attributes[semconv.ATTR_POD_ID]).toBe(pod.id);
    } finally {
      await pod.stop();
      await nc.close();
      await nats.stop();
      await tracing.stop();
    }
  });
});
