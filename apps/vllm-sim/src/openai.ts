/**
 * The slice of vLLM's OpenAI-compatible API the simulator serves: request validation with
 * OpenAI-style errors, and response / SSE chunk shapes as vLLM writes them
 * (vllm/entrypoints/openai/protocol.py and serving_{completion,chat}.py, v0.10–v0.2x).
 */
import { chatRenderRequestFromOpenAI, parsePythonJson, TokenizationError, type ChatRenderRequest } from '@kvr/tokenization';

/** vLLM's error body: `{"error": {"message", "type", "param", "code"}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string = status === 404 ? 'NotFoundError' : status >= 500 ? 'InternalServerError' : 'BadRequestError',
    readonly param: string | null = null,
    /** Short reason for the rejection counter. */
    readonly reason = 'invalid_request',
  ) {
    super(message);
  }

  body(): { error: { message: string; type: string; param: string | null; code: number } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.status } };
  }
}

const bad = (message: string, param: string | null = null, reason = 'invalid_request'): ApiError => new ApiError(400, message, 'BadRequestError', param, reason);

export type CompletionPrompt = { readonly text: string } | { readonly tokenIds: readonly number[] };

interface CommonRequest {
  readonly model: string;
  readonly stream: boolean;
  readonly includeUsage: boolean;
  /** null: not given (chat default applies). */
  readonly maxTokens: number | null;
  readonly cacheSalt: string | null;
}

export interface CompletionRequest extends CommonRequest {
  readonly kind: 'completion';
  readonly prompt: CompletionPrompt;
  readonly addSpecialTokens: boolean;
  readonly echo: boolean;
}

export interface ChatRequest extends CommonRequest {
  readonly kind: 'chat';
  readonly render: ChatRenderRequest;
}

export type GenerationRequest = CompletionRequest | ChatRequest;

/** vLLM's completions default (`max_tokens: int = 16`). */
export const COMPLETION_DEFAULT_MAX_TOKENS = 16;

function parseBody(raw: string, python: boolean): Record<string, unknown> {
  let body: unknown;
  try {
    body = python ? parsePythonJson(raw) : JSON.parse(raw);
  } catch (err) {
    throw bad(`Invalid JSON body: ${err instanceof Error ? err.message : String(err)}`, null, 'invalid_json');
  }
  if (body instanceof Map) body = Object.fromEntries(body);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('The request body must be a JSON object', null, 'invalid_json');
  return body as Record<string, unknown>;
}

function isTokenIds(value: unknown): value is number[] {
  return Array.isArray(value) && value.length > 0 && value.every((t) => Number.isInteger(t) && (t as number) >= 0 && (t as number) < 2 ** 32);
}

function common(body: Record<string, unknown>, servedModels: readonly string[]): CommonRequest {
  const model = body['model'] ?? servedModels[0];
  if (typeof model !== 'string') throw bad('model must be a string', 'model');
  if (!servedModels.includes(model)) throw new ApiError(404, `The model \`${model}\` does not exist.`, 'NotFoundError', 'model', 'model_not_found');
  const stream = body['stream'] ?? false;
  if (typeof stream !== 'boolean') throw bad('stream must be a boolean', 'stream');
  const options = body['stream_options'];
  let includeUsage = false;
  if (options !== undefined && options !== null) {
    if (!stream) throw bad('Stream options can only be defined when `stream=True`.', 'stream_options');
    if (typeof options !== 'object' || Array.isArray(options)) throw bad('stream_options must be an object', 'stream_options');
    const value = (options as Record<string, unknown>)['include_usage'];
    if (value !== undefined && value !== null && typeof value !== 'boolean') throw bad('stream_options.include_usage must be a boolean', 'stream_options');
    includeUsage = value === true;
  }
  const n = body['n'] ?? 1;
  if (n !== 1) throw bad('n must be 1: the simulator returns one choice per request', 'n');
  const salt = body['cache_salt'];
  if (salt !== undefined && salt !== null && (typeof salt !== 'string' || salt === '')) throw bad('Parameter cache_salt must be a non-empty string if provided.', 'cache_salt');
  const ignoreEos = body['ignore_eos'];
  if (ignoreEos !== undefined && typeof ignoreEos !== 'boolean') throw bad('ignore_eos must be a boolean', 'ignore_eos');
  return { model, stream, includeUsage, maxTokens: null, cacheSalt: typeof salt === 'string' ? salt : null };
}

function maxTokensOf(body: Record<string, unknown>, names: readonly string[]): number | null {
  for (const name of names) {
    const value = body[name];
    if (value === undefined || value === null) continue;
    if (!Number.isSafeInteger(value) || (value as number) < 1) throw bad(`${name} must be at least 1, got ${JSON.stringify(value)}.`, name);
    return value as number;
  }
  return null;
}

