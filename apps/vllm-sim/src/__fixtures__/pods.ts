/** In-process simulated pods for this app's integration tests (real HTTP and ZMQ sockets, free ports). */
import { loadConfig, SimConfig } from '@kvr/config';
import { createLogger } from '@kvr/telemetry';
import { startFleet } from '../main';
import type { SimPod } from '../pod';

export interface TestPods {
  readonly pods: readonly SimPod[];
  stop(): Promise<void>;
}

function deepMerge(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const current = out[key];
    out[key] =
      typeof value === 'object' && value !== null && !Array.isArray(value) && typeof current === 'object' && current !== null
        ? deepMerge(current as Record<string, unknown>, value as Record<string, unknown>)
        : value;
  }
  return out;
}

export async function startTestPods(overrides: Record<string, unknown> = {}): Promise<TestPods> {
  const base = { port: 0, kvEvents: { port: 0, replayPort: 0 }, timeScale: 20, logLevel: 'silent' };
  const { config } = loadConfig(SimConfig, { app: 'sim', env: {}, overrides: deepMerge(base, overrides) });
  const pods = await startFleet(config, createLogger({ app: 'sim', level: 'silent' }));
  return { pods, stop: async () => void (await Promise.all(pods.map((pod) => pod.stop()))) };
}

export async function postJson(url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

/** Streams a completion and returns the arrival times (performance.now) of each SSE data chunk and the usage. */
export async function streamCompletion(
  baseUrl: string,
  body: Record<string, unknown>,
  onFirstToken?: () => void,
): Promise<{ firstTokenMs: number; chunkTimes: number[]; usage: Record<string, unknown> | null; start: number }> {
  const start = performance.now();
  const res = await fetch(`${baseUrl}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, stream: true, stream_options: { include_usage: true } }),
  });
  if (res.status !== 200 || !res.body) throw new Error(`stream failed: ${res.status} ${await res.text()}`);
  const chunkTimes: number[] = [];
  let usage: Record<string, unknown> | null = null;
  let buffer = '';
  const decoder = new TextDecoder();
  for await (const part of res.body) {
    buffer += decoder.decode(part as Uint8Array, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (!event.startsWith('data: ') || event === 'data: [DONE]') continue;
      const chunk = JSON.parse(event.slice(6)) as { choices: unknown[]; usage?: Record<string, unknown> };
      if (chunk.usage) usage = chunk.usage;
      if (chunk.choices.length > 0) {
        chunkTimes.push(performance.now());
        if (chunkTimes.length === 1) onFirstToken?.();
      }
    }
  }
  return { firstTokenMs: (chunkTimes[0] ?? Number.NaN) - start, chunkTimes, usage, start };
}

export const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);
