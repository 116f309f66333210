/**
 * `kvr collector` as real processes. Real: two collector processes (active-active), nats-server
 * -js, ZMQ pods. Mocked: nothing. One replica is SIGKILLed while the pods publish; the stream
 * must still hold every batch exactly once, in order.
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { runCli, startApp, startNats, type AppProcess, type NatsServerHandle } from '@kvr/testing';
import { startEventPod, type EventPod } from '@kvr/zmq-events/testing';
import { driveUntilCaughtUp, expectExactlyOnce, natsClient, PARTITIONS, podSpecs, podSubject, readSubject, startCollector } from './__fixtures__/harness';

describe('kvr collector (processes)', () => {
  let nats: NatsServerHandle;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    nats = await startNats();
    ({ nc, jsm } = await natsClient(nats.url));
  });
  afterAll(async () => {
    await nc.close();
    await nats.stop();
  });

  const env = (pods: readonly EventPod[], instance: string): Record<string, string> => ({
    KVR_NATS: nats.url,
    KVR_PARTITIONS: String(PARTITIONS),
    KVR_INSTANCE: instance,
    KVR_DISCOVERY__PODS: JSON.stringify(podSpecs(pods)),
    KVR_LOG_LEVEL: 'warn',
  });

  it('two active-active replicas: killing one mid-stream loses and duplicates nothing', async () => {
    const pods = [await startEventPod(), await startEventPod()];
    const replicas: AppProcess[] = [];
    try {
      for (const name of ['a', 'b']) replicas.push(await startApp('collector', ['--probe-port', '0'], { env: env(pods, name) }));
      const noFlush = async (): Promise<void> => undefined;
      await driveUntilCaughtUp(jsm, pods, noFlush);
      // Publish steadily and kill replica a in the middle of it.
      for (let i = 0; i < 40; i++) {
        pods.forEach((pod) => pod.step(2));
        if (i === 20) replicas[0]!.child.kill('SIGKILL');
        await new Promise((resolve) => setTimeout(resolve, 5)); // pacing of the pods' steps
      }
      await driveUntilCaughtUp(jsm, pods, noFlush);
      for (const pod of pods) expectExactlyOnce(pod, await readSubject(jsm, podSubject(pod)));
      const metrics = await (await fetch(`${String(replicas[1]!.listen['http'])}/metrics`)).text();
      expect(metrics).toMatch(/kvr_collector_messages_published_total\{[^}]*kind="batch"[^}]*\} [1-9]/);
    } finally {
      await Promise.all(replicas.map((r) => r.stop()));
      await Promise.all(pods.map((pod) => pod.stop()));
    }
  });

  it('refuses to start against a stream configured differently, listing the differences', async () => {
    const { collector } = await startCollector(nats.url, []); // provisions the streams with the defaults
    await collector.stop();
    const result = await runCli('kvr', ['collector', '--probe-port', '0'], { ...env([], 'c'), KVR_STREAM__MAX_AGE_SECONDS: '60', KVR_STREAM__DUPLICATE_WINDOW_SECONDS: '30' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/max age: stream has 86400 s, config wants 60 s/);
    expect(result.stderr).toMatch(/duplicate window: stream has 120 s, config wants 30 s/);
  });
});
