import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { childEnv, trackChild } from '@kvr/local-servers';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const WORKSPACE_ROOT = join(__dirname, '..', '..', '..');

/**
 * Runs one of the repo's command-line entry points (`kvr`, `kvctl`) the way a user does with
 * `npx`, i.e. through `tools/bin/<name>.js`, and collects its output. `env` is merged over the
 * current environment; a key set to undefined is removed.
 */
export function runCli(
  name: 'kvr' | 'kvctl',
  args: readonly string[],
  env: Record<string, string | undefined> = {},
  timeoutMs = 60_000,
): Promise<CliResult> {
  return runCommand(process.execPath, [join(WORKSPACE_ROOT, 'tools', 'bin', `${name}.js`), ...args], { cwd: WORKSPACE_ROOT, env: childEnv(env), timeoutMs });
}

/**
 * Runs `command` to completion in `cwd` with exactly `env` and collects its output; killed after
 * `timeoutMs`, and with this process if it exits first.
 */
export function runCommand(command: string, args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const untrack = trackChild(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    const done = (): void => {
      clearTimeout(timer);
      untrack();
    };
    child.once('error', (err) => {
      done();
      reject(err);
    });
    child.once('close', (code) => {
      done();
      resolve({ code, stdout, stderr });
    });
  });
}

/** The current environment with `overrides` applied; a key set to undefined is removed. */
