// real: nats-server -js (free port), the kvctl CLI as a process; mock: nothing. The stream is
// filled through @kvr/jetstream with the collector's headers.
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { ALL_EVENTS_FILTER, EVENTS_STREAM, HEADER_ENGINE_SEQ, HEADER_ENGINE_TS, HEADER_EPOCH, HEADER_KIND, eventsSubject, messageId } from '@kvr/contracts';
import { ensureStream, OrderedPublisher } from '@kvr/jetstream';
import { runCli, startNats, type NatsServerHandle } from '@kvr/testing';
import type { PodStreamRow } from './commands/stream';

describe('kvctl stream info', () => {
  let nats: NatsServerHandle;
  beforeAll(async () => {
    nats = await startNats();
  });
  afterAll(() => nats.stop());

  it('prints the stream state and the last message per pod, as a table and as JSON', async () => {
    const missing = await runCli('kvctl', ['stream', 'info', '--nats', nats.url]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/stream KV_EVENTS does not exist/);

    const nc = await connect({ servers: nats.url });
    const jsm = await jetstreamManager(nc);
    await ensureStream(jsm, { name: EVENTS_STREAM, subjects: [ALL_EVENTS_FILTER], storage: 'file', maxAgeSeconds: 3600, maxBytes: -1, duplicateWindowSeconds: 120, replicas: 1 });
    const publisher = new OrderedPublisher({ nc });
    const publish = (pod: string, partition: number, kind: string, epoch: number, seq: number): void =>
      void publisher.offer({
        subject: eventsSubject({ partition, model: 'Qwen/Qwen3-32B', podId: pod }),
        data: Buffer.from('x'),
        headers: { [HEADER_KIND]: kind, [HEADER_EPOCH]: String(epoch), [HEADER_ENGINE_SEQ]: String(seq), [HEADER_ENGINE_TS]: String(Date.now() / 1000) },
        msgId: messageId(kind as 'batch', pod, epoch, BigInt(seq)),
      });
    for (let seq = 0; seq < 5; seq++) publish('10.0.0.1:8000', 1, 'batch', 0, seq);
    publish('10.0.0.2:8000', 3, 'batch', 2, 41);
    publish('10.0.0.2:8000', 3, 'reset', 3, 0);
    await publisher.flush();
    await nc.close();

    const json = await runCli('kvctl', ['stream', 'info', '--nats', nats.url, '--json']);
    expect(json.code).toBe(0);
    const summary = JSON.parse(json.stdout) as { messages: number; pods: PodStreamRow[]; deadLetters: number | null };
    expect(summary.messages).toBe(7);
    expect(summary.deadLetters).toBeNull();
    expect(summary.pods.map(({ pod, partition, messages, kind, epoch, seq, model }) => ({ pod, partition, messages, kind, epoch, seq, model }))).toEqual([
      { pod: '10.0.0.1:8000', partition: 1, messages: 5, kind: 'batch', epoch: 0, seq: '4', model: 'Qwen/Qwen3-32B' },
      { pod: '10.0.0.2:8000', partition: 3, messages: 2, kind: 'reset', epoch: 3, seq: '0', model: 'Qwen/Qwen3-32B' },
    ]);
    const table = await runCli('kvctl', ['stream', 'info', '--nats', nats.url]);
    expect(table.stdout).toMatch(/stream KV_EVENTS: 7 messages/);
    expect(table.stdout).toMatch(/10\.0\.0\.1:8000\t1\tQwen\/Qwen3-32B\t5\t0\t4\tbatch/);
    expect((await runCli('kvctl', ['stream', 'nope'])).code).toBe(2);
  });
});
