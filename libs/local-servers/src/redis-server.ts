import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'node:net';
import { freePort } from './ports';
import { findBinary, startManagedProcess, type ManagedProcess } from './processes';
import { waitFor } from './wait';

export interface RedisServerHandle {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly pid: number | undefined;
  /** Stops the server and removes its working directory. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartRedisOptions {
  /** Readiness timeout. @default 15000 */
  timeoutMs?: number;
  /** Extra `redis-server` arguments, e.g. `['--maxmemory', '64mb']`. */
  extraArgs?: readonly string[];
  /** A fixed port, e.g. to bring a stopped server back where its clients reconnect. @default a free one */
  port?: number;
}

export const REDIS_INSTALL_HINT = 'sudo apt-get install -y redis-server';
const BIND_ATTEMPTS = 5;

/**
 * Starts a private `redis-server` on a free loopback port, with persistence off and its own
 * working directory, and resolves once it answers PING. Retries on a lost port race.
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServerHandle> {
  const binary = findBinary('redis-server', REDIS_INSTALL_HINT);
  let lastError: unknown;
  for (let attempt = 0; attempt < (options.port ? 1 : BIND_ATTEMPTS); attempt++) {
    const host = '127.0.0.1';
    const port = options.port ?? (await freePort(host));
    const dir = mkdtempSync(join(tmpdir(), 'kvr-redis-'));
    const proc = startManagedProcess(
      binary,
      [
        '--port', String(port),
        '--bind', host,
        '--save', '',
        '--appendonly', 'no',
        '--dir', dir,
        '--daemonize', 'no',
        '--protected-mode', 'yes',
        ...(options.extraArgs ?? []),
      ],
      dir,
    );
    try {
      await waitForPing(host, port, proc, options.timeoutMs);
      return handle(host, port, proc, dir);
    } catch (err) {
      lastError = err;
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
      if (!/Address already in use/i.test(proc.output())) break;
    }
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

async function waitForPing(host: string, port: number, proc: ManagedProcess, timeoutMs?: number): Promise<void> {
  await waitFor(async () => ((await ping(host, port)) ? true : undefined), {
    what: `redis-server on ${host}:${port} to answer PING`,
    timeoutMs,
    abortIf: () => (proc.hasExited() ? `redis-server exited early:\n${proc.output()}` : undefined),
  });
}

/**
 * One RESP inline PING on a fresh socket; true on `+PONG`. A raw socket rather than a client
 * library, so that a refused connection while the server starts leaves no reconnect timers behind.
 */
function ping(host: string, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host, port });
    let reply = '';
    const timer = setTimeout(() => socket.destroy(new Error('PING timed out')), 1_000);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) {
        clearTimeout(timer);
        socket.destroy();
        if (reply.startsWith('+PONG')) resolve(true);
        else reject(new Error(`unexpected PING reply: ${reply.trim()}`));
      }
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

function handle(host: string, port: number, proc: ManagedProcess, dir: string): RedisServerHandle {
  return {
    url: `redis://${host}:${port}`,
    host,
    port,
    pid: proc.child.pid,
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
