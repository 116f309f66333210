/**
 * The OpenAI request bodies the gateway routes: validated with class-validator for what routing
 * needs (model, prompt or messages, stream, and the fields whose type vLLM would reject anyway).
 * Every other field passes through to the pod untouched: the gateway forwards the bytes it
 * received, never a re-serialised object.
 */
// class-transformer's @Type reads decorator metadata when the classes below are declared.
import 'reflect-metadata';
import { plainToInstance, Type } from 'class-transformer';
import {
  ArrayNotEmpty,
  IsArray,
  IsBoolean,
  IsInt,
  IsNotEmpty,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Min,
  ValidateBy,
  ValidateNested,
  validateSync,
  type ValidationError,
  type ValidationOptions,
} from 'class-validator';
import { badRequest, tooLarge } from './errors';
import type { IncomingMessage } from 'node:http';

const isTokenArray = (value: unknown): boolean => Array.isArray(value) && value.length > 0 && value.every((t) => Number.isInteger(t) && (t as number) >= 0);

/** OpenAI `prompt`: a string, a list of strings, a list of token ids, or a list of token-id lists. */
function IsPrompt(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isPrompt',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' ||
          (Array.isArray(value) && value.length > 0 && (value.every((p) => typeof p === 'string') || isTokenArray(value) || value.every(isTokenArray))),
        defaultMessage: () => 'prompt must be a string, an array of strings, an array of token ids or an array of token-id arrays',
      },
    },
    options,
  );
}

/** OpenAI message `content`: a string, an array of content parts, or null. */
function IsMessageContent(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isMessageContent',
      validator: {
        validate: (value: unknown) => value === undefined || value === null || typeof value === 'string' || (Array.isArray(value) && value.every((p) => typeof p === 'object' && p !== null)),
        defaultMessage: () => 'content must be a string, an array of content parts, or null',
      },
    },
    options,
  );
}

class CommonRequestFields {
  @IsString()
  @IsNotEmpty()
  model!: string;

  @IsOptional()
  @IsBoolean()
  stream?: boolean;

  @IsOptional()
  @IsObject()
  stream_options?: Record<string, unknown>;

  @IsOptional()
  @IsInt()
  @Min(1)
  max_tokens?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  n?: number;

  @IsOptional()
  @IsNumber()
  temperature?: number;

  @IsOptional()
  @IsString()
  cache_salt?: string;
}

export class CompletionRequest extends CommonRequestFields {
  @IsPrompt()
  prompt!: string | string[] | number[] | number[][];
}

export class ChatMessage {
  @IsString()
  @IsNotEmpty()
  role!: string;

  @IsMessageContent()
  content?: string | Record<string, unknown>[] | null;
}

export class ChatCompletionRequest extends CommonRequestFields {
  @IsArray()
  @ArrayNotEmpty()
  @ValidateNested({ each: true })
  @Type(() => ChatMessage)
  messages!: ChatMessage[];

  @IsOptional()
  @IsInt()
  @Min(1)
  max_completion_tokens?: number;
}

export type RequestKind = 'completion' | 'chat';

function firstProblem(errors: ValidationError[], path = ''): { param: string; message: string } | undefined {
  for (const error of errors) {
    // Array elements are named as OpenAI does: messages[0].role.
    const param = /^\d+$/.test(error.property) ? `${path}[${error.property}]` : path ? `${path}.${error.property}` : error.property;
    const constraint = error.constraints ? Object.values(error.constraints)[0] : undefined;
    if (constraint) return { param, message: constraint.replace(error.property, param) };
    const nested = firstProblem(error.children ?? [], param);
    if (nested) return nested;
  }
  return undefined;
}

/**
 * Validates a parsed body as the endpoint's request; throws a 400 GatewayError naming the first
 * bad field (OpenAI reports one `param`).
 */
export function validateRequest(kind: RequestKind, body: Record<string, unknown>): CompletionRequest | ChatCompletionRequest {
  const instance = kind === 'chat' ? plainToInstance(ChatCompletionRequest, body) : plainToInstance(CompletionRequest, body);
  const problem = firstProblem(validateSync(instance, { forbidUnknownValues: false }));
  if (problem) throw badRequest(problem.message, problem.param);
  return instance;
}

/**
 * Reads a JSON object body up to `limit` bytes: 413 beyond it (checked on Content-Length first,
 * then while reading), 400 for anything but a JSON object.
 */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<{ raw: Buffer; body: Record<string, unknown> }> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw tooLarge(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  // Events rather than for-await: leaving a for-await early destroys the socket before the 413
  // can be written.
  await new Promise<void>((resolve, reject) => {
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      // Answer at once; the rest of the upload is drained and dropped, never kept.
      else if (size - chunk.length <= limit) reject(tooLarge(limit));
    });
    req.on('end', () => (size > limit ? reject(tooLarge(limit)) : resolve()));
    req.on('error', reject);
  });
  const raw = Buffer.concat(chunks, size);
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw badRequest(`The body is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('The body must be a JSON object.');
  return { raw, body: body as Record<string, unknown> };
}

/** The text or token ids routing works on: the first prompt of a batch (vLLM splits batches per prompt). */
export function completionPrompt(request: CompletionRequest): { text: string } | { tokenIds: number[] } {
  const prompt = request.prompt;
  if (typeof prompt === 'string') return { text: prompt };
  if (isTokenArray(prompt)) return { tokenIds: prompt as number[] };
  const first = (prompt as (string | number[])[])[0];
  return typeof first === 'string' ? { text: first } : { tokenIds: first as number[] };
}
