import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * Book-keeping for every server process a test starts, so that none outlives the test run:
 *  - each live child is killed on `stop()`, and with SIGKILL on process exit (a failed test,
 *    a jest worker torn down early);
 *  - its pid is also written under `KVR_TEST_RUN_DIR` (set by the jest global setup), where the
 *    global teardown kills whatever a crashed worker left behind.
 */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone: nothing to clean up
      }
    }
  });
}

/** Directories searched after PATH: Debian puts nats-server in /usr/sbin, which a non-root PATH may lack. */
const EXTRA_BIN_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/bin', '/usr/local/bin'];

export class MissingBinaryError extends Error {
  override readonly name = 'MissingBinaryError';
  constructor(
    readonly binary: string,
    readonly searched: readonly string[],
    readonly installHint: string,
  ) {
    super(
      `${binary} not found (searched ${searched.join(', ')}). Install it with: ${installHint} ` +
        `(or run tools/scripts/ensure-system-deps.sh), or point KVR_${binary.toUpperCase().replace(/-/g, '_')}_BIN at it.`,
    );
  }
}

/** Finds `binary` on PATH (plus the sbin directories), honouring a `KVR_<NAME>_BIN` override. */
export function findBinary(binary: string, installHint: string): string {
  const override = process.env[`KVR_${binary.toUpperCase().replace(/-/g, '_')}_BIN`];
  if (override) {
    if (existsSync(override)) return override;
    throw new MissingBinaryError(binary, [override], installHint);
  }
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean), ...EXTRA_BIN_DIRS];
  const searched = [...new Set(dirs)];
  for (const dir of searched) {
    const candidate = join(dir, binary);
    if (existsSync(candidate)) return candidate;
  }
  throw new MissingBinaryError(binary, searched, installHint);
}

/**
 * Tracks a child started elsewhere (e.g. an app under test) like the servers: killed on process
 * exit, pid recorded for the global teardown. Returns the function to call once it has exited.
 */
export function trackChild(child: ChildProcess): () => void {
  installExitHook();
  live.add(child);
  writePidFile(child.pid);
  return () => {
    live.delete(child);
    removePidFile(child.pid);
  };
}

export interface ManagedProcess {
  readonly child: ChildProcess;
  /** Last few KiB of stdout+stderr, for error messages when the server does not come up. */
  output(): string;
  /** Resolves once the process has exited (immediately if it already has). */
  exited(): Promise<void>;
  hasExited(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

const OUTPUT_LIMIT = 16 * 1024;

export function startManagedProcess(command: string, args: readonly string[], cwd?: string): ManagedProcess {
  installExitHook();
  const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let output = '';
  const append = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => {
    const done = (): void => {
      exited = true;
      live.delete(child);
      removePidFile(child.pid);
      resolve();
    };
    child.once('exit', done);
    child.once('error', (err) => {
      append(Buffer.from(`spawn error: ${err.message}\n`));
      done();
    });
  });
  writePidFile(child.pid);
  return {
    child,
    output: () => output,
    exited: () => exitPromise,
    hasExited: () => exited,
    async stop(graceMs = 5_000) {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exitPromise;
      clearTimeout(timer);
    },
  };
}

function runDir(): string | undefined {
  return process.env['KVR_TEST_RUN_DIR'];
}

function writePidFile(pid: number | undefined): void {
  const dir = runDir();
  if (!dir || pid === undefined) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${pid}.pid`), String(pid));
}

function removePidFile(pid: number | undefined): void {
  const dir = runDir();
  if (!dir || pid === undefined) return;
  rmSync(join(dir, `${pid}.pid`), { force: true });
}
