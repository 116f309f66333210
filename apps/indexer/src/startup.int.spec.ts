// real: nats-server -js, redis-server (free ports); mock: nothing.
// An indexer started before any collector waits for the events stream instead of failing.
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Registry } from 'prom-client';
import { IndexerConfig, loadConfig } from '@kvr/config';
import { ALL_EVENTS_FILTER, EVENTS_STREAM } from '@kvr/contracts';
import { ensureStream } from '@kvr/jetstream';
import { createLogger } from '@kvr/telemetry';
import { startNats, startRedis } from '@kvr/testing';
import { Indexer } from './indexer';

it('waits for the events stream, then consumes every partition', async () => {
  const [nats, redis] = await Promise.all([startNats(), startRedis()]);
  const nc = await connect({ servers: nats.url });
  try {
    const { config } = loadConfig(IndexerConfig, { app: 'indexer', env: {}, overrides: { nats: nats.url, redis: redis.url, partitions: 2, grpc: '127.0.0.1:0', probePort: 0, logLevel: 'silent' } });
    let started: Indexer | undefined;
    const starting = Indexer.start(config, createLogger({ app: 'indexer', level: 'silent' }), new Registry()).then((indexer) => (started = indexer));
    // The stream does not exist yet: the indexer must still be waiting after its first polls.
    const jsm = await jetstreamManager(nc);
    for (let i = 0; i < 5; i++) await jsm.getAccountInfo(); // a few round trips of time, not a sleep
    expect(started).toBeUndefined();
    await ensureStream(jsm, { name: EVENTS_STREAM, subjects: [ALL_EVENTS_FILTER], storage: 'file', maxAgeSeconds: 3600, maxBytes: -1, duplicateWindowSeconds: 120, replicas: 1 });
    const indexer = await starting;
    expect(indexer.ownedPartitions).toEqual([0, 1]);
    await indexer.stop();
  } finally {
    await nc.close();
    await Promise.all([nats.stop(), redis.stop()]);
  }
});
