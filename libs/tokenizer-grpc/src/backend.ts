import type { ChatRenderRequest, TokenizeResult } from '@kvr/tokenization';

/**
 * What the tokenizer service does, independent of where the work happens: in process (the
 * @kvr/tokenization registry), or at an upstream (a reference sidecar over gRPC, or vLLM's render
 * endpoints over HTTP). The gRPC server maps the proto onto this; the gateway's client speaks the
 * proto, so it cannot tell the backends apart.
 *
 * Errors: a `BackendError` carries a gRPC-like code so that the server answers as the reference
 * server does (failures abort the call with a status; `initialize` reports success=false).
 */
export interface TokenizerBackend {
  /** Human-readable description for logs and /healthz, e.g. `local` or `sidecar unix:///…`. */
  readonly description: string;
  /** Loads the model (or checks the upstream knows it). Rejects with BackendError. */
  initialize(model: string): Promise<void>;
  tokenize(model: string, text: string, addSpecialTokens: boolean, withOffsets: boolean): Promise<TokenizeResult>;
  renderCompletion(model: string, prompt: string): Promise<number[]>;
  renderChat(model: string, request: ChatRenderRequest): Promise<{ tokenIds: number[]; prompt?: string }>;
  /** Releases connections. */
  close(): Promise<void>;
}

export type BackendErrorCode = 'not_found' | 'invalid_argument' | 'unavailable' | 'deadline_exceeded' | 'internal';

export class BackendError extends Error {
  override readonly name = 'BackendError';
  constructor(
    readonly code: BackendErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
