/**
 * The public contract of @kvr/tokenization, fixed first so that the tokenizer service, the
 * gateway and kvctl can be written against it. Implementations live beside this file.
 */

/** One part of an OpenAI-style message content array. */
export interface ChatContentPart {
  type: string;
  text?: string;
  image_url?: { url: string };
  [key: string]: unknown;
}

/**
 * An OpenAI chat message as a client sends it. Like vLLM, the renderer keeps only the fields
 * vLLM hands to the template (role, content, tool_calls, reasoning/reasoning_content,
 * tool_call_id, name, task, developer tools); other fields are accepted and dropped.
 */
export interface ChatMessage {
  role: string;
  content?: string | ChatContentPart[] | null;
  name?: string;
  tool_calls?: unknown[];
  tool_call_id?: string;
  reasoning_content?: string;
  [key: string]: unknown;
}

export interface ChatRenderRequest {
  messages: ChatMessage[];
  /** OpenAI `tools` (function definitions), handed to the template as vLLM does. */
  tools?: unknown[];
  /** A request-supplied Jinja template that replaces the model's. */
  chatTemplate?: string;
  /** @default true (vLLM's default) */
  addGenerationPrompt?: boolean;
  /** @default false */
  continueFinalMessage?: boolean;
  /** Extra template variables, e.g. `{ enable_thinking: false }`. */
  chatTemplateKwargs?: Record<string, unknown>;
  // --- additions (not in the first contract) ---
  /** OpenAI `tool_choice`; only `"none"` matters (with the registry's `excludeToolsWhenToolChoiceNone`). */
  toolChoice?: unknown;
  /** OpenAI `reasoning_effort`: vLLM hands it to the template and sets `enable_thinking = effort !== "none"` unless the kwargs set it. */
  reasoningEffort?: string | null;
  /** vLLM `documents` (RAG), handed to the template. */
  documents?: unknown[];
  /** vLLM `add_special_tokens` for chat: add BOS/EOS on top of the template's. @default false (vLLM's default) */
  addSpecialTokens?: boolean;
}

export interface ChatRenderResult {
  /** The prompt text the template produced. */
  prompt: string;
  /** Token ids exactly as vLLM computes them for this chat request. */
  tokenIds: number[];
  /**
   * Addition: true when media parts were replaced by placeholder text, so the engine's ids (which
   * expand each image into many tokens) differ from these. Absent or false: exact.
   */
  approximate?: boolean;
}

export interface TokenizeResult {
  ids: number[];
  /** Character offsets [start, end) per id, when requested. */
  offsets?: [number, number][];
}

/** One loaded model: rendering and encoding, synchronous and CPU-bound. */
export interface ModelTokenizer {
  /** The name it was requested by. */
  readonly model: string;
  /** Where its files came from (directory path), for logs and `/healthz`. */
  readonly source: string;
  /** Plain HF tokenization. */
  tokenize(text: string, options: { addSpecialTokens: boolean; withOffsets?: boolean }): TokenizeResult;
  /**
   * Token ids of a `/v1/completions` prompt as vLLM computes them (special tokens, BOS rules).
   * `options.addSpecialTokens` is vLLM's `add_special_tokens` request field (addition; default true).
   */
  renderCompletion(prompt: string | readonly number[], options?: { addSpecialTokens?: boolean }): number[];
  /** Token ids of a `/v1/chat/completions` request as vLLM computes them. */
  renderChat(request: ChatRenderRequest): ChatRenderResult;
}

export type TokenizationErrorCode =
  /** No tokenizer files for the model where we looked (message lists the places). */
  | 'model_not_found'
  /** Files found but unreadable or not a tokenizer. */
  | 'invalid_model_files'
  /** Download mode: the hub refused or failed. */
  | 'download_failed'
  /** The chat template failed to render this request. */
  | 'template_error'
  /** The request itself is malformed (e.g. continue_final_message with add_generation_prompt). */
  | 'invalid_request';

export class TokenizationError extends Error {
  override readonly name = 'TokenizationError';
  constructor(
    readonly code: TokenizationErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface TokenizerRegistryOptions {
  /** Model name → local directory holding tokenizer.json (+ tokenizer_config.json). */
  modelDirs?: Readonly<Record<string, string>>;
  /** Hugging Face home; models are looked up in `<hfHome>/hub/models--Org--Name/snapshots/<rev>/`. @default $HF_HOME or ~/.cache/huggingface */
  hfHome?: string;
  /** Serve the Qwen3 family from the tokenizer files shipped in node_modules. @default true */
  builtinModels?: boolean;
  /** Opt-in download of tokenizer files into the HF cache layout. @default disabled */
  download?: {
    enabled: boolean;
    /** @default $HF_ENDPOINT or https://huggingface.co */
    endpoint?: string;
    /** For gated models. @default $HF_TOKEN */
    token?: string;
    /** @default 'main' */
    revision?: string;
    /** Addition: per-file request timeout. @default 30000 */
    timeoutMs?: number;
  };
  // --- additions (not in the first contract) ---
  /**
   * Cache of encoded text chunks shared by all models with the same tokenizer files (see README
   * "Encode cache"). `false` disables it. `admission`: `second-sight` caches a chunk the second
   * time it is seen (text seen once — a question — never fills the cache), `first-sight` at once.
   * @default { maxTokens: 2_000_000, admission: 'second-sight' }
   */
  encodeCache?: { maxTokens: number; admission?: 'first-sight' | 'second-sight' } | false;
  /** vLLM `--default-chat-template-kwargs`: template variables every chat request starts from. */
  defaultChatTemplateKwargs?: Readonly<Record<string, unknown>>;
  /** vLLM `--exclude-tools-when-tool-choice-none`. @default false */
  excludeToolsWhenToolChoiceNone?: boolean;
  /** Clock for templates' `strftime_now` (tests pin it). @default () => new Date() */
  now?: () => Date;
}