export function parseCompletionRequest(raw: string, servedModels: readonly string[]): CompletionRequest {
  const body = parseBody(raw, false);
  const base = common(body, servedModels);
  let prompt = body['prompt'];
  if (Array.isArray(prompt) && prompt.length === 1 && (typeof prompt[0] === 'string' || Array.isArray(prompt[0]))) prompt = prompt[0];
  let parsed: CompletionPrompt;
  if (typeof prompt === 'string') {
    if (prompt === '') throw bad('The prompt cannot be empty.', 'prompt');
    parsed = { text: prompt };
  } else if (isTokenIds(prompt)) {
    parsed = { tokenIds: prompt };
  } else if (Array.isArray(prompt) && prompt.length > 1) {
    throw bad('Batched prompts are not supported by the simulator: send one prompt per request', 'prompt');
  } else {
    throw bad('prompt must be a non-empty string or a list of token ids', 'prompt');
  }
  const addSpecialTokens = body['add_special_tokens'] ?? true;
  if (typeof addSpecialTokens !== 'boolean') throw bad('add_special_tokens must be a boolean', 'add_special_tokens');
  return {
    ...base,
    kind: 'completion',
    maxTokens: maxTokensOf(body, ['max_tokens']) ?? COMPLETION_DEFAULT_MAX_TOKENS,
    prompt: parsed,
    addSpecialTokens,
    echo: body['echo'] === true,
  };
}

export function parseChatRequest(raw: string, servedModels: readonly string[]): ChatRequest {
  // Parsed as Python's json.loads would: templates may print numbers from tools or kwargs.
  const body = parseBody(raw, true);
  const base = common(body, servedModels);
  let render: ChatRenderRequest;
  try {
    render = chatRenderRequestFromOpenAI(body);
  } catch (err) {
    if (err instanceof TokenizationError) throw bad(err.message, null);
    throw err;
  }
  return { ...base, kind: 'chat', maxTokens: maxTokensOf(body, ['max_completion_tokens', 'max_tokens']), render };
}

export interface Usage {
  prompt_tokens: number;
  total_tokens: number;
  completion_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
}

export function usageOf(promptTokens: number, completionTokens: number, cachedTokens: number): Usage {
  return { prompt_tokens: promptTokens, total_tokens: promptTokens + completionTokens, completion_tokens: completionTokens, prompt_tokens_details: { cached_tokens: cachedTokens } };
}

export interface ResponseIds {
  readonly id: string;
  readonly created: number;
  readonly model: string;
}

export function completionChunk(ids: ResponseIds, text: string, finishReason: string | null): unknown {
  return { id: ids.id, object: 'text_completion', created: ids.created, model: ids.model, choices: [{ index: 0, text, logprobs: null, finish_reason: finishReason, stop_reason: null }] };
}

export function chatChunk(ids: ResponseIds, delta: Record<string, unknown>, finishReason: string | null): unknown {
  return { id: ids.id, object: 'chat.completion.chunk', created: ids.created, model: ids.model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason, stop_reason: null }] };
}

export function usageChunk(ids: ResponseIds, kind: 'completion' | 'chat', usage: Usage): unknown {
  return { id: ids.id, object: kind === 'chat' ? 'chat.completion.chunk' : 'text_completion', created: ids.created, model: ids.model, choices: [], usage };
}

export function completionResponse(ids: ResponseIds, text: string, usage: Usage): unknown {
  return {
    id: ids.id,
    object: 'text_completion',
    created: ids.created,
    model: ids.model,
    choices: [{ index: 0, text, logprobs: null, finish_reason: 'length', stop_reason: null, prompt_logprobs: null }],
    usage,
  };
}

export function chatResponse(ids: ResponseIds, text: string, usage: Usage): unknown {
  return {
    id: ids.id,
    object: 'chat.completion',
    created: ids.created,
    model: ids.model,
    choices: [{ index: 0, message: { role: 'assistant', content: text, reasoning_content: null, tool_calls: [] }, logprobs: null, finish_reason: 'length', stop_reason: null }],
    usage,
  };
}

export function modelList(models: readonly string[], root: string, maxModelLen: number, created: number): unknown {
  return {
    object: 'list',
    // As vLLM lists them: a LoRA adapter's parent is the base model (its root is the adapter's path).
    data: models.map((id) => ({ id, object: 'model', created, owned_by: 'vllm', root: id === root ? root : id, parent: id === root ? null : root, max_model_len: maxModelLen, permission: [] })),
  };
}
