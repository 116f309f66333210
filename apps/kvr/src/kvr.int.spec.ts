// real: kvr as a child process (compiled dist/, launched through tools/bin/kvr.js); mock: nothing.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '@kvr/testing';

const CLEAN_ENV = { KVR_NATS: undefined, KVR_REDIS: undefined, KVR_INDEXER: undefined, KVR_GATEWAY: undefined, KVR_CONFIG: undefined, KVR_ADMIN_TOKEN: undefined };

describe('kvr', () => {
  it('prints help and exits 0', async () => {
    const result = await runCli('kvr', ['--help'], CLEAN_ENV);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: kvr <command>');
    expect(result.stdout).toMatch(/^ {2}config /m);
  });

  it('kvr config validates a file plus environment and prints effective values with secrets redacted', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kvr-cli-')), 'kvctl.yaml');
    writeFileSync(file, 'nats: nats://10.0.0.5:4222\nadminToken: s3cret\n');
    const result = await runCli('kvr', ['config', 'kvctl', '--config', file], { ...CLEAN_ENV, KVR_REDIS: 'redis://:pw@10.0.0.6:6379' });
    expect(result.code).toBe(0);
    const effective = JSON.parse(result.stdout) as Record<string, string>;
    expect(effective).toEqual({
      nats: 'nats://10.0.0.5:4222',
      redis: 'redis://:***@10.0.0.6:6379',
      indexer: '127.0.0.1:50051',
      gateway: 'http://127.0.0.1:8080',
      adminToken: '***',
    });
    expect(result.stdout + result.stderr).not.toContain('s3cret');
    expect(result.stdout + result.stderr).not.toContain(':pw@');
  });

  it('kvr config lists every problem and exits 2', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kvr-cli-')), 'bad.yaml');
    writeFileSync(file, 'nats: http://x\ngatway: http://typo\n');
    const result = await runCli('kvr', ['config', 'kvctl', '--config', file], { ...CLEAN_ENV, KVR_INDEXER: 'nope' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('invalid configuration for kvctl (3 problems)');
    expect(result.stderr).toMatch(/gatway \(from .*bad\.yaml\): unknown setting/);
    expect(result.stderr).toContain('indexer (from KVR_INDEXER)');
  });

  it('kvr config --reference prints the documented fields', async () => {
    const result = await runCli('kvr', ['config', 'kvctl', '--reference'], CLEAN_ENV);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('| `nats` | `KVR_NATS` | string |');
  });

  it('rejects unknown commands with exit 2', async () => {
    const result = await runCli('kvr', ['nope'], CLEAN_ENV);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown command "nope"');
  });
});
