// Public surface of @kvr/tokenization (explicit names; see README "Module map").
export { TokenizationError } from './api';
export type {
  ChatContentPart,
  ChatMessage,
  ChatRenderRequest,
  ChatRenderResult,
  ModelTokenizer,
  TokenizationErrorCode,
  TokenizeResult,
  TokenizerRegistryOptions,
} from './api';
export { TokenizerRegistry, registryOptionsFromSettings } from './registry';
export type { ModelSourceSettings } from './registry';
export type { ModelSourceKind } from './registry';
export { HfModelTokenizer } from './model-tokenizer';
export type { ModelFiles, ModelTokenizerOptions } from './model-tokenizer';
export { BUILTIN_QWEN3_MODELS, isBuiltinModel } from './builtin-models';
export { TokenEncoder, ChunkCache } from './encoder';
export type { CacheStats, ChunkAdmission, TokenizerFiles } from './encoder';
export { DEFAULT_MULTIMODAL_PLACEHOLDERS } from './chat';
export type { MultimodalPlaceholders } from './chat';
export { ChatTemplate } from './jinja-python';
export { parsePythonJson, PyFloat } from './py-json';
export { chatRenderRequestFromOpenAI } from './openai-request';
