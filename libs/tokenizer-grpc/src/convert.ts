import type {
  ChatTemplateRequestOutput,
  ProtoChatMessage,
  ProtoChatMessageOutput,
  ProtoValueOutput,
  RenderChatCompletionRequestOutput,
} from '@kvr/contracts';
import { parsePythonJson, PyFloat, type ChatContentPart, type ChatMessage, type ChatRenderRequest } from '@kvr/tokenization';
import { BackendError } from './backend';

/**
 * Proto ↔ library conversions, following the reference server
 * (llm-d-kv-cache services/uds_tokenizer/tokenizer_grpc_service.py @ 7be76e1):
 *  - `content_parts` become the OpenAI `content` array (`type`, `text`, `image_url: {url}`);
 *  - `tool_calls_json` is parsed into `tool_calls`; `tools_json` and `chat_template_kwargs` are JSON;
 *  - an unset `add_generation_prompt` means true.
 * Bad JSON is an INVALID_ARGUMENT, never a crash. JSON is parsed the way Python keeps it
 * (`parsePythonJson`: `1.0` stays a float, key order kept), because templates print tool schemas
 * back with `tojson` and a `1.0` printed as `1` changes the prompt's tokens.
 */
export function chatRequestFromProto(request: RenderChatCompletionRequestOutput): ChatRenderRequest {
  const out: ChatRenderRequest = {
    messages: request.messages.map(messageFromProto),
    addGenerationPrompt: hasField(request, 'add_generation_prompt') ? Boolean(request.add_generation_prompt) : true,
    continueFinalMessage: request.continue_final_message,
  };
  if (hasField(request, 'tools_json') && request.tools_json) out.tools = parseJson<unknown[]>(request.tools_json, 'tools_json', 'array');
  if (request.chat_template) out.chatTemplate = request.chat_template;
  if (hasField(request, 'chat_template_kwargs') && request.chat_template_kwargs) {
    out.chatTemplateKwargs = parseJson<Record<string, unknown>>(request.chat_template_kwargs, 'chat_template_kwargs', 'object');
  }
  return out;
}

/** The deprecated RenderChatTemplate: all conversation turns' messages, flattened in order. */
export function chatRequestFromTemplateRequest(request: ChatTemplateRequestOutput): ChatRenderRequest {
  const out: ChatRenderRequest = {
    messages: request.conversation_turns.flatMap((turn) => turn.messages.map(messageFromProto)),
    addGenerationPrompt: request.add_generation_prompt,
    continueFinalMessage: request.continue_final_message,
  };
  if (request.chat_template) out.chatTemplate = request.chat_template;
  if (request.tools.length > 0) out.tools = request.tools.map((tool) => structFromProto(tool.tool));
  const kwargs = structFromProto(request.chat_template_kwargs);
  if (Object.keys(kwargs).length > 0) out.chatTemplateKwargs = kwargs;
  return out;
}

export function messageFromProto(message: ProtoChatMessageOutput): ChatMessage {
  const out: ChatMessage = { role: message.role };
  if (message.content_parts.length > 0) {
    out.content = message.content_parts.map((part): ChatContentPart => {
      const converted: ChatContentPart = { type: part.type };
      if (part.text !== undefined && part.text !== null) converted.text = part.text;
      if (part.image_url) converted.image_url = { url: part.image_url.url };
      return converted;
    });
  } else if (message.content !== undefined && message.content !== null) {
    out.content = message.content;
  }
  if (message.tool_calls_json) out.tool_calls = parseJson<unknown[]>(message.tool_calls_json, 'tool_calls_json', 'array');
  return out;
}

/** The other direction, for forwarding to an upstream sidecar. */
export function messageToProto(message: ChatMessage): ProtoChatMessage {
  const out: ProtoChatMessage = { role: message.role };
  if (Array.isArray(message.content)) {
    out.content_parts = message.content.map((part) => ({
      type: part.type,
      ...(part.text !== undefined ? { text: part.text } : {}),
      ...(part.image_url ? { image_url: { url: part.image_url.url } } : {}),
    }));
  } else if (typeof message.content === 'string') {
    out.content = message.content;
  }
  if (message.tool_calls) out.tool_calls_json = pythonJsonText(message.tool_calls);
  return out;
}

function hasField(message: object, field: string): boolean {
  // proto3 `optional` fields come with a virtual oneof `_<field>` naming the field when it is set.
  const virtual = (message as Record<string, unknown>)[`_${field}`];
  if (virtual !== undefined) return virtual === field;
  return (message as Record<string, unknown>)[field] !== undefined;
}

function parseJson<T>(text: string, field: string, shape: 'array' | 'object'): T {
  let value: unknown;
  try {
    value = parsePythonJson(text);
  } catch (err) {
    throw new BackendError('invalid_argument', `${field} is not valid JSON: ${(err as Error).message}`);
  }
  const ok = shape === 'array' ? Array.isArray(value) : typeof value === 'object' && value !== null && !Array.isArray(value);
  if (!ok) throw new BackendError('invalid_argument', `${field} must be a JSON ${shape}`);
  return value as T;
}

function valueFromProto(value: ProtoValueOutput): unknown {
  switch (value.value) {
    case 'string_value':
      return value.string_value;
    case 'number_value':
      return value.number_value;
    case 'bool_value':
      return value.bool_value;
    case 'list_value':
      return (value.list_value?.values ?? []).map(valueFromProto);
    case 'struct_value':
      return structFromProto(value.struct_value?.fields ?? {});
    default:
      return null;
  }
}

function structFromProto(fields: Record<string, ProtoValueOutput>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).map(([key, value]) => [key, valueFromProto(value)]));
}

/**
 * JSON text for values that came from `parsePythonJson` (PyFloat, bigint, order-keeping Map),
 * so that forwarding a request to an upstream sends the numbers and key order the client sent.
 */
export function pythonJsonText(value: unknown): string {
  if (value instanceof PyFloat) return Number.isInteger(value.value) ? `${value.value}.0` : JSON.stringify(value.value);
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Map) return `{${[...value.entries()].map(([k, v]) => `${JSON.stringify(String(k))}:${pythonJsonText(v)}`).join(',')}}`;
  if (Array.isArray(value)) return `[${value.map(pythonJsonText).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => `${JSON.stringify(k)}:${pythonJsonText(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
