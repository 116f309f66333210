// real: redis-server, nats-server -js (Debian binaries, spawned on free ports); mock: nothing.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import Redis from 'ioredis';
import { createConnection } from 'node:net';
import { existsSync } from 'node:fs';
import { findBinary, MissingBinaryError, startNats, startRedis } from './index';

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function isAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('startRedis', () => {
  it('starts a private redis-server that answers commands, and stops it cleanly', async () => {
    const redis = await startRedis();
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(redis.port).not.toBe(6379);
    const client = new Redis(redis.url);
    try {
      await client.set('k', 'v');
      expect(await client.get('k')).toBe('v');
      expect(await client.config('GET', 'save')).toEqual(['save', '']);
    } finally {
      client.disconnect();
    }
    await redis.stop();
    expect(isAlive(redis.pid)).toBe(false);
    expect(await isListening(redis.port)).toBe(false);
    await redis.stop(); // idempotent
  });

  it('gives two servers two ports', async () => {
    const [a, b] = await Promise.all([startRedis(), startRedis()]);
    try {
      expect(a.port).not.toBe(b.port);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});

describe('startNats', () => {
  it('starts nats-server with JetStream in a temp store, and removes it on stop', async () => {
    const nats = await startNats();
    expect(nats.url).toBe(`nats://127.0.0.1:${nats.port}`);
    expect(nats.port).not.toBe(4222);
    const nc = await connect({ servers: nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'PROBE', subjects: ['probe.>'], duplicate_window: 60_000_000_000 });
      const js = jetstream(nc);
      const first = await js.publish('probe.a', 'one', { msgID: 'id-1' });
      const again = await js.publish('probe.a', 'one', { msgID: 'id-1' });
      expect(first.duplicate).toBe(false);
      expect(again.duplicate).toBe(true);
      expect(again.seq).toBe(first.seq);
      const msg = await jsm.streams.getMessage('PROBE', { seq: first.seq });
      expect(msg?.string()).toBe('one');
    } finally {
      await nc.close();
    }
    expect(nats.storeDir && existsSync(nats.storeDir)).toBe(true);
    await nats.stop();
    expect(isAlive(nats.pid)).toBe(false);
    expect(await isListening(nats.port)).toBe(false);
    expect(nats.storeDir && existsSync(nats.storeDir)).toBe(false);
  });

  it('can start without JetStream', async () => {
    const nats = await startNats({ jetstream: false });
    try {
      expect(nats.storeDir).toBeUndefined();
      const nc = await connect({ servers: nats.url });
      const jsm = await jetstreamManager(nc).catch((err: unknown) => err);
      await nc.close();
      expect(jsm).toBeInstanceOf(Error);
    } finally {
      await nats.stop();
    }
  });
});

describe('findBinary', () => {
  const key = 'KVR_REDIS_SERVER_BIN';
  afterEach(() => {
    delete process.env[key];
  });

  it('names the package to install when a binary is missing', () => {
    process.env[key] = '/nonexistent/redis-server';
    expect(() => findBinary('redis-server', 'sudo apt-get install -y redis-server')).toThrow(MissingBinaryError);
    expect(() => findBinary('redis-server', 'sudo apt-get install -y redis-server')).toThrow(
      /apt-get install -y redis-server/,
    );
  });

  it('finds a binary that exists', () => {
    expect(findBinary('redis-server', 'x')).toMatch(/redis-server$/);
  });
});
