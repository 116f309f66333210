/**
 * A faster encoder for the byte-level BPE configurations chunking.ts has analysed (Qwen2/Qwen3,
 * Llama-3 style), used instead of `@huggingface/tokenizers`' own encode for the text between
 * added tokens. Same pipeline and semantics as the package and HF tokenizers:
 * added-token split (the package's splitter) → NFC → the package's compiled Split regex →
 * UTF-8 bytes → BPE (repeatedly merge the adjacent pair with the lowest merge rank, leftmost on
 * ties) → ids. What differs is representation: merges are looked up by integer id pairs in an
 * open-addressing table instead of `JSON.stringify([a, b])` string keys (the package spends most
 * of its time there and in Map misses on text with few repeated words), and a word cache maps
 * pre-tokens straight to ids.
 *
 * Built only when every precondition holds ({@link FastBpe.create} says why not otherwise);
 * `fast-bpe.spec.ts` proves ids equal to the package and to HF Rust tokenizers on a corpus.
 * Pure: no I/O.
 */

import { detachedString } from './detached-string';

type Json = Record<string, unknown>;

/** The package's Tokenizer internals this module reads (pinned @huggingface/tokenizers 0.2.0). */
interface PackageTokenizer {
  splitter_unnormalized: { split(text: string): string[] };
  added_tokens_map: Map<string, { id: number; lstrip: boolean; rstrip: boolean }>;
  pre_tokenizer: { tokenizers?: { pattern?: unknown }[] } | null;
}

function obj(v: unknown): Json | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null;
}

/** GPT-2's byte → printable character table. */
function byteChars(): string[] {
  const table = new Array<string>(256);
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let n = 0;
  for (let b = 0; b < 256; b++) if (printable(b)) table[b] = String.fromCharCode(b);
  for (let b = 0; b < 256; b++) if (!printable(b)) table[b] = String.fromCharCode(256 + n++);
  return table;
}

/**
 * Open-addressing map (left id, right id) → merge rank: one Int32Array of [left, right, rank]
 * triples, so a probe touches one cache line (three parallel arrays cost three misses per probe
 * on a 150k-merge table).
 */
class MergeTable {
  private readonly slots: Int32Array;
  private readonly mask: number;

  constructor(size: number) {
    let capacity = 1024;
    while (capacity < size * 2) capacity *= 2;
    this.slots = new Int32Array(capacity * 3).fill(-1);
    this.mask = capacity - 1;
  }

  private slot(a: number, b: number): number {
    return (Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77)) >>> 0;
  }

  /** Later duplicates overwrite earlier ones (the last duplicate merge wins, as in the package). */
  set(a: number, b: number, rank: number): void {
    const slots = this.slots;
    let i = this.slot(a, b) & this.mask;
    while (slots[i * 3] !== -1 && !(slots[i * 3] === a && slots[i * 3 + 1] === b)) i = (i + 1) & this.mask;
    slots[i * 3] = a;
    slots[i * 3 + 1] = b;
    slots[i * 3 + 2] = rank;
  }

  /** Merge rank of (a, b), or -1. */
  get(a: number, b: number): number {
    const slots = this.slots;
    let i = this.slot(a, b) & this.mask;
    for (;;) {
      const at = i * 3;
      const l = slots[at]!;
      if (l === -1) return -1;
      if (l === a && slots[at + 1] === b) return slots[at + 2]!;
      i = (i + 1) & this.mask;
    }
  }
}

/** Rank of a pair that does not merge: above every real rank, so "lowest rank" scans need no special case. */
const NO_MERGE = 0x7fffffff;

const LINEAR_MAX = 48;
const WORD_CACHE_GENERATION = 50_000;

export class FastBpe {
  private readonly byteIds: Int32Array;
  private readonly merges: MergeTable;
  private readonly mergeResult: Int32Array;
  /** Merge rank of every byte pair (b1 * 256 + b2), NO_MERGE when none: a word's first pairs, from a 256 KB table instead of the 6 MB one. */
  private readonly bytePairRanks: Int32Array;
  private readonly vocab: Map<string, number>;
  /** `pattern` anchored at lastIndex (flag y), for the allocation-free `test` of encodePieces. */
  private readonly stickyPattern: RegExp;
  private young = new Map<string, number[]>();
  private old = new Map<string, number[]>();

