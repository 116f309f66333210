/**
 * `kvr up` as a user runs it. Real: every process of the stack (redis-server, nats-server -js,
 * kvr sim, kvr collector, kvr tokenizer), the kvctl CLI. Mocked: nothing. A request to a pod
 * must end up, as KV events, in the JetStream stream.
 */
import { createConnection } from 'node:net';
import { runCli, startApp, waitFor } from '@kvr/testing';

interface StackLine {
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
  it('starts the stack, carries a pod\'s KV events into JetStream, and stops everything on SIGTERM', async () => {
    const up = await startApp('up', ['--pods', '2', '--time-scale', '20', '--partitions', '4'], { timeoutMs: 90_000 });
    const line = up.listen as unknown as StackLine;
    let stopped = false;
    try {
      expect(line.pods).toHaveLength(2);
      expect(line.nats).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
      expect(line.redis).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
      expect(line.tokenizer).toMatch(/^unix:\/\//);
      expect(line.collector).toMatch(/^http:\/\//);
      expect(line.indexer).toMatch(/^127\.0\.0\.1:\d+$/);
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
      for (const url of [line.nats, line.redis, line.pods[0]!.http, line.collector]) expect(await portOpen(url)).toBe(false);
    } finally {
      if (!stopped) await up.stop();
    }
  });
});
