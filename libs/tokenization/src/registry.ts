/**
 * Model name → loaded {@link HfModelTokenizer}, loaded once per model and cached. Models whose
 * files resolve to the same directory share one encoder (and its chunk cache): the tokenizer is
 * ~250–400 ms of CPU to build and ~100 MB of heap, and identical files give identical ids.
 */
import { TokenizationError, type TokenizerRegistryOptions } from './api';
import { BUILTIN_QWEN3_MODELS, isBuiltinModel } from './builtin-models';
import { ChunkCache, TokenEncoder } from './encoder';
import { HfModelTokenizer, type ModelFiles } from './model-tokenizer';
import {
  builtinQwen3Dir,
  downloadToCache,
  findCachedSnapshot,
  hasTokenizerJson,
  listCachedModels,
  readModelFiles,
  resolveHubSettings,
  type HubSettings,
} from './model-source';

const DEFAULT_CACHE_TOKENS = 2_000_000;

/** Where a loaded model's files came from. */
export type ModelSourceKind = 'modelDirs' | 'hf-cache' | 'builtin' | 'download';

interface LoadedFiles {
  files: ModelFiles;
  encoder: TokenEncoder;
}

export class TokenizerRegistry {
  private readonly hub: HubSettings;
  private readonly models = new Map<string, Promise<HfModelTokenizer>>();
  private readonly byDir = new Map<string, Promise<LoadedFiles>>();
  private readonly kinds = new Map<string, ModelSourceKind>();

  constructor(
    private readonly options: TokenizerRegistryOptions = {},
    /** For tests: a fetch implementation for download mode. */
    private readonly fetchImpl: typeof fetch = fetch,
  ) {
    this.hub = resolveHubSettings(options);
  }

  /**
   * The tokenizer of `model`, loading its files on first use (see README "Model lookup").
   * Concurrent calls share one load; a failed load is not cached, so a later call retries.
   * @throws TokenizationError `model_not_found` (message lists every place looked),
   *   `invalid_model_files`, `download_failed`
   */
  get(model: string): Promise<HfModelTokenizer> {
    let pending = this.models.get(model);
    if (!pending) {
      pending = this.load(model);
      this.models.set(model, pending);
      void pending.catch(() => this.models.delete(model));
    }
    return pending;
  }

  /** Names this registry can serve without downloading (configured, cached, built-in). */
  knownModels(): string[] {
    const names = new Set<string>(Object.keys(this.options.modelDirs ?? {}));
    for (const m of listCachedModels(this.hub.hubCache)) names.add(m);
    if (this.options.builtinModels !== false) for (const m of BUILTIN_QWEN3_MODELS) names.add(m);
    return [...names].sort();
  }

  /** Names loaded so far (successfully or still loading). */
  loadedModels(): string[] {
    return [...this.models.keys()].sort();
  }

  /** Where `model`'s files came from, once loaded. */
  sourceKind(model: string): ModelSourceKind | undefined {
    return this.kinds.get(model);
  }

  /** The resolved HF cache directory (for logs and `/healthz`). */
  get hubCacheDir(): string {
    return this.hub.hubCache;
  }

  private async load(model: string): Promise<HfModelTokenizer> {
    if (typeof model !== 'string' || model.length === 0) throw new TokenizationError('model_not_found', 'model name is empty');
    const { dir, kind } = await this.locate(model);
    const loaded = await this.loadDir(dir);
    this.kinds.set(model, kind);
    return new HfModelTokenizer(model, dir, loaded.encoder, loaded.files, {
      defaultChatTemplateKwargs: this.options.defaultChatTemplateKwargs,
      excludeToolsWhenToolChoiceNone: this.options.excludeToolsWhenToolChoiceNone,
      now: this.options.now,
    });
  }