  private constructor(
    private readonly tokenizer: PackageTokenizer,
    private readonly pattern: RegExp,
    private readonly nfc: boolean,
    private readonly ignoreMerges: boolean,
    vocab: Map<string, number>,
    byteIds: Int32Array,
    merges: MergeTable,
    mergeResult: Int32Array,
  ) {
    this.vocab = vocab;
    this.stickyPattern = new RegExp(pattern.source, pattern.flags.replace('g', '') + 'y');
    this.byteIds = byteIds;
    this.merges = merges;
    this.mergeResult = mergeResult;
    this.bytePairRanks = new Int32Array(256 * 256);
    for (let b1 = 0; b1 < 256; b1++) {
      for (let b2 = 0; b2 < 256; b2++) this.bytePairRanks[b1 * 256 + b2] = this.rankOf(byteIds[b1]!, byteIds[b2]!);
    }
  }

  /**
   * Builds the fast encoder, or explains why the package's encode must be used. Preconditions:
   * chunking.ts accepted the configuration (`chunkable`), all 256 byte characters and every merge
   * result are in the vocabulary, no byte fallback / unk / suffixes, no added token that is also a
   * vocabulary entry with another id (the package would map such BPE output to the added id).
   */
  static create(tokenizerJson: Json, packageTokenizer: unknown, chunkable: boolean): FastBpe | { reason: string } {
    if (!chunkable) return { reason: 'configuration not analysed' };
    const model = obj(tokenizerJson['model']);
    if (!model) return { reason: 'no model' };
    if (model['byte_fallback'] === true) return { reason: 'byte_fallback' };
    if (model['continuing_subword_prefix'] || model['end_of_word_suffix']) return { reason: 'subword prefix/suffix' };
    const tok = packageTokenizer as PackageTokenizer;
    const pattern = tok.pre_tokenizer?.tokenizers?.[0]?.pattern;
    if (!(pattern instanceof RegExp) || !pattern.global) return { reason: 'package pre-tokenizer regex not found' };
    if (!tok.splitter_unnormalized || !(tok.added_tokens_map instanceof Map)) return { reason: 'package internals changed' };

    const vocabJson = obj(model['vocab']);
    if (!vocabJson) return { reason: 'no vocab' };
    const vocab = new Map<string, number>();
    for (const [k, v] of Object.entries(vocabJson)) if (typeof v === 'number') vocab.set(k, v);
    for (const [content, added] of tok.added_tokens_map) {
      const id = vocab.get(content);
      if (id !== undefined && id !== added.id) return { reason: `added token ${JSON.stringify(content)} shadows vocabulary id ${id}` };
    }
    const chars = byteChars();
    const byteIds = new Int32Array(256);
    for (let b = 0; b < 256; b++) {
      const id = vocab.get(chars[b]!);
      if (id === undefined) return { reason: `byte ${b} has no token` };
      byteIds[b] = id;
    }
    const list = Array.isArray(model['merges']) ? (model['merges'] as unknown[]) : [];
    const table = new MergeTable(list.length);
    const mergeResult = new Int32Array(list.length);
    for (let i = 0; i < list.length; i++) {
      const m = list[i];
      // The package splits string merges with split(" ", 2); do the same.
      const pair = Array.isArray(m) ? m : typeof m === 'string' ? m.split(' ', 2) : null;
      const a = pair ? vocab.get(String(pair[0])) : undefined;
      const b = pair ? vocab.get(String(pair[1])) : undefined;
      const r = pair ? vocab.get(String(pair[0]) + String(pair[1])) : undefined;
      if (a === undefined || b === undefined || r === undefined) return { reason: `merge ${i} refers to tokens outside the vocabulary` };
      table.set(a, b, i);
      mergeResult[i] = r;
    }
    const normalizer = obj(tokenizerJson['normalizer']);
    return new FastBpe(tok, new RegExp(pattern.source, pattern.flags), normalizer?.['type'] === 'NFC', model['ignore_merges'] === true, vocab, byteIds, table, mergeResult);
  }

  /** Forgets cached words (benchmarks of first-sight cost; memory pressure). */
  clearWordCache(): void {
    this.young = new Map();
    this.old = new Map();
  }

