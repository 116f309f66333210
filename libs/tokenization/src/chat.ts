/**
 * An OpenAI chat request turned into the prompt text vLLM renders for it: the request → conversation
 * step of vLLM's chat renderer (`vllm/renderers/chat_utils`, `ChatCompletionRequest.build_chat_params`,
 * 2026 main) followed by transformers' `apply_chat_template` / `render_jinja_template` (v4.5x–v5.x).
 * Every rule below is mirrored, independently, in `fixtures/render_chat.py`, which the tests run
 * with real Python jinja2.
 *
 * Rules (see README "Rendering rules"):
 * - `content: null` becomes `""`; a string becomes one text part. For a template that reads
 *   `message.content` as a string (vLLM content format "string", detected from the template's AST)
 *   text parts are joined with `"\n"`; empty text parts are dropped. For a template that loops over
 *   `message.content` ("openai") parts become `{"type": "text", "text": ...}` / `{"type": "image"}`.
 * - Media parts (image/audio/video) in "string" format are replaced by placeholder strings placed
 *   in front of the text, one per item, joined with `"\n"` (vLLM's
 *   `_get_full_multimodal_text_prompt` without interleaving). Real engines expand those to
 *   per-image token runs, so such results are marked `approximate`.
 * - Assistant `tool_calls[].function.arguments` JSON strings are parsed into objects before
 *   templating (vLLM `_postprocess_messages`); unparsable or non-object arguments become `{}`,
 *   empty ones `{}`, an empty `tool_calls` list is dropped.
 * - `reasoning_content` is renamed to `reasoning`; assistant messages carry both keys.
 * - Tools are handed to the template as pydantic dumps them: `{"type", "function": {"name",
 *   "description", "parameters"[, "strict"][, "defer_loading"]}}` with `null` for missing fields.
 * - Template variables: the tokenizer's special tokens, then server default kwargs, then
 *   `chat_template_kwargs` (values `null`/`"auto"` ignored), then the request's own fields
 *   (`add_generation_prompt`, `reasoning_effort`, and `enable_thinking = reasoning_effort !=
 *   "none"` unless the kwargs set it), plus `messages`, `tools`, `documents`.
 * - `continue_final_message`: transformers' sentinel method (append "CONTINUE_FINAL_MESSAGE_TAG ",
 *   render, cut at the sentinel).
 * Pure: no I/O.
 */
import { TokenizationError, type ChatMessage, type ChatRenderRequest } from './api';
import { parsePythonJson } from './py-json';
import { TemplateRaisedError, type ChatTemplate } from './jinja-python';

/** Placeholder text per modality inserted for media parts in "string" content format. */
export interface MultimodalPlaceholders {
  image: string;
  audio: string;
  video: string;
}

/**
 * Qwen2-VL / Qwen2.5-VL / Qwen2-Audio placeholders (vLLM's `get_placeholder_str` for those
 * models). Text-only models reject media parts in vLLM; the router still needs some ids.
 */
export const DEFAULT_MULTIMODAL_PLACEHOLDERS: MultimodalPlaceholders = {
  image: '<|vision_start|><|image_pad|><|vision_end|>',
  audio: '<|audio_bos|><|AUDIO|><|audio_eos|>',
  video: '<|vision_start|><|video_pad|><|vision_end|>',
};

/** The model's chat template(s) as tokenizer_config.json / chat_template.jinja define them. */
export interface ModelChatTemplates {
  /** A single template, or the "default" entry of a named list. */
  default?: string;
  /** Named templates (`chat_template: [{name, template}]`), e.g. "tool_use". */
  named: ReadonlyMap<string, string>;
}

export interface ChatRenderContext {
  templates: ModelChatTemplates;
  /** bos_token, eos_token, … as transformers' `special_tokens_map` hands them to the template. */
  specialTokens: Readonly<Record<string, unknown>>;
  placeholders: MultimodalPlaceholders;
  /** vLLM `--default-chat-template-kwargs`. */
  defaultChatTemplateKwargs?: Readonly<Record<string, unknown>>;
  /** vLLM `--exclude-tools-when-tool-choice-none`. */
  excludeToolsWhenToolChoiceNone?: boolean;
  /** Parses (and caches) a template. */
  compile(source: string): ChatTemplate;
  now?: () => Date;
}

