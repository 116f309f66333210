// real: kvctl as a child process (compiled dist/, launched through tools/bin/kvctl.js like `npx
// kvctl`), redis-server and nats-server -js spawned on free ports; mock: nothing.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { ALL_EVENTS_FILTER, EVENTS_STREAM, eventsSubject } from '@kvr/contracts';
import { runCli, startNats, startRedis, type NatsServerHandle, type RedisServerHandle } from '@kvr/testing';

/** Keeps the developer's own KVR_* settings out of the child. */
const CLEAN_ENV = { KVR_NATS: undefined, KVR_REDIS: undefined, KVR_INDEXER: undefined, KVR_GATEWAY: undefined, KVR_CONFIG: undefined };

interface StatusJson {
  ok: boolean;
  components: { component: string; ok: boolean; detail: Record<string, unknown>; error?: string }[];
}

describe('kvctl', () => {
  let nats: NatsServerHandle;
  let redis: RedisServerHandle;

  beforeAll(async () => {
    [nats, redis] = await Promise.all([startNats(), startRedis()]);
  });

  afterAll(async () => {
    await Promise.all([nats?.stop(), redis?.stop()]);
  });

  it('prints help with every command and exits 0', async () => {
    const result = await runCli('kvctl', ['--help'], CLEAN_ENV);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: kvctl <command> [options]');
    expect(result.stdout).toMatch(/^ {2}status /m);
    const statusHelp = await runCli('kvctl', ['status', '--help'], CLEAN_ENV);
    expect(statusHelp.code).toBe(0);
    for (const flag of ['--nats URL', '--redis URL', '--indexer ADDR', '--gateway URL']) expect(statusHelp.stdout).toContain(flag);
  });

  it('reports NATS JetStream and Redis from flags, with what the stream holds', async () => {
    const nc = await connect({ servers: nats.url });
    try {
      await (await jetstreamManager(nc)).streams.add({ name: EVENTS_STREAM, subjects: [ALL_EVENTS_FILTER] });
      await jetstream(nc).publish(eventsSubject({ partition: 0, model: 'm', podId: '10.0.0.1:8000' }), 'x');
    } finally {
      await nc.close();
    }
    const result = await runCli('kvctl', ['status', '--only', 'nats,redis', '--json', '--nats', nats.url, '--redis', redis.url], CLEAN_ENV);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const status = JSON.parse(result.stdout) as StatusJson;
    expect(status.ok).toBe(true);
    const byName = Object.fromEntries(status.components.map((c) => [c.component, c]));
    expect(byName['nats']?.detail['events']).toEqual({ messages: 1, subjects: 1, lastSeq: 1 });
    expect(byName['redis']?.detail).toEqual({ version: expect.stringMatching(/^\d+\.\d+/), indexedPods: 0 });
  });

  it('takes addresses from KVR_* variables when no flag is given', async () => {
    const result = await runCli('kvctl', ['status', '--only', 'redis'], { ...CLEAN_ENV, KVR_REDIS: redis.url });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^ok +redis +${redis.url.replace(/[.]/g, '\\.')} +version=`));
  });

  it('exits 1 and says why when a component does not answer', async () => {
    const gone = await startRedis();
    await gone.stop();
    const result = await runCli('kvctl', ['status', '--only', 'redis,nats', '--redis', gone.url, '--nats', nats.url, '--timeout', '1000'], CLEAN_ENV);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^FAIL +redis .*ECONNREFUSED/m);
    expect(result.stdout).toMatch(/^ok +nats /m);
  });

  it('exits 2 with every problem listed for bad addresses or flags', async () => {
    const bad = await runCli('kvctl', ['status', '--redis', 'http://nope', '--indexer', 'no-port'], CLEAN_ENV);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('invalid configuration for kvctl (2 problems)');
    expect(bad.stderr).toContain('redis (from --redis): redis must be a URL with scheme redis:// or rediss://');
    expect(bad.stderr).toContain('indexer (from --indexer): indexer must be host:port or unix:///path');
    const unknownFlag = await runCli('kvctl', ['status', '--natz', 'x'], CLEAN_ENV);
    expect(unknownFlag.code).toBe(2);
    expect(unknownFlag.stderr).toMatch(/Unknown option '--natz'/);
    const unknownCommand = await runCli('kvctl', ['frobnicate'], CLEAN_ENV);
    expect(unknownCommand.code).toBe(2);
    expect(unknownCommand.stderr).toContain('unknown command "frobnicate"');
  });
});