  /** Ids of `text` without special tokens added, exactly as the package's encode returns them. */
  encode(text: string): number[] {
    const out: number[] = [];
    const sections = this.tokenizer.splitter_unnormalized.split(text);
    const added = this.tokenizer.added_tokens_map;
    for (let i = 0; i < sections.length; i++) {
      const section = sections[i]!;
      const token = added.get(section);
      if (token) {
        out.push(token.id);
        continue;
      }
      let body = section;
      // The package trims (JS trimStart/trimEnd) next to rstrip/lstrip added tokens.
      if (i > 0 && added.get(sections[i - 1]!)?.rstrip) body = body.trimStart();
      if (i + 1 < sections.length && added.get(sections[i + 1]!)?.lstrip) body = body.trimEnd();
      if (body.length === 0) continue;
      if (this.nfc) body = body.normalize('NFC');
      this.encodePieces(body, out);
    }
    return out;
  }

  /**
   * Pre-tokenizes `text` and encodes each piece. The patterns analysed in chunking.ts match every
   * character (letters, numbers, other symbols and whitespace each have an alternative), so each
   * piece starts where the previous one ended: a sticky `test` finds its end without the match
   * array `exec` allocates (about 120 bytes per piece, the largest garbage of an encode). Where
   * the sticky match fails (a gap, not expected for those patterns), the global `exec` finds the
   * next match and the gap is encoded as a word of its own, as before.
   */
  private encodePieces(text: string, out: number[]): void {
    const sticky = this.stickyPattern;
    const n = text.length;
    let at = 0;
    while (at < n) {
      sticky.lastIndex = at;
      if (sticky.test(text) && sticky.lastIndex > at) {
        const end = sticky.lastIndex;
        this.encodeWord(text.slice(at, end), out);
        at = end;
        continue;
      }
      const re = this.pattern;
      re.lastIndex = at;
      const m = re.exec(text);
      if (m === null || m[0].length === 0) {
        // No further non-empty match here: the rest (up to the next match) is one word.
        const next = m === null ? n : Math.max(m.index, at + 1);
        this.encodeWord(text.slice(at, next), out);
        at = next;
        continue;
      }
      if (m.index > at) this.encodeWord(text.slice(at, m.index), out);
      this.encodeWord(m[0], out);
      at = m.index + m[0].length;
    }
  }

  private encodeWord(word: string, out: number[]): void {
    let ids = this.young.get(word);
    if (ids === undefined) {
      ids = this.old.get(word);
      if (ids === undefined) ids = this.bpeWord(word);
      this.young.set(detachedString(word), ids);
      if (this.young.size >= WORD_CACHE_GENERATION) {
        this.old = this.young;
        this.young = new Map();
      }
    }
    for (let i = 0; i < ids.length; i++) out.push(ids[i]!);
  }

  /**
   * Scratch space of the word being merged, reused from word to word (encoding is synchronous):
   * new words are most of a random-token prompt, and per-word arrays were most of its garbage.
   */
  private bytes = new Uint8Array(256);
  private ids = new Int32Array(LINEAR_MAX);
  private ranks = new Int32Array(LINEAR_MAX);

  private bpeWord(word: string): number[] {
    if (this.bytes.length < word.length * 3) this.bytes = new Uint8Array(word.length * 3);
    const bytes = this.bytes;
    const n = utf8Into(word, bytes);
    if (this.ignoreMerges && n > 1) {
      let s = '';
      const chars = BYTE_CHARS;
      for (let i = 0; i < n; i++) s += chars[bytes[i]!];
      const whole = this.vocab.get(s);
      if (whole !== undefined) return [whole];
    }
    if (n > LINEAR_MAX) {
      const ids = new Array<number>(n);
      for (let i = 0; i < n; i++) ids[i] = this.byteIds[bytes[i]!]!;
      return this.mergeHeap(ids);
    }
    const ids = this.ids;
    const ranks = this.ranks;
    const pairs = this.bytePairRanks;
    for (let i = 0; i < n; i++) ids[i] = this.byteIds[bytes[i]!]!;
    for (let i = 0; i + 1 < n; i++) ranks[i] = pairs[bytes[i]! * 256 + bytes[i + 1]!]!;
    return this.mergeLinear(n);
  }