  private async locate(model: string): Promise<{ dir: string; kind: ModelSourceKind }> {
    const looked: string[] = [];
    const configured = this.options.modelDirs ?? {};
    if (Object.prototype.hasOwnProperty.call(configured, model)) {
      // A path to tokenizer.json names its directory (as llm-d's modelTokenizerMap accepts).
      const dir = configured[model]!.replace(/[/\\]tokenizer\.json$/, '');
      if (!hasTokenizerJson(dir)) {
        throw new TokenizationError('model_not_found', notFoundMessage(model, [`modelDirs["${model}"] = ${dir}: no tokenizer.json there (a configured directory is not skipped)`]));
      }
      return { dir, kind: 'modelDirs' };
    }
    const names = Object.keys(configured);
    looked.push(`modelDirs: no entry for "${model}"${names.length ? ` (configured: ${names.join(', ')})` : ' (none configured)'}`);

    const cached = await findCachedSnapshot(this.hub.hubCache, model, this.hub.revision);
    if (cached.dir) return { dir: cached.dir, kind: 'hf-cache' };
    looked.push(`HF cache: ${cached.detail}`);

    if (this.options.builtinModels !== false) {
      if (isBuiltinModel(model)) return { dir: builtinQwen3Dir(), kind: 'builtin' };
      looked.push(`built-in Qwen3 files: not one of ${BUILTIN_QWEN3_MODELS.length} built-in names (e.g. Qwen/Qwen3-32B)`);
    } else {
      looked.push('built-in Qwen3 files: disabled (builtinModels: false)');
    }

    if (this.hub.downloadEnabled) {
      try {
        return { dir: await downloadToCache(model, this.hub, this.fetchImpl), kind: 'download' };
      } catch (err) {
        if (err instanceof TokenizationError && err.code === 'model_not_found') {
          looked.push(`download: ${err.message}`);
          throw new TokenizationError('model_not_found', notFoundMessage(model, looked), { cause: err });
        }
        throw err;
      }
    }
    looked.push(
      this.options.download?.enabled ? 'download: disabled by HF_HUB_OFFLINE' : 'download: disabled (set download: { enabled: true } to fetch from the hub)',
    );
    throw new TokenizationError('model_not_found', notFoundMessage(model, looked));
  }

  private loadDir(dir: string): Promise<LoadedFiles> {
    let pending = this.byDir.get(dir);
    if (!pending) {
      pending = (async () => {
        const files = await readModelFiles(dir);
        const cacheOption = this.options.encodeCache;
        const cache = cacheOption === false ? null : new ChunkCache(cacheOption?.maxTokens ?? DEFAULT_CACHE_TOKENS, cacheOption?.admission);
        return { files, encoder: new TokenEncoder({ tokenizerJson: files.tokenizerJson, tokenizerConfig: files.tokenizerConfig }, { cache }) };
      })();
      this.byDir.set(dir, pending);
      void pending.catch(() => this.byDir.delete(dir));
    }
    return pending;
  }
}

function notFoundMessage(model: string, looked: readonly string[]): string {
  return `no tokenizer files for model "${model}"; looked in: ${looked.map((l, i) => `(${i + 1}) ${l}`).join('; ')}`;
}

/**
 * Model-source settings as the app configs hold them (`models:` in the tokenizer and sim configs;
 * an empty string means "not set": the registry then falls back to HF_HOME, HF_ENDPOINT, HF_TOKEN).
 */
export interface ModelSourceSettings {
  readonly dirs: Readonly<Record<string, string>>;
  readonly hfHome: string;
  readonly builtin: boolean;
  readonly download: boolean;
  readonly hubEndpoint: string;
  readonly hubToken: string;
  readonly revision: string;
  /** Chunk cache budget in tokens; 0 turns the cache off. Absent: the default. */
  readonly cacheTokens?: number;
  /** When a chunk enters the cache. Absent: `second-sight`. */
  readonly cacheAdmission?: string;
}

export function registryOptionsFromSettings(settings: ModelSourceSettings): TokenizerRegistryOptions {
  return {
    modelDirs: settings.dirs,
    ...(settings.hfHome ? { hfHome: settings.hfHome } : {}),
    builtinModels: settings.builtin,
    download: {
      enabled: settings.download,
      ...(settings.hubEndpoint ? { endpoint: settings.hubEndpoint } : {}),
      ...(settings.hubToken ? { token: settings.hubToken } : {}),
      revision: settings.revision,
    },
    ...(settings.cacheTokens === 0
      ? { encodeCache: false as const }
      : { encodeCache: { maxTokens: settings.cacheTokens ?? DEFAULT_CACHE_TOKENS, admission: settings.cacheAdmission === 'first-sight' ? 'first-sight' : 'second-sight' } }),
  };
}
