import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type {
  ChatTemplateRequestOutput,
  ChatTemplateResponse,
  InitializeTokenizerRequestOutput,
  InitializeTokenizerResponse,
  RenderChatCompletionRequestOutput,
  RenderChatCompletionResponse,
  RenderCompletionRequestOutput,
  RenderCompletionResponse,
  TokenizeRequestOutput,
  TokenizeResponse,
  TokenizationServiceHandlers,
} from '@kvr/contracts';
import { semconv, type Logger } from '@kvr/telemetry';
import { Counter, Histogram, type Registry } from 'prom-client';
import { BackendError, type TokenizerBackend } from './backend';
import { chatRequestFromProto, chatRequestFromTemplateRequest } from './convert';
import { channelOptions, tokenizerProto } from './proto';

export interface TokenizerServerOptions {
  backend: TokenizerBackend;
  /** Unix socket path; empty or undefined: no socket listener. */
  socketPath?: string;
  /** `host:port` for an extra TCP listener (port 0 picks one); empty or undefined: none. */
  tcp?: string;
  maxMessageBytes: number;
  logger: Logger;
  registry: Registry;
}

export interface TokenizerServer {
  /** `unix:///path` when listening on a socket. */
  readonly socketUrl: string | undefined;
  /** `host:port` with the actual port when listening on TCP. */
  readonly tcpAddress: string | undefined;
  /** Stops taking calls, waits for calls in flight (up to `graceMs`), removes the socket file. */
  stop(graceMs?: number): Promise<void>;
}

/** Metadata key carrying our error code on failed calls (the status itself is INTERNAL, as upstream). */
export const ERROR_CODE_METADATA = 'kvr-error-code';

/**
 * Serves `tokenization.TokenizationService` (llm-d-kv-cache api/tokenizerpb/tokenizer.proto @
 * 7be76e1) over a unix socket and/or TCP. Like the reference server, a failed call is aborted with
 * status INTERNAL and a message saying what went wrong, except InitializeTokenizer, which answers
 * success=false; our reason code rides along in the `kvr-error-code` trailer.
 */
