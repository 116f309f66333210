/**
 * `kvctl explain`: asks the gateway how it would route a request (`POST /debug/route`, no
 * forwarding, no side effects) and prints the decision: per-pod scores by scorer, the chosen pod,
 * predicted cached blocks and any fallback.
 */
import { formatExplanation, type RouteExplanation } from '@kvr/scoring';
import { EXIT_FAILURE, UsageError, type CommandSpec, type ParsedCommand } from '@kvr/runtime';
import { ADDRESS_OPTIONS, resolveAddresses } from '../addresses';
import type { CommandIo } from '../io';

const DEFAULT_TIMEOUT_MS = 10_000;

export const explainSpec: CommandSpec = {
  name: 'kvctl explain',
  summary: 'Asks the gateway how it would route a request (POST /debug/route): scores per pod and scorer, chosen pod, fallbacks.',
  options: {
    config: ADDRESS_OPTIONS['config']!,
    gateway: { type: 'string', description: 'Gateway URL (KVR_GATEWAY, default http://127.0.0.1:8080)', placeholder: 'URL' },
    model: { type: 'string', description: 'Model (or LoRA adapter) the request is for', placeholder: 'NAME' },
    prompt: { type: 'string', description: 'A completion prompt (as for /v1/completions)', placeholder: 'TEXT' },
    messages: { type: 'string', description: 'Chat messages as a JSON array (as for /v1/chat/completions)', placeholder: 'JSON' },
    token: { type: 'string', description: "Bearer token for the gateway's debug endpoint (default: adminToken, KVR_ADMIN_TOKEN)", placeholder: 'TOKEN' },
    timeout: { type: 'string', description: `Milliseconds to wait for the answer (default ${DEFAULT_TIMEOUT_MS})`, placeholder: 'MS' },
    json: { type: 'boolean', description: 'Print the explanation as the gateway sent it (pretty-printed JSON) instead of a table' },
  },
  details: [
    'Give exactly one of --prompt or --messages. The chosen pod is marked with "*".',
    'Exit code 0 with a decision, 1 when the gateway cannot be reached or answers with an error, 2 for bad arguments or config.',
    "Example: kvctl explain --model Qwen/Qwen3-32B --messages '[{\"role\":\"user\",\"content\":\"hi\"}]'",
  ].join('\n'),
};

/** The request body for /debug/route from --model and exactly one of --prompt / --messages. */
export function explainBody(parsed: ParsedCommand): { model: string; prompt: string } | { model: string; messages: unknown[] } {
  const model = parsed.values['model'];
  if (typeof model !== 'string' || model === '') throw new UsageError('--model is required');
  const prompt = parsed.values['prompt'];
  const messagesText = parsed.values['messages'];
  if (typeof prompt === 'string' && typeof messagesText === 'string') throw new UsageError('give exactly one of --prompt or --messages, not both');
  if (typeof prompt === 'string') return { model, prompt };
  if (typeof messagesText !== 'string') throw new UsageError('give exactly one of --prompt or --messages');
  let messages: unknown;
  try {
    messages = JSON.parse(messagesText) as unknown;
  } catch (err) {
    throw new UsageError(`--messages is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!Array.isArray(messages)) throw new UsageError(`--messages must be a JSON array of {role, content} objects, not ${messages === null ? 'null' : typeof messages}`);
  const notObjects = messages.flatMap((m, i) => (typeof m === 'object' && m !== null && !Array.isArray(m) ? [] : [i]));
  if (notObjects.length > 0) throw new UsageError(`--messages must be a JSON array of {role, content} objects; item(s) ${notObjects.join(', ')} are not objects`);
  return { model, messages };
}

/** The message of an OpenAI-style error body `{"error": {"message", ...}}`, if the text is one. */
function errorMessageOf(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as unknown;
    if (typeof body !== 'object' || body === null) return undefined;
    const error = (body as { error?: unknown }).error;
    if (typeof error !== 'object' || error === null) return undefined;
    const message = (error as { message?: unknown }).message;
    return typeof message === 'string' && message !== '' ? message : undefined;
  } catch {
    return undefined;
  }
}

function isExplanation(value: unknown): value is RouteExplanation {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<Record<keyof RouteExplanation, unknown>>;
  return Array.isArray(v.pods) && Array.isArray(v.scorers) && Array.isArray(v.fallbacks) && typeof v.requestBlocks === 'number';
}

/**
 * Why a fetch to the gateway failed, in words: refused, timed out, unresolvable host, ...
 * Duck-typed, not `instanceof Error`: undici's errors may come from another realm (jest's vm).
 */
function fetchFailure(err: unknown, url: string, timeoutMs: number): Error {
  const e = (typeof err === 'object' && err !== null ? err : {}) as { name?: unknown; message?: unknown; cause?: unknown };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return new Error(`no answer from the gateway at ${url} within ${timeoutMs} ms`);
  // fetch rejects with a bare "fetch failed"; the socket error (ECONNREFUSED, ENOTFOUND) is its cause.
  const cause = (typeof e.cause === 'object' && e.cause !== null ? e.cause : {}) as { message?: unknown; code?: unknown };
  const reason =
    typeof cause.message === 'string' && cause.message !== ''
      ? cause.message
      : typeof cause.code === 'string'
        ? cause.code
        : typeof e.message === 'string' && e.message !== ''
          ? e.message
          : String(err);
  return new Error(`cannot reach the gateway at ${url}: ${reason}`);
}

export async function runExplain(parsed: ParsedCommand, io: CommandIo): Promise<number> {
  const body = explainBody(parsed);
  const timeoutText = parsed.values['timeout'];
  const timeoutMs = typeof timeoutText === 'string' ? Number(timeoutText) : DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new UsageError('--timeout must be a positive number of milliseconds');
  const config = resolveAddresses(parsed.values, io);
  const tokenFlag = parsed.values['token'];
  const token = typeof tokenFlag === 'string' && tokenFlag !== '' ? tokenFlag : config.adminToken;
  // Appended, not resolved: a gateway behind a path prefix keeps its prefix.
  const url = `${config.gateway.replace(/\/+$/, '')}/debug/route`;
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (token) headers['authorization'] = `Bearer ${token}`;

  let status: number;
  let text: string;
  try {
    const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
    status = response.status;
    text = await response.text();
  } catch (err) {
    throw fetchFailure(err, url, timeoutMs);
  }

  if (status < 200 || status > 299) {
    io.stderr.write(`error: ${errorMessageOf(text) ?? `the gateway answered ${status}: ${text.slice(0, 200) || '(empty body)'}`}\n`);
    return EXIT_FAILURE;
  }
  let explanation: unknown;
  try {
    explanation = JSON.parse(text) as unknown;
  } catch {
    explanation = undefined;
  }
  if (!isExplanation(explanation)) {
    io.stderr.write(`error: ${url} answered ${status} with something that is not a route explanation: ${text.slice(0, 200) || '(empty body)'}\n`);
    return EXIT_FAILURE;
  }
  io.stdout.write(parsed.values['json'] === true ? `${JSON.stringify(explanation, null, 2)}\n` : `${formatExplanation(explanation)}\n`);
  return 0;
}
