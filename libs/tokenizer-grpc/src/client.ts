import * as grpc from '@grpc/grpc-js';
import type { TokenizationServiceClient } from '@kvr/contracts';
import type { ChatRenderRequest, TokenizeResult } from '@kvr/tokenization';
import { BackendError, type BackendErrorCode } from './backend';
import { messageToProto, pythonJsonText } from './convert';
import { channelOptions, grpcTarget, tokenizerProto } from './proto';
import { ERROR_CODE_METADATA } from './server';

export interface TokenizerClientOptions {
  /** `unix:///path.sock`, an absolute socket path, or `host:port`. */
  target: string;
  /** Per-call deadline. @default 5000 (the reference Go client's) */
  timeoutMs?: number;
  /** @default 100 MiB */
  maxMessageBytes?: number;
}

/**
 * Promise-based client of `tokenization.TokenizationService`: what the gateway uses, and what the
 * sidecar upstream mode forwards through. Works against our service and the reference sidecar.
 * Failures reject with BackendError (`deadline_exceeded`, `unavailable`, or the server's code).
 */
export class TokenizerClient {
  private readonly client: TokenizationServiceClient;
  private readonly timeoutMs: number;

  constructor(options: TokenizerClientOptions) {
    const Service = tokenizerProto().tokenization.TokenizationService;
    this.client = new Service(grpcTarget(options.target), grpc.credentials.createInsecure(), channelOptions(options.maxMessageBytes ?? 100 * 1024 * 1024));
    this.timeoutMs = options.timeoutMs ?? 5_000;
  }

  async initialize(model: string): Promise<void> {
    const response = await this.call<{ success: boolean; error_message: string }>((deadline, cb) =>
      this.client.InitializeTokenizer({ model_name: model, add_generation_prompt: true }, { deadline }, cb),
    );
    if (!response.success) throw new BackendError('not_found', response.error_message || `upstream could not initialize ${model}`);
  }

  async tokenize(model: string, text: string, addSpecialTokens: boolean, withOffsets: boolean): Promise<TokenizeResult> {
    const response = await this.call<{ input_ids: number[]; offset_pairs: number[] }>((deadline, cb) =>
      this.client.Tokenize({ model_name: model, input: text, add_special_tokens: addSpecialTokens }, { deadline }, cb),
    );
    const result: TokenizeResult = { ids: response.input_ids };
    if (withOffsets) {
      const offsets: [number, number][] = [];
      for (let i = 0; i + 1 < response.offset_pairs.length; i += 2) offsets.push([response.offset_pairs[i]!, response.offset_pairs[i + 1]!]);
      result.offsets = offsets;
    }
    return result;
  }

  async renderCompletion(model: string, prompt: string): Promise<number[]> {
    const response = await this.call<{ token_ids: number[] }>((deadline, cb) => this.client.RenderCompletion({ model_name: model, prompt }, { deadline }, cb));
    return response.token_ids;
  }

  async renderChat(model: string, request: ChatRenderRequest): Promise<{ tokenIds: number[] }> {
    const response = await this.call<{ token_ids: number[] }>((deadline, cb) =>
      this.client.RenderChatCompletion(
        {
          model_name: model,
          messages: request.messages.map(messageToProto),
          ...(request.tools ? { tools_json: pythonJsonText(request.tools) } : {}),
          chat_template: request.chatTemplate ?? '',
          add_generation_prompt: request.addGenerationPrompt ?? true,
          continue_final_message: request.continueFinalMessage ?? false,
          ...(request.chatTemplateKwargs ? { chat_template_kwargs: pythonJsonText(request.chatTemplateKwargs) } : {}),
        },
        { deadline },
        cb,
      ),
    );
    return { tokenIds: response.token_ids };
  }

  /** Resolves true once the channel is connected (false after `timeoutMs`); callers use it to warm up. */
  connect(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => this.client.waitForReady(Date.now() + timeoutMs, (err) => resolve(!err)));
  }

  close(): void {
    this.client.close();
  }

  private call<T>(invoke: (deadline: Date, callback: (err: grpc.ServiceError | null, value?: T) => void) => void): Promise<T> {
    return new Promise((resolve, reject) => {
      invoke(new Date(Date.now() + this.timeoutMs), (err, value) => {
        if (err) reject(fromServiceError(err));
        else if (value === undefined) reject(new BackendError('internal', 'empty response'));
        else resolve(value);
      });
    });
  }
}

function fromServiceError(err: grpc.ServiceError): BackendError {
  const declared = err.metadata?.get(ERROR_CODE_METADATA)[0];
  const known: BackendErrorCode[] = ['not_found', 'invalid_argument', 'unavailable', 'deadline_exceeded', 'internal'];
  let code: BackendErrorCode = 'internal';
  if (typeof declared === 'string' && (known as string[]).includes(declared)) code = declared as BackendErrorCode;
  else if (err.code === grpc.status.DEADLINE_EXCEEDED) code = 'deadline_exceeded';
  else if (err.code === grpc.status.UNAVAILABLE) code = 'unavailable';
  else if (err.code === grpc.status.NOT_FOUND) code = 'not_found';
  else if (err.code === grpc.status.INVALID_ARGUMENT) code = 'invalid_argument';
  return new BackendError(code, err.details || err.message, { cause: err });
}