export async function startTokenizerServer(options: TokenizerServerOptions): Promise<TokenizerServer> {
  const { backend, logger } = options;
  const requests = new Counter({ name: semconv.METRIC_TOKENIZER_REQUESTS_TOTAL, help: 'Tokenizer service calls by method and outcome.', labelNames: ['method', 'outcome'], registers: [options.registry] });
  const latency = new Histogram({
    name: semconv.METRIC_TOKENIZER_REQUEST_SECONDS,
    help: 'Tokenizer service call latency (server side).',
    labelNames: ['method'],
    buckets: [0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
    registers: [options.registry],
  });
  const tokens = new Counter({ name: semconv.METRIC_TOKENIZER_TOKENS_TOTAL, help: 'Token ids returned by method.', labelNames: ['method'], registers: [options.registry] });

  /** Runs one unary call: metrics, logging, error mapping. */
  function unary<Req, Res>(method: string, work: (request: Req) => Promise<{ response: Res; tokenCount: number }>): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      const stopTimer = latency.startTimer({ method });
      work(call.request)
        .then(({ response, tokenCount }) => {
          requests.inc({ method, outcome: 'ok' });
          tokens.inc({ method }, tokenCount);
          callback(null, response);
        })
        .catch((err: unknown) => {
          requests.inc({ method, outcome: 'error' });
          const code = err instanceof BackendError ? err.code : 'internal';
          const message = err instanceof Error ? err.message : String(err);
          logger.warn({ method, code, err: message }, 'tokenizer call failed');
          const metadata = new grpc.Metadata();
          metadata.set(ERROR_CODE_METADATA, code);
          callback({ code: grpc.status.INTERNAL, details: message, metadata });
        })
        .finally(() => stopTimer());
    };
  }

  const handlers: TokenizationServiceHandlers = {
    Tokenize: unary<TokenizeRequestOutput, TokenizeResponse>('Tokenize', async (request) => {
      const result = await backend.tokenize(request.model_name, request.input, request.add_special_tokens, true);
      return {
        response: { input_ids: result.ids, success: true, error_message: '', offset_pairs: (result.offsets ?? []).flat() },
        tokenCount: result.ids.length,
      };
    }),
    InitializeTokenizer: (call: grpc.ServerUnaryCall<InitializeTokenizerRequestOutput, InitializeTokenizerResponse>, callback: grpc.sendUnaryData<InitializeTokenizerResponse>) => {
      const stopTimer = latency.startTimer({ method: 'InitializeTokenizer' });
      backend
        .initialize(call.request.model_name)
        .then(() => {
          requests.inc({ method: 'InitializeTokenizer', outcome: 'ok' });
          callback(null, { success: true, error_message: '' });
        })
        .catch((err: unknown) => {
          requests.inc({ method: 'InitializeTokenizer', outcome: 'error' });
          const message = err instanceof Error ? err.message : String(err);
          logger.warn({ model: call.request.model_name, err: message }, 'tokenizer initialization failed');
          callback(null, { success: false, error_message: message });
        })
        .finally(() => stopTimer());
    },
    RenderCompletion: unary<RenderCompletionRequestOutput, RenderCompletionResponse>('RenderCompletion', async (request) => {
      const ids = await backend.renderCompletion(request.model_name, request.prompt);
      return { response: { request_id: `cmpl-${randomUUID()}`, token_ids: ids, success: true, error_message: '' }, tokenCount: ids.length };
    }),
    RenderChatCompletion: unary<RenderChatCompletionRequestOutput, RenderChatCompletionResponse>('RenderChatCompletion', async (request) => {
      const { tokenIds } = await backend.renderChat(request.model_name, chatRequestFromProto(request));
      return {
        response: {
          request_id: `chatcmpl-${randomUUID()}`,
          token_ids: tokenIds,
          features: { mm_hashes: {}, mm_placeholders: {} },
          success: true,
          error_message: '',
        },
        tokenCount: tokenIds.length,
      };
    }),
    RenderChatTemplate: unary<ChatTemplateRequestOutput, ChatTemplateResponse>('RenderChatTemplate', async (request) => {
      const rendered = await backend.renderChat(request.model_name, chatRequestFromTemplateRequest(request));
      if (rendered.prompt === undefined) throw new BackendError('internal', `RenderChatTemplate needs the prompt text, which the ${backend.description} backend does not return`);
      return { response: { rendered_prompt: rendered.prompt, success: true, error_message: '' }, tokenCount: 0 };
    }),
  };

  const server = new grpc.Server(channelOptions(options.maxMessageBytes));
  server.addService(tokenizerProto().tokenization.TokenizationService.service, handlers);

  let socketUrl: string | undefined;
  if (options.socketPath) {
    await prepareSocketPath(options.socketPath);
    socketUrl = `unix://${options.socketPath}`;
    await bind(server, socketUrl);
  }
  let tcpAddress: string | undefined;
  if (options.tcp) {
    const port = await bind(server, options.tcp);
    const host = options.tcp.slice(0, options.tcp.lastIndexOf(':'));
    tcpAddress = `${host}:${port}`;
  }
  logger.info({ socket: socketUrl, tcp: tcpAddress, backend: backend.description }, 'tokenizer service listening');

  return {
    socketUrl,
    tcpAddress,
    async stop(graceMs = 5_000) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (options.socketPath && existsSync(options.socketPath)) unlinkSync(options.socketPath);
      await backend.close();
    },
  };
}

function bind(server: grpc.Server, address: string): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(new Error(`cannot listen on ${address}: ${err.message}`)) : resolve(port))),
  );
}

/**
 * Creates the socket's directory, and removes a socket file left by a process that died (nothing
 * accepts on it). A live socket is left alone: binding then fails with a clear error instead of
 * stealing another server's address.
 */
async function prepareSocketPath(path: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  if (!existsSync(path)) return;
  const alive = await new Promise<boolean>((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
  if (alive) throw new Error(`another process is serving on ${path}`);
  unlinkSync(path);
}
