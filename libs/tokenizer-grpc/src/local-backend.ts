import { TokenizationError, type ChatRenderRequest, type TokenizerRegistry } from '@kvr/tokenization';
import { BackendError, type BackendErrorCode, type TokenizerBackend } from './backend';

/** Tokenizes in process with the @kvr/tokenization registry (its own prefix caches apply). */
export function localBackend(registry: TokenizerRegistry): TokenizerBackend {
  const withModel = async <T>(model: string, fn: (tokenizer: Awaited<ReturnType<TokenizerRegistry['get']>>) => T): Promise<T> => {
    try {
      return fn(await registry.get(model));
    } catch (err) {
      throw toBackendError(err);
    }
  };
  return {
    description: 'local',
    initialize: async (model) => withModel(model, () => undefined),
    tokenize: (model, text, addSpecialTokens, withOffsets) => withModel(model, (t) => t.tokenize(text, { addSpecialTokens, withOffsets })),
    renderCompletion: (model, prompt) => withModel(model, (t) => t.renderCompletion(prompt)),
    renderChat: (model, request: ChatRenderRequest) => withModel(model, (t) => t.renderChat(request)),
    close: async () => undefined,
  };
}

const CODES: Record<TokenizationError['code'], BackendErrorCode> = {
  model_not_found: 'not_found',
  invalid_model_files: 'internal',
  download_failed: 'unavailable',
  template_error: 'invalid_argument',
  invalid_request: 'invalid_argument',
};

function toBackendError(err: unknown): BackendError {
  if (err instanceof BackendError) return err;
  if (err instanceof TokenizationError) return new BackendError(CODES[err.code], err.message, { cause: err });
  return new BackendError('internal', err instanceof Error ? err.message : String(err), { cause: err });
}
