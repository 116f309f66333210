/**
 * `kvr demo` as a user runs it, shrunk to seconds: the whole pipeline as processes, both routing
 * modes over a two-stage ladder, the report files. Real parts only; the numbers are not asserted
 * (they are the benchmark's job, written to docs/benchmarks.md), the shape of the run is.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Report } from './run';
import { runCli } from '@kvr/testing';

describe('kvr demo', () => {
  it('runs round-robin, precise and the oracle over the ladder on a simulated fleet and writes the report', async () => {
    const out = mkdtempSync(join(tmpdir(), 'kvr-demo-'));
    try {
      const args = ['demo', '--pods', '2', '--groups', '3', '--prompts-per-group', '2', '--system-prompt-len', '320', '--question-len', '64', '--output-len', '4', '--rates', '2,5', '--stage-seconds', '2', '--warmup-rate', '6', '--modes', 'rr,precise,oracle', '--out', out];
      const result = await runCli('kvr', args, {}, 170_000);
      expect({ code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({ code: 0, stderr: '' });
      expect(result.stdout).toMatch(/\| rr \|/);
      expect(result.stdout).toMatch(/\| precise \|/);
      expect(result.stdout).toMatch(/precise vs rr: TTFT mean/);
      const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report;
      expect(report.runs.map((r) => r.mode)).toEqual(['rr', 'precise', 'oracle']);
      for (const run of report.runs) {
        expect(run.stages.map((s) => s.rate)).toEqual([2, 5]);
        for (const stage of run.stages) {
          expect(stage.failed).toBe(0);
          expect(stage.requests).toBe(Math.floor(stage.rate * 2));
          expect(stage.ttftMeanS).toBeGreaterThan(0);
        }
      }
      // Precise routing sends a group's prompts where the group's prefix is: the pods' own
      // counters show more prefix hits than round-robin over two pods.
      // (The oracle's hit rate is not compared here: with caches of a few blocks and a dozen
      // requests it is noise; the full demo's report compares the modes.)
      const [rr, precise] = report.summaries;
      expect(precise!.prefixHitRate).toBeGreaterThan(rr!.prefixHitRate);
      expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('## precise');
      expect(readFileSync(join(out, 'ttft.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>$/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 180_000);

  it('says so and runs on the in-memory index and an in-process bus when redis-server and nats-server cannot be had', async () => {
    const out = mkdtempSync(join(tmpdir(), 'kvr-demo-'));
    try {
      const args = ['demo', '--pods', '2', '--groups', '3', '--prompts-per-group', '2', '--system-prompt-len', '320', '--question-len', '64', '--output-len', '4', '--rates', '4', '--stage-seconds', '3', '--warmup-rate', '6', '--out', out];
      // The binaries are looked up as everywhere else: an override that points nowhere is a missing server.
      const missing = { KVR_REDIS_SERVER_BIN: join(out, 'no-redis-server'), KVR_NATS_SERVER_BIN: join(out, 'no-nats-server') };
      const result = await runCli('kvr', args, missing, 170_000);
      expect({ code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({ code: 0, stderr: '' });
      expect(result.stderr).toMatch(/redis-server not found/);
      expect(result.stderr).toMatch(/nats-server not found/);
      expect(result.stderr).toMatch(/in-memory index and an in-process bus/);
      const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report;
      expect(report.setup['backends']).toEqual({ bus: 'in-process', index: 'memory' });
      expect(report.setup['index']).toMatch(/^in memory/);
      expect(report.runs.map((r) => r.mode)).toEqual(['rr', 'precise']);
      for (const run of report.runs) for (const stage of run.stages) expect(stage.failed).toBe(0);
      const [rr, precise] = report.summaries;
      expect(precise!.prefixHitRate).toBeGreaterThan(rr!.prefixHitRate);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 180_000);

  it('refuses an unknown backend with a usage error', async () => {
    const result = await runCli('kvr', ['demo', '--backend', 'kafka']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--backend must be auto, servers or in-process, got "kafka"/);
  });
});