export interface RenderedChat {
  prompt: string;
  /** Media parts were replaced by placeholders: the engine's ids will differ. */
  approximate: boolean;
  contentFormat: 'string' | 'openai';
}

const CONTINUE_FINAL_MESSAGE_TAG = 'CONTINUE_FINAL_MESSAGE_TAG ';
const TEXT_PART_TYPES = new Set(['text', 'input_text', 'output_text', 'refusal', 'thinking']);
const MEDIA_PART_TYPES: Record<string, keyof MultimodalPlaceholders> = {
  image_url: 'image',
  input_image: 'image',
  image_pil: 'image',
  image_embeds: 'image',
  audio_url: 'audio',
  input_audio: 'audio',
  audio_embeds: 'audio',
  video_url: 'video',
  video_embeds: 'video',
};

type Dict = Record<string, unknown>;

/** Reads a field of a plain object or a `Map` (from {@link parsePythonJson}). */
function field(obj: unknown, key: string): unknown {
  if (obj instanceof Map) return obj.get(key);
  if (obj !== null && typeof obj === 'object') return Object.prototype.hasOwnProperty.call(obj, key) ? (obj as Dict)[key] : undefined;
  return undefined;
}

function isRecord(v: unknown): v is Dict | Map<string, unknown> {
  return v instanceof Map || (v !== null && typeof v === 'object' && !Array.isArray(v));
}

function invalid(message: string): TokenizationError {
  return new TokenizationError('invalid_request', message);
}

/** Picks the template the way vLLM's `resolve_chat_template` + transformers' `get_chat_template` do. */
export function resolveTemplateSource(templates: ModelChatTemplates, requestTemplate: string | undefined, hasTools: boolean): string {
  if (requestTemplate !== undefined && requestTemplate !== null && requestTemplate !== '') {
    return templates.named.get(requestTemplate) ?? requestTemplate;
  }
  if (templates.named.size > 0) {
    const named = (hasTools ? templates.named.get('tool_use') : undefined) ?? templates.named.get('default') ?? templates.default;
    if (named !== undefined) return named;
    throw new TokenizationError(
      'template_error',
      `this model has several chat templates and none is named "default" (${[...templates.named.keys()].join(', ')}); pass chatTemplate`,
    );
  }
  if (templates.default !== undefined) return templates.default;
  throw new TokenizationError(
    'template_error',
    'the model defines no chat template (tokenizer_config.json chat_template or chat_template.jinja) and the request passed none',
  );
}

interface ParsedParts {
  content: string | Dict[];
  media: number;
}

