/**
 * Text → token ids for one set of tokenizer files, on top of `@huggingface/tokenizers@0.2.0`
 * (pure JS; ids equal to HF Rust `tokenizers` on the corpus in `encoder.spec.ts`).
 *
 * Adds, over the package:
 * - the special-token rule transformers applies for `add_special_tokens=True` (the tokenizer.json
 *   post-processor, or — for the slow-compatible Llama/Gemma classes — `add_bos_token` /
 *   `add_eos_token` from tokenizer_config.json, which transformers' `update_post_processor` uses);
 * - an optional chunk cache: the text is cut at safe, content-defined boundaries (chunking.ts) and
 *   each chunk's ids are looked up before encoding; proven equal to a whole-text encode by tests;
 * - character offsets per token in Unicode code points (Python `str` indices, what vLLM's
 *   tokenizer sidecar returns), which the package does not compute.
 * Pure: no I/O.
 */
import { TokenizationError } from './api';
import { analyzeChunking, ChunkPlanner, type AddedTokenInfo, type ChunkPlannerOptions, type ChunkingVerdict } from './chunking';
import { detachedString } from './detached-string';
import { Doorkeeper } from './doorkeeper';
import { FastBpe } from './fast-bpe';
import { WeightedLru } from './lru';
import { HfTokenizer } from './vendor';

type Json = Record<string, unknown>;

/** Parsed tokenizer.json + tokenizer_config.json of one model. */
export interface TokenizerFiles {
  tokenizerJson: Json;
  tokenizerConfig: Json;
}

/**
 * When a chunk enters the cache: `second-sight` (the default) caches a chunk the second time it is
 * seen (doorkeeper.ts says why), `first-sight` the first time.
 */
export type ChunkAdmission = 'first-sight' | 'second-sight';

/** Chunk cache shared by every encoder built from the same files. */
export class ChunkCache {
  readonly lru: WeightedLru<string, Uint32Array>;
  /** null: every chunk is admitted on first sight. */
  readonly doorkeeper: Doorkeeper | null;
  /** Misses not stored: first sightings under `second-sight` admission. */
  notAdmitted = 0;

  constructor(
    readonly maxTokens: number,
    readonly admission: ChunkAdmission = 'second-sight',
  ) {
    this.lru = new WeightedLru(maxTokens);
    // One generation holds maxTokens / 64 hashes, more than the chunks the cache can hold (chunks
    // are 384–2048 characters, 80 tokens or more): a chunk seen once is remembered at least about
    // as long as it would have stayed cached, so a prefix that recurs within that time is admitted.
    this.doorkeeper = admission === 'second-sight' ? new Doorkeeper(Math.max(1024, Math.ceil(maxTokens / 64))) : null;
  }

  /** Whether a chunk that missed should be stored now; when not, records and counts its first sighting. */
  admits(chunk: string): boolean {
    if (this.doorkeeper === null || this.doorkeeper.offer(chunk)) return true;
    this.notAdmitted++;
    return false;
  }
}

export interface CacheStats {
  enabled: boolean;
  /** Why caching is off for this tokenizer, when it is. */
  reason?: string;
  entries: number;
  tokens: number;
  maxTokens: number;
  hits: number;
  misses: number;
  evictions: number;
  /** Misses not stored: first sightings under `second-sight` admission. */
  notAdmitted: number;
}

/** Special ids added around a sequence when `add_special_tokens` is true. */
interface SpecialTemplate {
  prefix: number[];
  suffix: number[];
}

// transformers classes whose __init__ rebuilds the post-processor from add_bos/add_eos_token
// (LlamaTokenizerFast, GemmaTokenizerFast, CodeLlamaTokenizerFast in transformers 4.3x–4.5x).
const POST_PROCESSOR_REBUILDING_CLASSES: Record<string, { bos: boolean; eos: boolean }> = {
  LlamaTokenizer: { bos: true, eos: false },
  LlamaTokenizerFast: { bos: true, eos: false },
  CodeLlamaTokenizer: { bos: true, eos: false },
  CodeLlamaTokenizerFast: { bos: true, eos: false },
  GemmaTokenizer: { bos: true, eos: false },
  GemmaTokenizerFast: { bos: true, eos: false },
};

function obj(v: unknown): Json | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null;
}

/** A special token of tokenizer_config.json: a string or an AddedToken dict `{content: ...}`. */
export function tokenContent(v: unknown): string | null {
  if (typeof v === 'string') return v;
  const content = obj(v)?.['content'];
  return typeof content === 'string' ? content : null;
}

