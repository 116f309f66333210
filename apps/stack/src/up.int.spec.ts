/**
 * `kvr up` as a user runs it. Real: every process of the stack (redis-server, nats-server -js,
 * kvr sim, collector, indexer, tokenizer, load-scorer, gateways), the kvctl CLI. Mocked: nothing.
 * The reference guide's verification request works through the gateway, and a request to a pod
 * ends up, as KV events, in the JetStream stream.
 */
import { createConnection } from 'node:net';
import { runCli, startApp, waitFor } from '@kvr/testing';

interface StackLine {
  gateway: string;
  gateways: string[];
  loadScorer: string;
  pods: { id: string; http: string; zmq: string; replay: string | null }[];
  nats: string;
  redis: string;
  tokenizer: string;
  collector: string;
  indexer: string;
}

function portOpen(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = createConnection({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('kvr up', () => {
  it('starts the stack, routes the verification request through each gateway, carries KV events into JetStream, and stops everything on SIGTERM', async () => {
    const up = await startApp('up', ['--pods', '2', '--time-scale', '20', '--partitions', '4', '--replicas-gateway', '2'], { timeoutMs: 120_000 });
    const line = up.listen as unknown as StackLine;
    let stopped = false;
    try {
      expect(line.pods).toHaveLength(2);
      expect(line.nats).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
      expect(line.redis).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
      expect(line.tokenizer).toMatch(/^unix:\/\//);
      expect(line.collector).toMatch(/^http:\/\//);
      expect(line.indexer).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(line.loadScorer).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(line.gateways).toHaveLength(2);
      expect(line.gateway).toBe(line.gateways[0]);
      // The reference guide's verification request: only model and a short prompt, on every replica.
      for (const gateway of line.gateways) {
        const verify = await fetch(`${gateway}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'Qwen/Qwen3-32B', prompt: 'How are you today?' }) });
        expect(verify.status).toBe(200);
        expect(line.pods.map((p) => p.id)).toContain(verify.headers.get('x-kvr-pod'));
        const completion = (await verify.json()) as { object: string; choices: { text: string }[] };
        expect(completion.object).toBe('text_completion');
        expect(completion.choices[0]?.text.length).toBeGreaterThan(0);
      }
      const prompt = Array.from({ length: 200 }, (_, i) => i + 10);
      const res = await fetch(`${line.pods[0]!.http}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt, max_tokens: 2 }) });
      expect(res.status).toBe(200);
      const info = await waitFor(
        async () => {
          const result = await runCli('kvctl', ['stream', 'info', '--nats', line.nats, '--json']);
          if (result.code !== 0) return undefined;
          const summary = JSON.parse(result.stdout) as { pods: { pod: string; kind: string; seq: string | null }[] };
          return summary.pods.some((p) => p.pod === line.pods[0]!.id && p.kind === 'batch') ? summary : undefined;
        },
        { what: "the pod's events in the KV_EVENTS stream", timeoutMs: 30_000 },
      );
      expect(info.pods.find((p) => p.pod === line.pods[0]!.id)).toMatchObject({ kind: 'batch', seq: '0' });
      expect(await up.stop(30_000)).toBe(0);
      stopped = true;
      for (const url of [line.nats, line.redis, line.pods[0]!.http, line.collector, line.gateway, `http://${line.loadScorer}`]) expect(await portOpen(url)).toBe(false);
    } finally {
      if (!stopped) await up.stop();
    }
  });

  it('--backend in-process: no servers and no collector; the gateway routes on the standalone index (tokenizing in process)', async () => {
    const up = await startApp('up', ['--pods', '2', '--time-scale', '20', '--backend', 'in-process', '--tokenization', 'in-process'], { timeoutMs: 120_000 });
    const line = up.listen as unknown as StackLine & { backends: unknown };
    let stopped = false;
    try {
      expect(line.backends).toEqual({ bus: 'in-process', index: 'memory' });
      const ready = (await (await fetch(`${line.gateway}/ready`)).json()) as { details: { tokenization: string; indexAccess: string } };
      expect([ready.details.tokenization, ready.details.indexAccess]).toEqual(['in-process', 'indexer']);
      expect(line).not.toHaveProperty('nats');
      expect(line).not.toHaveProperty('redis');
      expect(line).not.toHaveProperty('collector');
      const prompt = `${'The quick brown fox jumps over the lazy dog. '.repeat(40)}Question one?`;
      const send = async (text: string): Promise<string | null> => {
        const res = await fetch(`${line.gateway}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'Qwen/Qwen3-32B', prompt: text, max_tokens: 2 }) });
        expect(res.status).toBe(200);
        await res.text();
        return res.headers.get('x-kvr-pod');
      };
      const first = await send(prompt);
      // Once the pod's events are in the standalone index, kvctl sees the prefix there.
      const lookup = await waitFor(
        async () => {
          const result = await runCli('kvctl', ['lookup', '--indexer', line.indexer, '--model', 'Qwen/Qwen3-32B', '--prompt', prompt, '--json']);
          if (result.code !== 0) throw new Error(result.stderr);
          const response = JSON.parse(result.stdout) as { request_blocks: number; pods: { pod: string; matched_blocks: number; speculative_blocks: number }[] };
          const held = response.pods.find((p) => p.pod === first);
          return held && held.matched_blocks === response.request_blocks && held.speculative_blocks === 0 ? response : undefined;
        },
        { what: "the first request's blocks in the standalone index", timeoutMs: 30_000 },
      );
      expect(lookup.request_blocks).toBeGreaterThan(3);
      // A sibling with the same long prefix goes where that prefix is.
      expect(await send(`${'The quick brown fox jumps over the lazy dog. '.repeat(40)}Question two?`)).toBe(first);
      expect(await up.stop(30_000)).toBe(0);
      stopped = true;
      for (const url of [line.pods[0]!.http, line.gateway, `http://${line.indexer}`]) expect(await portOpen(url)).toBe(false);
    } finally {
      if (!stopped) await up.stop();
    }
  });

  it('refuses an unknown backend, indexer replicas or Redis index reads on the in-process backend, and an unknown tokenization, before starting anything', async () => {
    const unknown = await runCli('kvr', ['up', '--backend', 'kafka']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--backend must be auto, servers, in-process; got "kafka"/);
    const replicas = await runCli('kvr', ['up', '--backend', 'in-process', '--replicas-indexer', '2']);
    expect(replicas.code).toBe(2);
    expect(replicas.stderr).toMatch(/the in-process backend runs one indexer/);
    const redisReads = await runCli('kvr', ['up', '--backend', 'in-process', '--index-access', 'redis']);
    expect(redisReads.code).toBe(2);
    expect(redisReads.stderr).toMatch(/--index-access redis needs Redis/);
    const tokenization = await runCli('kvr', ['up', '--tokenization', 'sidecar']);
    expect(tokenization.code).toBe(2);
    expect(tokenization.stderr).toMatch(/--tokenization must be service or in-process; got "sidecar"/);
  });
});