function parseContent(content: ChatMessage['content'] | unknown, format: 'string' | 'openai', placeholders: MultimodalPlaceholders): ParsedParts {
  let parts: unknown[];
  if (content === null || content === undefined) parts = [];
  else if (typeof content === 'string') parts = [{ type: 'text', text: content }];
  else if (Array.isArray(content)) parts = content;
  else throw invalid('message content must be a string, an array of content parts or null');

  const texts: string[] = [];
  const wrapped: Dict[] = [];
  const media: string[] = [];
  for (const part of parts) {
    if (typeof part === 'string') {
      if (format === 'openai') wrapped.push({ type: 'text', text: part });
      else if (part) texts.push(part);
      continue;
    }
    if (!isRecord(part)) throw invalid('content parts must be objects or strings');
    let type = field(part, 'type');
    if (type === undefined || type === null) {
      // vLLM infers the type from a direct media field when `type` is missing.
      type = ['image_url', 'audio_url', 'video_url', 'input_audio', 'image_embeds'].find((k) => field(part, k) !== undefined);
      if (type === undefined) throw invalid("Missing 'type' field in multimodal part.");
    }
    if (typeof type !== 'string') throw invalid("Invalid 'type' field in multimodal part.");
    if (TEXT_PART_TYPES.has(type)) {
      const key = type === 'refusal' ? 'refusal' : type === 'thinking' ? 'thinking' : 'text';
      const text = field(part, key);
      if (text === undefined || text === null) continue;
      if (typeof text !== 'string') throw invalid(`content part "${type}" needs a string "${key}"`);
      if (format === 'openai') wrapped.push({ type: 'text', text });
      else if (text) texts.push(text);
      continue;
    }
    if (type === 'tool_reference') {
      const name = field(part, 'name');
      if (typeof name !== 'string' || !name) continue;
      if (format === 'openai') wrapped.push({ type: 'tool_reference', name });
      else texts.push(name);
      continue;
    }
    const modality = MEDIA_PART_TYPES[type];
    if (!modality) throw invalid(`Unsupported chat content part type: '${type}'.`);
    if (format === 'openai') wrapped.push({ type: modality });
    media.push(placeholders[modality]);
  }
  if (format === 'openai') return { content: wrapped, media: media.length };
  const text = texts.join('\n');
  return { content: media.length ? [...media, text].join('\n') : text, media: media.length };
}

function copyToolCalls(toolCalls: unknown): Dict[] {
  if (!Array.isArray(toolCalls)) throw invalid('tool_calls must be an array');
  return toolCalls.map((item: unknown) => {
    if (!isRecord(item)) throw invalid('assistant tool_calls entries must be objects.');
    const copy: Dict = item instanceof Map ? Object.fromEntries(item) : { ...item };
    const fn = copy['function'];
    if ((copy['type'] ?? 'function') !== 'function' || !isRecord(fn)) {
      throw invalid("chat completions only support assistant tool_calls of type 'function'.");
    }
    copy['function'] = fn instanceof Map ? new Map(fn) : { ...fn };
    return copy;
  });
}

/** vLLM `_postprocess_messages`: `arguments` JSON strings become objects. */
function parseToolArguments(fn: Dict | Map<string, unknown>): void {
  const args = field(fn, 'arguments');
  let parsed: unknown;
  if (!args) parsed = {};
  else if (isRecord(args)) parsed = args;
  else {
    if (typeof args === 'string') {
      try {
        parsed = parsePythonJson(args);
      } catch {
        parsed = undefined; // vLLM logs and coerces malformed arguments to {}.
      }
    } else parsed = args;
    if (!isRecord(parsed)) parsed = {};
  }
  if (fn instanceof Map) fn.set('arguments', parsed);
  else fn['arguments'] = parsed;
}

/** The conversation vLLM hands to `apply_chat_template`. */
export function buildConversation(
  messages: readonly ChatMessage[],
  format: 'string' | 'openai',
  placeholders: MultimodalPlaceholders,
): { conversation: Dict[]; media: number } {
  if (!Array.isArray(messages) || messages.length === 0) throw invalid('messages must be a non-empty array');
  let media = 0;
  const conversation = messages.map((message): Dict => {
    if (!isRecord(message)) throw invalid('each message must be an object');
    const role = field(message, 'role');
    if (typeof role !== 'string') throw invalid('each message needs a string role');
    let reasoning = field(message, 'reasoning');
    const legacyReasoning = field(message, 'reasoning_content');
    if ((reasoning === undefined || reasoning === null) && legacyReasoning !== undefined && legacyReasoning !== null) reasoning = legacyReasoning;

    const parsed = parseContent(field(message, 'content'), format, placeholders);
    media += parsed.media;
    const out: Dict = { role, content: parsed.content };
    if (role === 'assistant') {
      const toolCalls = field(message, 'tool_calls');
      if (toolCalls !== undefined && toolCalls !== null) out['tool_calls'] = copyToolCalls(toolCalls);
      if (reasoning !== undefined && reasoning !== null) {
        out['reasoning'] = reasoning;
        out['reasoning_content'] = reasoning;
      }
    } else if (role === 'tool') {
      const id = field(message, 'tool_call_id');
      if (id !== undefined) out['tool_call_id'] = id;
      const content = out['content'];
      if (Array.isArray(content) && !content.some((item) => field(item, 'type') !== 'text')) {
        out['content'] = content.map((item) => String(field(item, 'text') ?? '')).join('\n');
      }
    }
    const name = field(message, 'name');
    if (typeof name === 'string') out['name'] = name;
    const task = field(message, 'task');
    if (typeof task === 'string') out['task'] = task;
    if (role === 'developer') out['tools'] = field(message, 'tools') ?? null;
    return out;
  });
  for (const message of conversation) {
    if (message['role'] !== 'assistant' || !('tool_calls' in message)) continue;
    const calls = message['tool_calls'] as Dict[];
    if (calls.length === 0) {
      delete message['tool_calls'];
      continue;
    }
    for (const call of calls) parseToolArguments(call['function'] as Dict | Map<string, unknown>);
  }
  return { conversation, media };
}