/** The package's internals this module relies on (pinned 0.2.0). */
interface TokenizerInternals {
  splitter_unnormalized: { split(text: string): string[] };
  normalizer: ((text: string) => string) | null;
}

export interface EncoderOptions {
  /** Shared chunk cache, or null for none. */
  cache: ChunkCache | null;
  chunking?: ChunkPlannerOptions;
}

export class TokenEncoder {
  readonly tokenizer: HfTokenizer;
  readonly addedTokens: readonly AddedTokenInfo[];
  readonly chunking: ChunkingVerdict;
  private readonly planner: ChunkPlanner | null;
  private readonly cache: ChunkCache | null;
  /** null: the post-processor is not understood; `add_special_tokens` goes through the package. */
  private readonly special: SpecialTemplate | null;
  private readonly addedByContent = new Map<string, AddedTokenInfo>();
  private readonly trimOffsets: boolean;
  private readonly byteLevel: boolean;
  /** Faster equal-output encoder for analysed byte-level BPE tokenizers (fast-bpe.ts). */
  private readonly fast: FastBpe | null;
  private readonly fastReason: string | undefined;

  constructor(
    readonly files: TokenizerFiles,
    options: EncoderOptions,
  ) {
    try {
      this.tokenizer = new HfTokenizer(files.tokenizerJson, files.tokenizerConfig);
    } catch (err) {
      throw new TokenizationError('invalid_model_files', `tokenizer.json is not a tokenizer @huggingface/tokenizers can load: ${(err as Error).message}`, { cause: err });
    }
    const rawAdded = Array.isArray(files.tokenizerJson['added_tokens']) ? (files.tokenizerJson['added_tokens'] as Json[]) : [];
    this.addedTokens = rawAdded.map((t) => ({
      id: Number(t['id']),
      content: String(t['content']),
      lstrip: t['lstrip'] === true,
      rstrip: t['rstrip'] === true,
      special: t['special'] === true,
      normalized: t['normalized'] === undefined ? t['special'] !== true : t['normalized'] === true,
    }));
    for (const t of this.addedTokens) {
      this.addedByContent.set(t.content, t);
    }
    this.chunking = analyzeChunking(files.tokenizerJson, files.tokenizerConfig, this.addedTokens);
    this.cache = options.cache;
    this.planner = this.chunking.chunkable ? new ChunkPlanner(this.addedTokens, options.chunking) : null;
    this.special = this.resolveSpecialTemplate();
    const post = obj(files.tokenizerJson['post_processor']);
    const postSteps = post?.['type'] === 'Sequence' ? ((post['processors'] as unknown[]) ?? []).map(obj) : [post];
    this.trimOffsets = postSteps.some((p) => p?.['type'] === 'ByteLevel' && p['trim_offsets'] === true);
    const pre = obj(files.tokenizerJson['pre_tokenizer']);
    const preSteps = pre?.['type'] === 'Sequence' ? ((pre['pretokenizers'] as unknown[]) ?? []).map(obj) : [pre];
    this.byteLevel = preSteps.some((p) => p?.['type'] === 'ByteLevel');
    const fast = FastBpe.create(files.tokenizerJson, this.tokenizer, this.chunking.chunkable);
    this.fast = fast instanceof FastBpe ? fast : null;
    this.fastReason = fast instanceof FastBpe ? undefined : fast.reason;
  }

  /** Token id of a token string (vocabulary or added token). */
  tokenId(token: string): number | undefined {
    return this.tokenizer.token_to_id(token);
  }

  /** Special ids `add_special_tokens=true` puts before/after a sequence, when understood. */
  specialTemplate(): Readonly<SpecialTemplate> | null {
    return this.special;
  }

  /** Ids of `text` exactly as HF tokenizers encodes it; uses the chunk cache when possible. */
  encode(text: string, addSpecialTokens: boolean): number[] {
    if (addSpecialTokens && this.special === null) return this.tokenizer.encode(text, { add_special_tokens: true }).ids;
    const body = this.encodeBody(text);
    if (!addSpecialTokens) return body;
    const { prefix, suffix } = this.special!;
    return prefix.length || suffix.length ? [...prefix, ...body, ...suffix] : body;
  }

