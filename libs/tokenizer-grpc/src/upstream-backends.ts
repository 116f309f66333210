import type { ChatRenderRequest, TokenizeResult } from '@kvr/tokenization';
import { BackendError, type TokenizerBackend } from './backend';
import { TokenizerClient } from './client';

/** Forwards every call to a reference tokenizer sidecar (or another of ours) over gRPC. */
export function sidecarBackend(target: string, timeoutMs: number, maxMessageBytes: number): TokenizerBackend {
  const client = new TokenizerClient({ target, timeoutMs, maxMessageBytes });
  return {
    description: `sidecar ${target}`,
    initialize: (model) => client.initialize(model),
    tokenize: (model, text, addSpecialTokens, withOffsets) => client.tokenize(model, text, addSpecialTokens, withOffsets),
    renderCompletion: (model, prompt) => client.renderCompletion(model, prompt),
    renderChat: (model, request) => client.renderChat(model, request),
    close: async () => client.close(),
  };
}

/**
 * Calls a vLLM server's render endpoints (served by `vllm serve`, or GPU-less by `vllm launch
 * render`), as llm-d-router's token producer does (pkg/.../tokenizer/vllm_http.go @ ebab6879):
 *   POST /v1/completions/render       {model, prompt}        → [{"token_ids": [...]}, ...]
 *   POST /v1/chat/completions/render  {model, messages, ...} → {"token_ids": [...], "features": ...}
 * vLLM has no plain tokenize-with-offsets here, so Tokenize uses its `/tokenize` endpoint.
 */
export function vllmRenderBackend(baseUrl: string, timeoutMs: number): TokenizerBackend {
  const post = async (path: string, body: unknown): Promise<unknown> => {
    let response: Response;
    try {
      response = await fetch(new URL(path, baseUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      throw new BackendError(timedOut ? 'deadline_exceeded' : 'unavailable', `vLLM render endpoint ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const text = await response.text();
    if (!response.ok) {
      const code = response.status === 404 ? 'not_found' : response.status === 400 ? 'invalid_argument' : 'internal';
      throw new BackendError(code, `vLLM ${path} answered ${response.status}: ${text.slice(0, 500)}`);
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new BackendError('internal', `vLLM ${path} answered with invalid JSON`);
    }
  };
  const tokenIdsOf = (value: unknown, path: string): number[] => {
    const ids = (value as { token_ids?: unknown } | undefined)?.token_ids;
    if (!Array.isArray(ids) || !ids.every((id) => Number.isInteger(id))) throw new BackendError('internal', `vLLM ${path} answered without token_ids`);
    return ids as number[];
  };
  return {
    description: `vllm ${baseUrl}`,
    initialize: async (model) => {
      await post('/v1/completions/render', { model, prompt: '' });
    },
    tokenize: async (model, text, addSpecialTokens, withOffsets): Promise<TokenizeResult> => {
      const body = (await post('/tokenize', { model, prompt: text, add_special_tokens: addSpecialTokens, return_token_strs: false })) as { tokens?: unknown };
      if (!Array.isArray(body.tokens)) throw new BackendError('internal', 'vLLM /tokenize answered without tokens');
      if (withOffsets) return { ids: body.tokens as number[], offsets: [] };
      return { ids: body.tokens as number[] };
    },
    renderCompletion: async (model, prompt) => {
      const path = '/v1/completions/render';
      const body = await post(path, { model, prompt });
      const first: unknown = Array.isArray(body) ? body[0] : body;
      return tokenIdsOf(first, path);
    },
    renderChat: async (model, request: ChatRenderRequest) => {
      const path = '/v1/chat/completions/render';
      const body = await post(path, {
        model,
        messages: request.messages,
        ...(request.tools ? { tools: request.tools } : {}),
        ...(request.chatTemplate ? { chat_template: request.chatTemplate } : {}),
        add_generation_prompt: request.addGenerationPrompt ?? true,
        continue_final_message: request.continueFinalMessage ?? false,
        ...(request.chatTemplateKwargs ? { chat_template_kwargs: request.chatTemplateKwargs } : {}),
      });
      return { tokenIds: tokenIdsOf(body, path) };
    },
    close: async () => undefined,
  };
}
