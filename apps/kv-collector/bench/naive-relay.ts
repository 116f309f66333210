// Child process of throughput.bench.ts: the least a ZMQ → JetStream bridge can do — receive each
// message and publish its payload with a message id and the same 256-ack window, no validation,
// no ordering or gap logic. The same client options as the collector. argv: natsUrl, then the
// pods as JSON. Prints "ready", then "done <seconds>" once it published `expected` batches.
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Subscriber } from 'zeromq';

async function main(): Promise<void> {
  const [natsUrl, podsJson, expectedText] = process.argv.slice(2) as [string, string, string];
  const expected = Number(expectedText);
  const pods = JSON.parse(podsJson) as { id: string; zmq: string }[];
  const nc = await connect({ servers: natsUrl, noAsyncTraces: true });
  const js = jetstream(nc);
  let inFlight = 0;
  let acked = 0;
  let started = 0;
  const waiting: (() => void)[] = [];
  const publish = async (subject: string, id: string, payload: Buffer): Promise<void> => {
    while (inFlight >= 256) await new Promise<void>((resolve) => waiting.push(resolve));
    inFlight++;
    js.publish(subject, payload, { msgID: id }).then(
      () => {
        inFlight--;
        waiting.shift()?.();
        if (++acked === expected) process.stdout.write(`done ${(performance.now() - started) / 1000}\n`);
      },
      (err: unknown) => process.stderr.write(`${String(err)}\n`),
    );
  };
  let connected = 0;
  const subs = pods.map((pod, i) => {
    const sub = new Subscriber();
    sub.events.on('connect', () => {
      // Subscriptions travel after the connection; give them a moment before declaring readiness.
      if (++connected === pods.length) setTimeout(() => process.stdout.write('ready\n'), 200);
    });
    sub.connect(pod.zmq);
    sub.subscribe('kv@');
    return (async () => {
      for await (const [, seq, payload] of sub) {
        if (started === 0) started = performance.now();
        await publish(`relay.${i}`, `${pod.id}:${(seq as Buffer).readBigUInt64BE()}`, payload as Buffer);
      }
    })();
  });
  await Promise.all(subs);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