  /** The package's own encode: no chunk cache, no fast path (the reference in tests and benchmarks). */
  encodeUncached(text: string, addSpecialTokens: boolean): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: addSpecialTokens }).ids;
  }

  /** Whether the fast byte-level BPE path is used, and why not when it is not. */
  fastPath(): { enabled: boolean; reason?: string } {
    return this.fast ? { enabled: true } : { enabled: false, ...(this.fastReason ? { reason: this.fastReason } : {}) };
  }

  /** Ids without special tokens, without the chunk cache. */
  private encodeWhole(text: string): number[] {
    return this.fast ? this.fast.encode(text) : this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  private encodeBody(text: string): number[] {
    const planner = this.planner;
    const cache = this.cache;
    if (planner === null || cache === null || text.length <= planner.minChars * 2) return this.encodeWhole(text);
    const pieces: Uint32Array[] = [];
    let total = 0;
    let start = 0;
    for (const end of planner.plan(text)) {
      const chunk = text.slice(start, end);
      start = end;
      let ids = cache.lru.get(chunk);
      if (ids === undefined) {
        ids = Uint32Array.from(this.encodeWhole(chunk));
        if (cache.admits(chunk)) cache.lru.set(detachedString(chunk), ids, ids.length);
      }
      pieces.push(ids);
      total += ids.length;
    }
    // Sized once: pushing 7k ids one by one regrows the array about twenty times, ~4× its final
    // size in garbage per prompt (measured: the largest allocation site of a routed request).
    const out = new Array<number>(total);
    let at = 0;
    for (const ids of pieces) {
      for (let i = 0; i < ids.length; i++) out[at++] = ids[i]!;
    }
    return out;
  }

  /**
   * Empties the chunk cache (shared with other encoders of the same files) and the word caches
   * (the fast path's and the package's): for first-sight measurements and memory pressure.
   */
  clearCaches(): void {
    this.cache?.lru.clear();
    this.cache?.doorkeeper?.clear();
    this.fast?.clearWordCache();
    (this.tokenizer as unknown as { model?: { clear_cache?: () => void } }).model?.clear_cache?.();
  }

  /** Chunk ends the cache would use for `text` (for tests and diagnostics); null when chunking is off. */
  chunkEnds(text: string): number[] | null {
    return this.planner ? this.planner.plan(text) : null;
  }

  cacheStats(): CacheStats {
    const lru = this.cache?.lru;
    const reason = this.cache === null ? 'encode cache disabled' : this.chunking.chunkable ? undefined : this.chunking.reason;
    return {
      enabled: this.cache !== null && this.chunking.chunkable,
      ...(reason ? { reason } : {}),
      entries: lru?.size ?? 0,
      tokens: lru?.weight ?? 0,
      maxTokens: lru?.maxWeight ?? 0,
      hits: lru?.hits ?? 0,
      misses: lru?.misses ?? 0,
      evictions: lru?.evictions ?? 0,
      notAdmitted: this.cache?.notAdmitted ?? 0,
    };
  }

  private resolveSpecialTemplate(): SpecialTemplate | null {
    const config = this.files.tokenizerConfig;
    const cls = typeof config['tokenizer_class'] === 'string' ? config['tokenizer_class'] : '';
    const rebuild = POST_PROCESSOR_REBUILDING_CLASSES[cls];
    if (rebuild) {
      const addBos = typeof config['add_bos_token'] === 'boolean' ? config['add_bos_token'] : rebuild.bos;
      const addEos = typeof config['add_eos_token'] === 'boolean' ? config['add_eos_token'] : rebuild.eos;
      const idOf = (key: string): number[] => {
        const content = tokenContent(config[key]);
        const id = content === null ? undefined : this.tokenizer.token_to_id(content);
        return id === undefined ? [] : [id];
      };
      return { prefix: addBos ? idOf('bos_token') : [], suffix: addEos ? idOf('eos_token') : [] };
    }
    const template = this.postProcessorTemplate(obj(this.files.tokenizerJson['post_processor']));
    if (template === null) return null;
    // Self-check against the package: the template must reproduce its add_special_tokens output.
    const probe = 'a b';
    const withSpecial = this.tokenizer.encode(probe, { add_special_tokens: true }).ids;
    const plain = this.tokenizer.encode(probe, { add_special_tokens: false }).ids;
    const expected = [...template.prefix, ...plain, ...template.suffix];
    return withSpecial.length === expected.length && withSpecial.every((id, i) => id === expected[i]) ? template : null;
  }

  private postProcessorTemplate(post: Json | null): SpecialTemplate | null {
    if (post === null) return { prefix: [], suffix: [] };
    const idsOf = (token: unknown): number[] | null => {
      const pair = Array.isArray(token) ? token : null;
      const id = pair && typeof pair[1] === 'number' ? pair[1] : undefined;
      return id === undefined ? null : [id];
    };
    switch (post['type']) {
      case 'ByteLevel':
        return { prefix: [], suffix: [] };
      case 'TemplateProcessing': {
        const single = Array.isArray(post['single']) ? (post['single'] as Json[]) : null;
        const specials = obj(post['special_tokens']) ?? {};
        if (!single) return null;
        const out: SpecialTemplate = { prefix: [], suffix: [] };
        let seenSequence = false;
        for (const item of single) {
          const special = obj(item['SpecialToken']);
          if (special) {
            const ids = obj(specials[String(special['id'])])?.['ids'];
            if (!Array.isArray(ids)) return null;
            (seenSequence ? out.suffix : out.prefix).push(...(ids as number[]));
          } else if (obj(item['Sequence'])) {
            seenSequence = true;
          } else return null;
        }
        return out;
      }
      case 'RobertaProcessing':
      case 'BertProcessing': {
        const cls = idsOf(post['cls']);
        const sep = idsOf(post['sep']);
        return cls && sep ? { prefix: cls, suffix: sep } : null;
      }
      case 'Sequence': {
        const out: SpecialTemplate = { prefix: [], suffix: [] };
        for (const step of (post['processors'] as unknown[]) ?? []) {
          const t = this.postProcessorTemplate(obj(step));
          if (t === null) return null;
          out.prefix.push(...t.prefix);
          out.suffix.unshift(...t.suffix);
        }
        return out;
      }
      default:
        return null;
    }
  }

  /**
   * Ids with `[start, end)` offsets in code points of `text` (special tokens added by the
   * post-processor get `[0, 0]`). Byte-level BPE tokenizers only: a token that covers part of a
   * multi-byte character spans the whole character; a character NFC composed from several
   * original ones maps to the first of them (HF tokenizers' alignment).
   */
  encodeWithOffsets(text: string, addSpecialTokens: boolean): { ids: number[]; offsets: [number, number][] } {
    if (!this.byteLevel || !this.chunking.chunkable) {
      throw new TokenizationError('invalid_request', `offsets are only computed for byte-level BPE tokenizers with an analysed pre-tokenizer (${this.chunking.chunkable ? 'not byte-level' : this.chunking.reason})`);
    }
    const internals = this.tokenizer as unknown as TokenizerInternals;
    const ids: number[] = [];
    const offsets: [number, number][] = [];
    // Sections as the package splits them: added tokens and the text between them.
    const sections = internals.splitter_unnormalized.split(text);
    let pos = 0; // UTF-16 position in text
    let cpPos = 0; // code point position in text
    sections.forEach((section, i) => {
      const cpLen = countCodePoints(section);
      const added = this.addedByContent.get(section);
      if (added) {
        ids.push(added.id);
        offsets.push([cpPos, cpPos + cpLen]);
      } else {
        // The package trims whitespace next to lstrip/rstrip added tokens (JS trimStart/trimEnd).
        const prev = i > 0 ? this.addedByContent.get(sections[i - 1]!) : undefined;
        const next = i + 1 < sections.length ? this.addedByContent.get(sections[i + 1]!) : undefined;
        let body = section;
        let lead = 0;
        if (prev?.rstrip) {
          const trimmed = body.trimStart();
          lead = countCodePoints(body) - countCodePoints(trimmed);
          body = trimmed;
        }
        if (next?.lstrip) body = body.trimEnd();
        if (body.length > 0) this.sectionOffsets(body, cpPos + lead, internals.normalizer, ids, offsets);
      }
      pos += section.length;
      cpPos += cpLen;
    });
    if (pos !== text.length) throw new Error('internal: sections do not cover the text');
    if (this.trimOffsets) trimByteLevelOffsets(ids, offsets, (id) => this.tokenizer.id_to_token(id) ?? '');
    if (addSpecialTokens) {
      const template = this.special;
      if (template === null) throw new TokenizationError('invalid_request', 'offsets with add_special_tokens need a post-processor this lib understands');
      return {
        ids: [...template.prefix, ...ids, ...template.suffix],
        offsets: [...template.prefix.map((): [number, number] => [0, 0]), ...offsets, ...template.suffix.map((): [number, number] => [0, 0])],
      };
    }
    return { ids, offsets };
  }

  private sectionOffsets(section: string, cpBase: number, normalizer: ((t: string) => string) | null, ids: number[], offsets: [number, number][]): void {
    const encoded = this.tokenizer.encode(section, { add_special_tokens: false });
    const normalized = normalizer ? normalizer(section) : section;
    const alignment = normalized === section ? null : nfcAlignment(section, normalized);
    // Code point index of every UTF-8 byte of the normalized section.
    const cpOfByte: number[] = [];
    let cp = 0;
    for (const ch of normalized) {
      const c = ch.codePointAt(0)!;
      const n = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
      for (let i = 0; i < n; i++) cpOfByte.push(cp);
      cp++;
    }
    let byte = 0;
    encoded.tokens.forEach((token, i) => {
      // Byte-level alphabet: one BMP character per byte.
      const start = byte;
      byte += token.length;
      const first = cpOfByte[start];
      const last = cpOfByte[byte - 1];
      if (first === undefined || last === undefined) throw new Error('internal: token bytes exceed the section');
      const from = alignment ? alignment[first]! : first;
      const to = alignment ? alignment[last]! + 1 : last + 1;
      ids.push(encoded.ids[i]!);
      offsets.push([cpBase + from, cpBase + to]);
    });
    if (byte !== cpOfByte.length) throw new Error('internal: token bytes do not cover the section');
  }
}

function countCodePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff || i + 1 >= s.length) n++;
    else {
      const d = s.charCodeAt(i + 1);
      n++;
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
  }
  return n;
}

const COMBINING = /\p{M}/u;

/** Characters that join the NFC unit before them: combining marks and Hangul medial/final jamo. */
function joinsPrevious(c: string): boolean {
  const cp = c.codePointAt(0)!;
  return COMBINING.test(c) || (cp >= 0x1160 && cp <= 0x11ff) || (cp >= 0xd7b0 && cp <= 0xd7ff);
}

/**
 * For each code point of NFC(original), the index of the code point of `original` it aligns with,
 * reproducing HF tokenizers (unicode-normalization-alignments): walking a unit's output in order,
 * a character built from f ≥ 1 original characters aligns with the next unconsumed original
 * character and consumes f of them (so `a + U+0308 + U+0323` → `ạ` aligns with `a`, the left-over
 * U+0308 with U+0323's position); a character that only comes from a decomposition (f = 0) aligns
 * with the previous one.
 */
function nfcAlignment(original: string, normalized: string): number[] {
  const cps = Array.from(original);
  const out: number[] = [];
  let i = 0;
  while (i < cps.length) {
    let j = i + 1;
    while (j < cps.length && joinsPrevious(cps[j]!)) j++;
    const decomposed: { cp: string; first: boolean; used: boolean }[] = [];
    for (let k = i; k < j; k++) Array.from(cps[k]!.normalize('NFD')).forEach((cp, n) => decomposed.push({ cp, first: n === 0, used: false }));
    let cursor = i;
    for (const composed of cps.slice(i, j).join('').normalize('NFC')) {
      let firsts = 0;
      for (const cp of composed.normalize('NFD')) {
        const d = decomposed.find((x) => !x.used && x.cp === cp);
        if (d) {
          d.used = true;
          if (d.first) firsts++;
        }
      }
      if (firsts > 0) {
        out.push(Math.min(cursor, j - 1));
        cursor += firsts;
      } else out.push(Math.max(i, cursor - 1));
    }
    i = j;
  }
  // Units are a heuristic for NFC's boundaries; if they disagree with the real NFC, degrade
  // to a monotone mapping rather than fail (offsets only; ids are unaffected).
  const n = Array.from(normalized).length;
  if (out.length !== n) return Array.from({ length: n }, (_, k) => Math.min(k, cps.length - 1));
  return out;
}

/** ByteLevel post-processor `trim_offsets`: drop leading/trailing encoded spaces ("Ġ") from offsets. */
function trimByteLevelOffsets(ids: number[], offsets: [number, number][], tokenOf: (id: number) => string): void {
  ids.forEach((id, i) => {
    const token = tokenOf(id);
    const cps = Array.from(token);
    let lead = 0;
    while (lead < cps.length && cps[lead] === '\u0120') lead++;
    let trail = 0;
    while (trail < cps.length - lead && cps[cps.length - 1 - trail] === '\u0120') trail++;
    const o = offsets[i]!;
    if (lead > 0) o[0] = Math.min(o[0] + lead, o[1]);
    if (trail > 0 && o[1] >= trail) o[1] = Math.max(o[1] - trail, o[0]);
  });
}
