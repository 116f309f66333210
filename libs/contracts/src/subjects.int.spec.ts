// real: nats-server -js (spawned by @kvr/testing on a free port); mock: nothing.
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startNats, type NatsServerHandle } from '@kvr/testing';
import { ALL_EVENTS_FILTER, EVENTS_STREAM, eventsSubject, parseEventsSubject, partitionFilter } from './index';

describe('subject grammar on a real JetStream server', () => {
  let nats: NatsServerHandle;
  let nc: NatsConnection;

  beforeAll(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url });
  });

  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  it('stores awkward model and pod names on their own subjects, and a partition filter selects them', async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: EVENTS_STREAM, subjects: [ALL_EVENTS_FILTER] });
    const js = jetstream(nc);
    const published = [
      { partition: 0, model: 'Qwen/Qwen3-32B', podId: '10.0.0.1:8000' },
      { partition: 1, model: 'org/m:v1.5@rev~2 x', podId: '[fd00::1]:8000' },
      { partition: 1, model: '', podId: '10.0.0.2:8000' },
    ];
    for (const [i, target] of published.entries()) await js.publish(eventsSubject(target), `batch-${i}`);

    await jsm.consumers.add(EVENTS_STREAM, { durable_name: 'p1', ack_policy: AckPolicy.Explicit, filter_subject: partitionFilter(1) });
    const consumer = await js.consumers.get(EVENTS_STREAM, 'p1');
    const seen: { target: ReturnType<typeof parseEventsSubject>; data: string }[] = [];
    const messages = await consumer.fetch({ max_messages: 10, expires: 2_000 });
    for await (const m of messages) {
      seen.push({ target: parseEventsSubject(m.subject), data: m.string() });
      m.ack();
      if (seen.length === 2) break;
    }
    expect(seen).toEqual([
      { target: published[1], data: 'batch-1' },
      { target: published[2], data: 'batch-2' },
    ]);
  });
});
