import { connect as connectTcp } from 'node:net';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect as connectNats } from '@nats-io/transport-node';
import Redis from 'ioredis';
import { EVENTS_STREAM, redisKeys } from '@kvr/contracts';
import { redactUrlPassword } from '@kvr/config';
import type { CommandSpec, ParsedCommand } from '@kvr/runtime';
import { ADDRESS_OPTIONS, resolveAddresses } from '../addresses';
import type { CommandIo } from '../io';

export const statusSpec: CommandSpec = {
  name: 'kvctl status',
  summary: 'Checks that NATS (with JetStream), Redis, the indexer and the gateway answer, and shows what they hold.',
  options: {
    ...ADDRESS_OPTIONS,
    only: { type: 'string', description: 'Comma-separated subset of nats,redis,indexer,gateway', placeholder: 'LIST' },
    timeout: { type: 'string', description: 'Per-check timeout in milliseconds (default 3000)', placeholder: 'MS' },
    json: { type: 'boolean', description: 'Print one JSON object instead of a table' },
  },
  details: 'Exit code 0 when every checked component answers, 1 otherwise, 2 for bad arguments or config.',
};

type Component = 'nats' | 'redis' | 'indexer' | 'gateway';
const COMPONENTS: readonly Component[] = ['nats', 'redis', 'indexer', 'gateway'];

export interface CheckResult {
  component: Component;
  address: string;
  ok: boolean;
  detail: Record<string, unknown>;
  error?: string;
}

export async function runStatus(parsed: ParsedCommand, io: CommandIo): Promise<number> {
  const addresses = resolveAddresses(parsed.values, io);
  const timeoutMs = Number(parsed.values['timeout'] ?? 3000);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new Error('--timeout must be a positive number of milliseconds');
  const only = typeof parsed.values['only'] === 'string' ? parsed.values['only'].split(',').map((s) => s.trim()) : [...COMPONENTS];
  const unknown = only.filter((name) => !COMPONENTS.includes(name as Component));
  if (unknown.length > 0) throw new Error(`--only: unknown component(s) ${unknown.join(', ')} (choose from ${COMPONENTS.join(', ')})`);
  const checks: Record<Component, () => Promise<CheckResult>> = {
    nats: () => checkNats(addresses.nats, timeoutMs),
    redis: () => checkRedis(addresses.redis, timeoutMs),
    indexer: () => checkTcp('indexer', addresses.indexer, timeoutMs),
    gateway: () => checkHttp(addresses.gateway, timeoutMs),
  };
  const results = await Promise.all((only as Component[]).map((name) => checks[name]()));
  if (parsed.values['json'] === true) {
    io.stdout.write(`${JSON.stringify({ ok: results.every((r) => r.ok), components: results })}\n`);
  } else {
    for (const r of results) {
      const facts = Object.entries(r.detail).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
      io.stdout.write(`${r.ok ? 'ok  ' : 'FAIL'}  ${r.component.padEnd(8)} ${r.address}  ${r.ok ? facts.join(' ') : (r.error ?? '')}\n`);
    }
  }
  return results.every((r) => r.ok) ? 0 : 1;
}

function failure(component: Component, address: string, err: unknown): CheckResult {
  return { component, address, ok: false, detail: {}, error: err instanceof Error ? err.message : String(err) };
}

async function checkNats(url: string, timeoutMs: number): Promise<CheckResult> {
  const address = redactUrlPassword(url);
  try {
    const nc = await connectNats({ servers: url.split(','), reconnect: false, timeout: timeoutMs, name: 'kvctl-status' });
    try {
      const jsm = await jetstreamManager(nc, { timeout: timeoutMs });
      const account = await jsm.getAccountInfo();
      const detail: Record<string, unknown> = { server: nc.info?.version ?? 'unknown', streams: account.streams };
      try {
        const stream = await jsm.streams.info(EVENTS_STREAM);
        detail['events'] = { messages: stream.state.messages, subjects: stream.state.num_subjects ?? 0, lastSeq: stream.state.last_seq };
      } catch {
        detail['events'] = 'no KV_EVENTS stream yet';
      }
      return { component: 'nats', address, ok: true, detail };
    } finally {
      await nc.close();
    }
  } catch (err) {
    return failure('nats', address, err);
  }
}

async function checkRedis(url: string, timeoutMs: number): Promise<CheckResult> {
  const address = redactUrlPassword(url);
  const client = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  // ioredis reports the socket error as an event and then fails the command with a generic
  // "Connection is closed"; keep the first so the user sees the real cause (ECONNREFUSED, ...).
  let socketError: Error | undefined;
  client.on('error', (err: Error) => (socketError ??= err));
  try {
    await client.connect();
    const info = await client.info('server');
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
    const pods = await client.scard(redisKeys().pods());
    return { component: 'redis', address, ok: true, detail: { version, indexedPods: pods } };
  } catch (err) {
    return failure('redis', address, socketError ?? err);
  } finally {
    client.disconnect();
  }
}

function checkTcp(component: Component, target: string, timeoutMs: number): Promise<CheckResult> {
  return new Promise((resolve) => {
    const match = /^(?:\[(.+)\]|([^:]+)):(\d+)$/.exec(target);
    if (!match) {
      resolve(failure(component, target, new Error('only host:port targets can be checked')));
      return;
    }
    const socket = connectTcp({ host: match[1] ?? match[2], port: Number(match[3]) });
    const timer = setTimeout(() => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ component, address: target, ok: true, detail: { tcp: 'accepting' } });
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      resolve(failure(component, target, err));
    });
  });
}

async function checkHttp(base: string, timeoutMs: number): Promise<CheckResult> {
  const url = new URL('/health', base).toString();
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const body = await response.text();
    if (!response.ok) return failure('gateway', base, new Error(`GET /health answered ${response.status}: ${body.slice(0, 200)}`));
    return { component: 'gateway', address: base, ok: true, detail: { health: response.status } };
  } catch (err) {
    return failure('gateway', base, err);
  }
}
