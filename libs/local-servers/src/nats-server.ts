import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { findBinary, startManagedProcess, type ManagedProcess } from './processes';
import { waitFor } from './wait';

export interface NatsServerHandle {
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly pid: number | undefined;
  /** JetStream store directory (a private temp dir), or undefined when JetStream is off. */
  readonly storeDir: string | undefined;
  /** Stops the server and removes its store. Safe to call twice. */
  stop(): Promise<void>;
  /** Stops the server process but keeps its store (an outage); `restart()` brings it back. */
  kill(): Promise<void>;
  /** Starts the server again on the same port with the same store; resolves when ready. */
  restart(): Promise<void>;
}

export interface StartNatsOptions {
  /** Enable JetStream with a private store dir. @default true */
  jetstream?: boolean;
  /** Readiness timeout. @default 15000 */
  timeoutMs?: number;
}

export const NATS_INSTALL_HINT = 'sudo apt-get install -y nats-server';

/** The port file nats-server writes into `--ports_file_dir` (nats-server 2.9 layout). */
interface PortsFile {
  nats?: string[];
}

/**
 * Starts a private `nats-server` (JetStream on by default) on a kernel-chosen port (`-p -1`, so
 * no port race), reads the actual port from its ports file, and resolves once a client can
 * connect and, with JetStream, fetch the account info.
 */
export async function startNats(options: StartNatsOptions = {}): Promise<NatsServerHandle> {
  const binary = findBinary('nats-server', NATS_INSTALL_HINT);
  const jetstream = options.jetstream ?? true;
  const dir = mkdtempSync(join(tmpdir(), 'kvr-nats-'));
  const storeDir = jetstream ? join(dir, 'store') : undefined;
  const host = '127.0.0.1';
  const args = ['-a', host, '-p', '-1', '--ports_file_dir', dir, '-m', '0'];
  if (storeDir) args.push('-js', '-sd', storeDir);
  let proc = startManagedProcess(binary, args, dir);
  const abortIf = (): string | undefined => (proc.hasExited() ? `nats-server exited early:\n${proc.output()}` : undefined);
  try {
    const port = await waitFor(async () => readPort(dir, proc), {
      what: 'nats-server to write its ports file',
      timeoutMs: options.timeoutMs,
      abortIf,
    });
    await waitFor(async () => probe(host, port, jetstream), {
      what: `nats-server on ${host}:${port}${jetstream ? ' with JetStream' : ''}`,
      timeoutMs: options.timeoutMs,
      abortIf,
    });
    // A restart reuses the port it got (clients reconnect to the same URL) and the store.
    const restartArgs = args.map((arg, i) => (args[i - 1] === '-p' ? String(port) : arg));
    return {
      url: `nats://${host}:${port}`,
      host,
      port,
      get pid() {
        return proc.child.pid;
      },
      storeDir,
      async stop() {
        await proc.stop();
        rmSync(dir, { recursive: true, force: true });
      },
      async kill() {
        await proc.stop();
      },
      async restart() {
        if (!proc.hasExited()) await proc.stop();
        proc = startManagedProcess(binary, restartArgs, dir);
        await waitFor(async () => probe(host, port, jetstream), {
          what: `nats-server to come back on ${host}:${port}`,
          timeoutMs: options.timeoutMs,
          abortIf,
        });
      },
    };
  } catch (err) {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

function readPort(dir: string, proc: ManagedProcess): number | undefined {
  const file = readdirSync(dir).find((name) => name === `nats-server_${proc.child.pid}.ports`);
  if (!file) return undefined;
  const parsed = JSON.parse(readFileSync(join(dir, file), 'utf8')) as PortsFile;
  const url = parsed.nats?.[0];
  if (!url) return undefined;
  const port = Number(new URL(url).port);
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

async function probe(host: string, port: number, jetstream: boolean): Promise<true> {
  const nc = await connect({ servers: `${host}:${port}`, reconnect: false, timeout: 1_000 });
  try {
    if (jetstream) {
      const jsm = await jetstreamManager(nc);
      await jsm.getAccountInfo();
    }
    return true;
  } finally {
    await nc.close();
  }
}
