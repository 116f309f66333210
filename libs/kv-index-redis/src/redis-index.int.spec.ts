// real: redis-server (spawned by @kvr/testing on a free port), ioredis; mock: nothing.
// The same conformance suite as the in-memory backend, against Redis.
import Redis from 'ioredis';
import { describeBlockIndexConformance } from '@kvr/kv-index/testing';
import { startRedis, type RedisServerHandle } from '@kvr/testing';
import { RedisBlockIndex } from './index';

let server: RedisServerHandle;
let redis: Redis;
let prefixCounter = 0;

beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

// Each test gets its own key prefix: the same Redis, isolated indexes.
describeBlockIndexConformance('redis', (keyer) => new RedisBlockIndex({ redis, keyer, prefix: `t${++prefixCounter}` }));