/** `ChatCompletionToolsParam.model_dump()`: fixed key order, `null` for missing optional fields. */
export function dumpTools(tools: readonly unknown[]): Dict[] {
  if (!Array.isArray(tools)) throw invalid('tools must be an array');
  return tools.map((tool) => {
    const fn = field(tool, 'function');
    if (!isRecord(tool) || !isRecord(fn) || typeof field(fn, 'name') !== 'string') {
      throw invalid('each tool needs {"type": "function", "function": {"name": ...}}');
    }
    const type = field(tool, 'type') ?? 'function';
    if (type !== 'function') throw invalid(`unsupported tool type ${JSON.stringify(type)}`);
    const outFn: Dict = {
      name: field(fn, 'name'),
      description: field(fn, 'description') ?? null,
      parameters: field(fn, 'parameters') ?? null,
    };
    const strict = field(fn, 'strict');
    if (strict !== undefined && strict !== null) outFn['strict'] = strict;
    const toolDefer = field(tool, 'defer_loading');
    const fnDefer = field(fn, 'defer_loading') ?? toolDefer;
    if (fnDefer !== undefined && fnDefer !== null) outFn['defer_loading'] = fnDefer;
    const out: Dict = { type, function: outFn };
    if (toolDefer !== undefined && toolDefer !== null) out['defer_loading'] = toolDefer;
    return out;
  });
}

/** vLLM `merge_kwargs`: overrides win unless they are `null`/`undefined`/`"auto"`. */
function mergeKwargs(defaults: Readonly<Record<string, unknown>> | undefined, overrides: Readonly<Record<string, unknown>> | undefined): Dict {
  const out: Dict = { ...(defaults ?? {}) };
  for (const [k, v] of Object.entries(overrides ?? {})) {
    if (v !== null && v !== undefined && v !== 'auto') out[k] = v;
  }
  return out;
}