  /**
   * Short words (the first `n` of `this.ids`, their pair ranks in `this.ranks`): rescan for the
   * lowest-ranked pair after each merge.
   */
  private mergeLinear(n: number): number[] {
    const ids = this.ids;
    const ranks = this.ranks;
    while (n > 1) {
      let at = -1;
      let best = NO_MERGE;
      for (let i = 0; i + 1 < n; i++) {
        const r = ranks[i]!;
        if (r < best) {
          best = r;
          at = i;
        }
      }
      if (at < 0) break;
      ids[at] = this.mergeResult[best]!;
      // Drop ids[at + 1] and the merged pair's rank: everything after moves down one.
      for (let i = at + 1; i + 1 < n; i++) ids[i] = ids[i + 1]!;
      for (let i = at; i + 2 < n; i++) ranks[i] = ranks[i + 1]!;
      n--;
      if (at > 0) ranks[at - 1] = this.rankOf(ids[at - 1]!, ids[at]!);
      if (at + 1 < n) ranks[at] = this.rankOf(ids[at]!, ids[at + 1]!);
    }
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) out[i] = ids[i]!;
    return out;
  }

  /** Long words (e.g. whitespace runs): a heap of (rank, position), stale entries skipped. */
  private mergeHeap(input: number[]): number[] {
    const n = input.length;
    const id = Int32Array.from(input);
    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    const alive = new Uint8Array(n).fill(1);
    for (let i = 0; i < n; i++) {
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
    }
    const heap: number[] = [];
    const SHIFT = 2 ** 26; // positions < 2^26; key = rank * 2^26 + pos stays below 2^53
    const push = (pos: number) => {
      const nx = next[pos]!;
      if (nx < 0) return;
      const r = this.rankOf(id[pos]!, id[nx]!);
      if (r === NO_MERGE) return;
      heapPush(heap, r * SHIFT + pos);
    };
    for (let i = 0; i + 1 < n; i++) push(i);
    while (heap.length > 0) {
      const key = heapPop(heap);
      const rank = Math.floor(key / SHIFT);
      const pos = key - rank * SHIFT;
      const nx = next[pos]!;
      if (!alive[pos] || nx < 0 || this.rankOf(id[pos]!, id[nx]!) !== rank) continue;
      id[pos] = this.mergeResult[rank]!;
      alive[nx] = 0;
      const after = next[nx]!;
      next[pos] = after;
      if (after >= 0) prev[after] = pos;
      if (prev[pos]! >= 0) push(prev[pos]!);
      push(pos);
    }
    const out: number[] = [];
    for (let i = 0; i >= 0; i = next[i]!) out.push(id[i]!);
    return out;
  }

  private rankOf(a: number, b: number): number {
    const r = this.merges.get(a, b);
    return r < 0 ? NO_MERGE : r;
  }
}

const BYTE_CHARS = byteChars();

/**
 * UTF-8 bytes of a string into `out` (at least 3 bytes per UTF-16 unit), returning the count;
 * lone surrogates become U+FFFD, as the WHATWG TextEncoder does.
 */
function utf8Into(s: string, out: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out[n++] = c;
      continue;
    }
    if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6);
      out[n++] = 0x80 | (c & 0x3f);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        out[n++] = 0xf0 | (cp >> 18);
        out[n++] = 0x80 | ((cp >> 12) & 0x3f);
        out[n++] = 0x80 | ((cp >> 6) & 0x3f);
        out[n++] = 0x80 | (cp & 0x3f);
        i++;
        continue;
      }
      c = 0xfffd;
    }
    out[n++] = 0xe0 | (c >> 12);
    out[n++] = 0x80 | ((c >> 6) & 0x3f);
    out[n++] = 0x80 | (c & 0x3f);
  }
  return n;
}

function heapPush(heap: number[], value: number): void {
  let i = heap.length;
  heap.push(value);
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (heap[parent]! <= value) break;
    heap[i] = heap[parent]!;
    i = parent;
  }
  heap[i] = value;
}

function heapPop(heap: number[]): number {
  const top = heap[0]!;
  const last = heap.pop()!;
  if (heap.length > 0) {
    let i = 0;
    const n = heap.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && heap[r]! < heap[l]! ? r : l;
      if (heap[c]! >= last) break;
      heap[i] = heap[c]!;
      i = c;
    }
    heap[i] = last;
  }
  return top;
}
