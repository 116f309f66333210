/**
 * OpenAI `/v1/chat/completions` request body → {@link ChatRenderRequest}, with vLLM's field names
 * (vllm/entrypoints/openai/protocol.py `ChatCompletionRequest`, v0.10–v0.2x): `messages`, `tools`,
 * `chat_template`, `add_generation_prompt`, `continue_final_message`, `chat_template_kwargs`,
 * `tool_choice`, `reasoning_effort`, `documents`, `add_special_tokens`. Shared by every HTTP
 * front that renders chat prompts (the simulated pod, the gateway), so that they agree with each
 * other and with the tokenizer service.
 *
 * Pass the body parsed with {@link parsePythonJson} when templates may print numbers from it
 * (tool schemas, kwargs): `1.0` must stay a float for the ids to match vLLM's.
 */
import { TokenizationError, type ChatMessage, type ChatRenderRequest } from './api';

function fail(message: string): never {
  throw new TokenizationError('invalid_request', message);
}

function field(body: Record<string, unknown> | Map<string, unknown>, name: string): unknown {
  return body instanceof Map ? body.get(name) : body[name];
}

function optionalBoolean(body: Record<string, unknown> | Map<string, unknown>, name: string): boolean | undefined {
  const value = field(body, name);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') fail(`${name} must be a boolean`);
  return value;
}

function plainObject(value: unknown): Record<string, unknown> | undefined {
  if (value instanceof Map) return Object.fromEntries(value) as Record<string, unknown>;
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  return undefined;
}

/** Throws `TokenizationError('invalid_request')` naming the offending field. */
export function chatRenderRequestFromOpenAI(body: Record<string, unknown> | Map<string, unknown>): ChatRenderRequest {
  const messages = field(body, 'messages');
  if (!Array.isArray(messages) || messages.length === 0) fail('messages must be a non-empty array');
  const converted = messages.map((message: unknown, index): ChatMessage => {
    const object = plainObject(message);
    if (!object || typeof object['role'] !== 'string') fail(`messages[${index}] must be an object with a string role`);
    const content = object['content'];
    if (content !== undefined && content !== null && typeof content !== 'string' && !Array.isArray(content)) {
      fail(`messages[${index}].content must be a string, an array of content parts, or null`);
    }
    return object as ChatMessage;
  });
  const request: ChatRenderRequest = { messages: converted };
  const tools = field(body, 'tools');
  if (tools !== undefined && tools !== null) {
    if (!Array.isArray(tools)) fail('tools must be an array');
    request.tools = tools;
  }
  const template = field(body, 'chat_template');
  if (template !== undefined && template !== null) {
    if (typeof template !== 'string') fail('chat_template must be a string');
    request.chatTemplate = template;
  }
  const addGenerationPrompt = optionalBoolean(body, 'add_generation_prompt');
  if (addGenerationPrompt !== undefined) request.addGenerationPrompt = addGenerationPrompt;
  const continueFinal = optionalBoolean(body, 'continue_final_message');
  if (continueFinal !== undefined) request.continueFinalMessage = continueFinal;
  const kwargs = field(body, 'chat_template_kwargs');
  if (kwargs !== undefined && kwargs !== null) {
    const object = plainObject(kwargs);
    if (!object) fail('chat_template_kwargs must be an object');
    request.chatTemplateKwargs = object;
  }
  const toolChoice = field(body, 'tool_choice');
  if (toolChoice !== undefined) request.toolChoice = toolChoice;
  const effort = field(body, 'reasoning_effort');
  if (effort !== undefined && effort !== null) {
    if (typeof effort !== 'string') fail('reasoning_effort must be a string');
    request.reasoningEffort = effort;
  }
  const documents = field(body, 'documents');
  if (documents !== undefined && documents !== null) {
    if (!Array.isArray(documents)) fail('documents must be an array');
    request.documents = documents;
  }
  const addSpecialTokens = optionalBoolean(body, 'add_special_tokens');
  if (addSpecialTokens !== undefined) request.addSpecialTokens = addSpecialTokens;
  return request;
}