/** Renders the prompt text of a chat request. Throws {@link TokenizationError}. */
export function renderChatPrompt(request: ChatRenderRequest, ctx: ChatRenderContext): RenderedChat {
  if (!request || !Array.isArray(request.messages)) throw invalid('messages must be an array');
  let tools = request.tools;
  if (tools !== undefined && tools !== null && request.toolChoice === 'none' && ctx.excludeToolsWhenToolChoiceNone) tools = undefined;
  const toolDicts = tools === undefined || tools === null ? null : dumpTools(tools);

  const source = resolveTemplateSource(ctx.templates, request.chatTemplate, toolDicts !== null);
  let template: ChatTemplate;
  try {
    template = ctx.compile(source);
  } catch (err) {
    throw new TokenizationError('template_error', `chat template does not parse: ${(err as Error).message}`, { cause: err });
  }
  const contentFormat = template.contentFormat();
  const { conversation, media } = buildConversation(request.messages, contentFormat, ctx.placeholders);

  const userKwargs = request.chatTemplateKwargs ?? {};
  const requestFields: Dict = {
    add_generation_prompt: request.addGenerationPrompt ?? true,
    continue_final_message: request.continueFinalMessage ?? false,
    documents: request.documents ?? null,
    reasoning_effort: request.reasoningEffort ?? null,
  };
  if (request.reasoningEffort !== undefined && request.reasoningEffort !== null && !('enable_thinking' in userKwargs)) {
    requestFields['enable_thinking'] = request.reasoningEffort !== 'none';
  }
  const kwargs = mergeKwargs(mergeKwargs(ctx.defaultChatTemplateKwargs, userKwargs), requestFields);
  const unexpected = ['chat_template', 'tokenize'].filter((k) => k in kwargs);
  if (unexpected.length > 0) throw invalid(`Found unexpected chat template kwargs from request: ${unexpected.join(', ')}`);

  const addGenerationPrompt = Boolean(kwargs['add_generation_prompt'] ?? false);
  const continueFinalMessage = Boolean(kwargs['continue_final_message'] ?? false);
  const documents = kwargs['documents'] ?? null;
  delete kwargs['add_generation_prompt'];
  delete kwargs['continue_final_message'];
  delete kwargs['documents'];
  if (continueFinalMessage && addGenerationPrompt) {
    throw invalid('continue_final_message and add_generation_prompt are not compatible (set add_generation_prompt to false)');
  }

  let finalText: string | undefined;
  if (continueFinalMessage) {
    const last = conversation[conversation.length - 1]!;
    const content = last['content'];
    if (content === undefined || content === null) throw invalid('continue_final_message is set but the final message has no "content" to continue');
    if (!source.includes('content')) throw invalid('continue_final_message is set but the chat template does not use "content"');
    if (Array.isArray(content)) {
      const block = [...(content as Dict[])].reverse().find((b) => 'text' in b);
      if (!block) throw invalid('continue_final_message is set but the final message has no text to continue');
      finalText = String(block['text']);
      block['text'] = finalText + CONTINUE_FINAL_MESSAGE_TAG;
    } else {
      finalText = String(content);
      last['content'] = finalText + CONTINUE_FINAL_MESSAGE_TAG;
    }
  }

  // Object.assign, not `{ ...a, ...b, c }`: V8 11 (Node 20) gives every spread-then-extended object
  // a hidden class of its own, ≈ 3 µs and an old-space allocation per render.
  const variables: Dict = Object.assign({}, ctx.specialTokens, kwargs, { messages: conversation, tools: toolDicts, documents, add_generation_prompt: addGenerationPrompt });
  let prompt: string;
  try {
    prompt = template.render(variables, { now: ctx.now });
  } catch (err) {
    const detail = err instanceof TemplateRaisedError ? `raise_exception: ${err.message}` : (err as Error).message;
    throw new TokenizationError('template_error', `chat template failed to render: ${detail}`, { cause: err });
  }

  if (finalText !== undefined) {
    const tag = CONTINUE_FINAL_MESSAGE_TAG.trim();
    if (!prompt.includes(pyStripWs(finalText)) || !prompt.includes(tag)) {
      throw new TokenizationError('template_error', 'continue_final_message is set but the final message does not appear in the rendered chat');
    }
    const loc = prompt.lastIndexOf(tag);
    prompt = prompt.startsWith(CONTINUE_FINAL_MESSAGE_TAG, loc) ? prompt.slice(0, loc) : pyRstripWs(prompt.slice(0, loc));
  }
  return { prompt, approximate: media > 0, contentFormat };
}

// str.strip()/rstrip() without arguments: Python's whitespace set, not JavaScript's.
// eslint-disable-next-line no-control-regex -- \x1c-\x1f are whitespace to Python's str.isspace()
const PY_WS = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u;
function pyStripWs(s: string): string {
  return pyRstripWs(s).replace(new RegExp(`^${PY_WS.source}+`, 'u'), '');
}
function pyRstripWs(s: string): string {
  return s.replace(new RegExp(`${PY_WS.source}+$`, 'u'), '');
}
