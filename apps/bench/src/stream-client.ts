/**
 * One streamed `/v1/completions` request as inference-perf sends it (`ignore_eos`, usage in the
 * last chunk), timed: TTFT at the first content chunk, ITL between content chunks, end to end.
 * `node:http` with a keep-alive pool rather than fetch: at hundreds of SSE chunks a second the
 * load generator must not be what saturates the machine.
 */
import { Agent, request } from 'node:http';
import type { RequestResult } from '@kvr/loadgen';

const agent = new Agent({ keepAlive: true, maxSockets: Infinity });

export interface CompletionRequest {
  readonly model: string;
  readonly prompt: string;
  readonly maxTokens: number;
}

export function streamCompletion(baseUrl: string, completion: CompletionRequest, timeoutMs = 600_000): Promise<RequestResult> {
  const body = JSON.stringify({
    model: completion.model,
    prompt: completion.prompt,
    max_tokens: completion.maxTokens,
    ignore_eos: true,
    stream: true,
    stream_options: { include_usage: true },
  });
  const url = new URL('/v1/completions', baseUrl);
  const started = performance.now();
  return new Promise((resolve) => {
    let first = Number.NaN;
    let last = Number.NaN;
    let chunks = 0;
    let usage: { prompt_tokens?: number; completion_tokens?: number; prompt_tokens_details?: { cached_tokens?: number } | null } | undefined;
    let buffer = '';
    const fail = (error: string): void => resolve({ ok: false, ttftMs: first - started, itlMs: Number.NaN, e2eMs: performance.now() - started, outputTokens: chunks, promptTokens: 0, cachedTokens: 0, error });
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), accept: 'text/event-stream' }, timeout: timeoutMs }, (res) => {
      if (res.statusCode !== 200) {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => fail(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`));
        return;
      }
      res.setEncoding('utf8');
      res.on('data', (data: string) => {
        buffer += data;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (!event.startsWith('data: ') || event === 'data: [DONE]') continue;
          const chunk = JSON.parse(event.slice(6)) as { choices?: { text?: string }[]; usage?: typeof usage };
          if (chunk.usage) usage = chunk.usage;
          if (chunk.choices?.[0]?.text) {
            const now = performance.now();
            if (chunks === 0) first = now;
            last = now;
            chunks++;
          }
        }
      });
      res.on('end', () => {
        const outputTokens = usage?.completion_tokens ?? chunks;
        resolve({
          ok: chunks > 0,
          ttftMs: first - started,
          itlMs: chunks > 1 ? (last - first) / (chunks - 1) : Number.NaN,
          e2eMs: performance.now() - started,
          outputTokens,
          promptTokens: usage?.prompt_tokens ?? 0,
          cachedTokens: usage?.prompt_tokens_details?.cached_tokens ?? 0,
          ...(chunks > 0 ? {} : { error: 'no content' }),
        });
      });
      res.on('error', (err) => fail(err.message));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => fail(err.message));
    req.end(body);
  });
}
