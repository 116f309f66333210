// real: nats-server -js (spawned by @kvr/testing on a free port, killed and restarted for outages); mock: nothing.
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { HEADER_ENGINE_SEQ, HEADER_ENGINE_TS, HEADER_EPOCH, HEADER_KIND } from '@kvr/contracts';
import { startNats, waitFor, type NatsServerHandle } from '@kvr/testing';
import { EpochStore, ensureStream, lastStoredPosition, OrderedPublisher, StreamConfigConflictError, fromHeaders, type OutboundMessage, type StreamSpec } from './index';

const spec = (name: string, overrides: Partial<StreamSpec> = {}): StreamSpec => ({
  name,
  subjects: [`${name.toLowerCase()}.>`],
  storage: 'file',
  maxAgeSeconds: 3600,
  maxBytes: -1,
  duplicateWindowSeconds: 120,
  replicas: 1,
  ...overrides,
});

const message = (stream: string, pod: string, seq: number): OutboundMessage => ({
  subject: `${stream.toLowerCase()}.${pod}`,
  data: Buffer.from(`batch ${seq}`),
  headers: { [HEADER_KIND]: 'batch', [HEADER_EPOCH]: '0', [HEADER_ENGINE_SEQ]: String(seq), [HEADER_ENGINE_TS]: String(1000 + seq) },
  msgId: `batch:${pod}:0:${seq}`,
});

async function readAll(jsm: JetStreamManager, stream: string): Promise<{ subject: string; seq: number }[]> {
  const info = await jsm.streams.info(stream);
  const out: { subject: string; seq: number }[] = [];
  for (let s = info.state.first_seq; s <= info.state.last_seq && info.state.messages > 0; s++) {
    const m = await jsm.streams.getMessage(stream, { seq: s });
    if (m) out.push({ subject: m.subject, seq: Number(fromHeaders(m.header)[HEADER_ENGINE_SEQ]) });
  }
  return out;
}

describe('libs/jetstream on a real server', () => {
  let nats: NatsServerHandle;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    jsm = await jetstreamManager(nc);
  });
  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  it('creates a stream once, accepts the same config again, and lists every conflicting setting', async () => {
    expect((await ensureStream(jsm, spec('PROV'))).created).toBe(true);
    expect((await ensureStream(jsm, spec('PROV'))).created).toBe(false);
    const conflict = ensureStream(jsm, spec('PROV', { maxAgeSeconds: 60, duplicateWindowSeconds: 30, storage: 'memory' }));
    await expect(conflict).rejects.toThrow(StreamConfigConflictError);
    await expect(conflict).rejects.toThrow(/max age: stream has 3600 s, config wants 60 s[\s\S]*duplicate window: stream has 120 s, config wants 30 s/);
    await expect(conflict).rejects.toThrow(/storage: stream has file, config wants memory/);
  });

  it('publishes pipelined, in order, and JetStream drops re-published ids as duplicates', async () => {
    await ensureStream(jsm, spec('ORDER'));
    const publisher = new OrderedPublisher({ nc, maxPendingAcks: 64 });
    let duplicates = 0;
    for (let i = 0; i < 600; i++) publisher.offer(message('ORDER', `p${i % 3}`, Math.floor(i / 3)));
    await publisher.flush();
    for (let i = 0; i < 30; i++) publisher.offer({ ...message('ORDER', 'p0', i), onAck: (ack) => void (ack.duplicate && duplicates++) });
    await publisher.flush();
    expect(duplicates).toBe(30);
    const stored = await readAll(jsm, 'ORDER');
    expect(stored).toHaveLength(600);
    for (const pod of ['p0', 'p1', 'p2']) {
      expect(stored.filter((m) => m.subject === `order.${pod}`).map((m) => m.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    }
    expect(publisher.bufferedBytes).toBe(0);
  });

  it('keeps messages while NATS is down, refuses more than the buffer holds, and sends the rest in order after it returns', async () => {
    await ensureStream(jsm, spec('OUTAGE'));
    const retries: unknown[] = [];
    const publisher = new OrderedPublisher({ nc, maxPendingAcks: 16, ackTimeoutMs: 500, maxBufferBytes: 4_000, hooks: { onRetry: (err) => retries.push(err) } });
    for (let i = 0; i < 10; i++) publisher.offer(message('OUTAGE', 'p', i));
    await publisher.flush();
    await nats.kill();
    let accepted = 10;
    while (publisher.offer(message('OUTAGE', 'p', accepted))) accepted++;
    expect(accepted).toBeGreaterThan(20);
    expect(publisher.bufferedBytes).toBeLessThanOrEqual(4_000);
    await waitFor(async () => (retries.length > 0 ? true : undefined), { what: 'a failed publish while NATS is down' });
    await nats.restart();
    await publisher.flush();
    const stored = await readAll(jsm, 'OUTAGE');
    expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: accepted }, (_, i) => i));
  });

  it('holds and retries while no stream takes the subject (no responders), then stores everything once and in order', async () => {
    const retries: unknown[] = [];
    const acks: { seq: number; duplicate: boolean }[] = [];
    const publisher = new OrderedPublisher({ nc, maxPendingAcks: 4, ackTimeoutMs: 1_000, hooks: { onRetry: (err) => retries.push(err) } });
    for (let i = 0; i < 10; i++) publisher.offer({ ...message('LATE', 'p', i), onAck: (ack) => void acks.push({ seq: ack.seq, duplicate: ack.duplicate }) });
    await waitFor(async () => (retries.length > 0 ? true : undefined), { what: 'a refused publish' });
    expect(String(retries[0])).toMatch(/503|no responders/);
    expect(publisher.unacked).toBe(10);
    await ensureStream(jsm, spec('LATE'));
    await publisher.flush();
    expect((await readAll(jsm, 'LATE')).map((m) => m.seq)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(acks.map((a) => a.seq)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(acks.every((a) => !a.duplicate)).toBe(true);
    publisher.close();
  });

  it('reads the last stored position of a subject', async () => {
    await ensureStream(jsm, spec('POS'));
    expect(await lastStoredPosition(jsm, 'POS', 'pos.nothing')).toBeNull();
    const publisher = new OrderedPublisher({ nc });
    for (let i = 0; i < 5; i++) publisher.offer(message('POS', 'a', i));
    await publisher.flush();
    expect(await lastStoredPosition(jsm, 'POS', 'pos.a')).toMatchObject({ kind: 'batch', epoch: 0, seq: 4n, ts: 1004 });
  });

  it('moves a pod epoch by exactly one per restart, however many replicas report it', async () => {
    const a = await EpochStore.open(nc, { bucket: 'epochs_test', writer: 'a' });
    const b = await EpochStore.open(nc, { bucket: 'epochs_test', writer: 'b' });
    expect(await a.current('10.0.0.1:8000')).toBe(0);
    expect(await b.current('10.0.0.1:8000')).toBe(0);
    const both = await Promise.all([a.bump('10.0.0.1:8000', 0), b.bump('10.0.0.1:8000', 0)]);
    expect(both).toEqual([1, 1]);
    // A replica that missed the restart and reports it late adopts the stored epoch.
    expect(await b.bump('10.0.0.1:8000', 0)).toBe(1);
    expect(await a.bump('10.0.0.1:8000', 1)).toBe(2);
    expect(await b.current('10.0.0.1:8000')).toBe(2);
    expect(await a.current('[fd00::1]:8000')).toBe(0);
  });
});
