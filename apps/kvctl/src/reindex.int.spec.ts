// real: nats-server -js (free port), the kvctl CLI as a process; mock: nothing. The happy path
// (indexers rebuilding their partitions) is in apps/indexer/src/snapshots.int.spec.ts.
import { runCli, startNats, type NatsServerHandle } from '@kvr/testing';

describe('kvctl reindex and snapshots without indexers', () => {
  let nats: NatsServerHandle;
  beforeAll(async () => {
    nats = await startNats();
  });
  afterAll(() => nats.stop());

  it('says that no indexer listens, lists no snapshots, and rejects bad flags', async () => {
    // NATS answers "no responders" at once, so the command says so instead of sitting out its timeout.
    const reindex = await runCli('kvctl', ['reindex', '--nats', nats.url, '--timeout', '600']);
    expect(reindex.code).toBe(1);
    expect(reindex.stderr).toMatch(/no indexer listens on kvr\.indexer\.KV_EVENTS\.reindex/);

    const snapshots = await runCli('kvctl', ['snapshots', '--nats', nats.url]);
    expect(snapshots.code).toBe(0);
    expect(snapshots.stdout).toMatch(/no snapshots in bucket kvr_index_snapshots/);

    const bad = await runCli('kvctl', ['reindex', '--nats', nats.url, '--timeout', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--timeout must be a positive number of seconds, got "soon"/);
  });
});
