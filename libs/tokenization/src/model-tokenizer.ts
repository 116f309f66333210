/**
 * One loaded model: vLLM's completion and chat rendering over a {@link TokenEncoder}.
 * Pure: files arrive parsed (model-source.ts reads them); rendering and encoding are synchronous.
 */
import {
  TokenizationError,
  type ChatRenderRequest,
  type ChatRenderResult,
  type ModelTokenizer,
  type TokenizeResult,
} from './api';
import { DEFAULT_MULTIMODAL_PLACEHOLDERS, renderChatPrompt, type ModelChatTemplates, type MultimodalPlaceholders } from './chat';
import { tokenContent, type CacheStats, type TokenEncoder } from './encoder';
import { ChatTemplate } from './jinja-python';
import { WeightedLru } from './lru';

type Json = Record<string, unknown>;

/** The files of a model directory after parsing. */
export interface ModelFiles {
  tokenizerJson: Json;
  tokenizerConfig: Json;
  /** `chat_template.jinja` (transformers ≥ 4.5x saves the template there; it wins over tokenizer_config's). */
  chatTemplateJinja?: string;
  /** `special_tokens_map.json`, consulted for special tokens tokenizer_config.json lacks. */
  specialTokensMap?: Json;
}

export interface ModelTokenizerOptions {
  defaultChatTemplateKwargs?: Readonly<Record<string, unknown>>;
  excludeToolsWhenToolChoiceNone?: boolean;
  placeholders?: MultimodalPlaceholders;
  now?: () => Date;
}

const SPECIAL_TOKEN_KEYS = ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token'];

/** The model's templates: `chat_template.jinja`, else tokenizer_config's string or named list. */
export function chatTemplatesOf(files: ModelFiles): ModelChatTemplates {
  const named = new Map<string, string>();
  const configured = files.tokenizerConfig['chat_template'];
  let single: string | undefined;
  if (typeof configured === 'string') single = configured;
  else if (Array.isArray(configured)) {
    for (const entry of configured as Json[]) {
      if (typeof entry?.['name'] === 'string' && typeof entry['template'] === 'string') named.set(entry['name'], entry['template']);
    }
  }
  if (files.chatTemplateJinja !== undefined) {
    named.delete('default');
    return { default: files.chatTemplateJinja, named: named.size > 0 ? new Map([...named, ['default', files.chatTemplateJinja]]) : named };
  }
  return single !== undefined ? { default: single, named } : { named };
}

/** transformers' `special_tokens_map`: set special tokens by name (content strings), extras as a list. */
export function specialTokensOf(files: ModelFiles): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const sources = [files.tokenizerConfig, files.specialTokensMap ?? {}];
  for (const key of SPECIAL_TOKEN_KEYS) {
    for (const source of sources) {
      if (!(key in source)) continue;
      const content = tokenContent(source[key]);
      if (content !== null) out[key] = content;
      break;
    }
  }
  for (const source of sources) {
    const extra = source['additional_special_tokens'];
    if (!Array.isArray(extra)) continue;
    const contents = extra.map(tokenContent).filter((c): c is string => c !== null);
    if (contents.length > 0) out['additional_special_tokens'] = contents;
    break;
  }
  return out;
}

export class HfModelTokenizer implements ModelTokenizer {
  private readonly templates: ModelChatTemplates;
  private readonly specialTokens: Record<string, unknown>;
  private readonly compiled = new WeightedLru<string, ChatTemplate>(32);

  constructor(
    readonly model: string,
    readonly source: string,
    readonly encoder: TokenEncoder,
    files: ModelFiles,
    private readonly options: ModelTokenizerOptions = {},
  ) {
    this.templates = chatTemplatesOf(files);
    this.specialTokens = specialTokensOf(files);
  }

  tokenize(text: string, options: { addSpecialTokens: boolean; withOffsets?: boolean }): TokenizeResult {
    if (typeof text !== 'string') throw new TokenizationError('invalid_request', 'text must be a string');
    if (options.withOffsets) return this.encoder.encodeWithOffsets(text, options.addSpecialTokens);
    return { ids: this.encoder.encode(text, options.addSpecialTokens) };
  }

  /**
   * vLLM `/v1/completions`: a string is encoded with `add_special_tokens` (default true, so BOS
   * only if the tokenizer's post-processor adds one); token ids pass through unchanged.
   */
  renderCompletion(prompt: string | readonly number[], options: { addSpecialTokens?: boolean } = {}): number[] {
    if (typeof prompt === 'string') return this.encoder.encode(prompt, options.addSpecialTokens ?? true);
    if (!Array.isArray(prompt)) throw new TokenizationError('invalid_request', 'prompt must be a string or an array of token ids');
    for (const id of prompt) {
      if (!Number.isSafeInteger(id) || id < 0) throw new TokenizationError('invalid_request', `prompt token ids must be non-negative integers (got ${String(id)})`);
    }
    return [...prompt];
  }

  /** vLLM `/v1/chat/completions`: render the template, then encode without special tokens. */
  renderChat(request: ChatRenderRequest): ChatRenderResult {
    const rendered = renderChatPrompt(request, {
      templates: this.templates,
      specialTokens: this.specialTokens,
      placeholders: this.options.placeholders ?? DEFAULT_MULTIMODAL_PLACEHOLDERS,
      defaultChatTemplateKwargs: this.options.defaultChatTemplateKwargs,
      excludeToolsWhenToolChoiceNone: this.options.excludeToolsWhenToolChoiceNone,
      compile: (source) => this.compile(source),
      now: this.options.now,
    });
    const tokenIds = this.encoder.encode(rendered.prompt, request.addSpecialTokens ?? false);
    return rendered.approximate ? { prompt: rendered.prompt, tokenIds, approximate: true } : { prompt: rendered.prompt, tokenIds };
  }

  /** Chat template text as it would be rendered for a request without/with tools. */
  chatTemplate(withTools = false): string | undefined {
    if (withTools) return this.templates.named.get('tool_use') ?? this.templates.named.get('default') ?? this.templates.default;
    return this.templates.named.get('default') ?? this.templates.default;
  }

  cacheStats(): CacheStats {
    return this.encoder.cacheStats();
  }

  private compile(source: string): ChatTemplate {
    let template = this.compiled.get(source);
    if (template === undefined) {
      template = new ChatTemplate(source);
      this.compiled.set(source, template, 1);
    }
    return template;
  }
}
