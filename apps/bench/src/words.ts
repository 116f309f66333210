/**
 * Words the model's tokenizer encodes as exactly one token after a space: the alphabet of the
 * workload's texts, so that a text of n words is n tokens and lengths are exact.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HfModelTokenizer } from '@kvr/tokenization';

export function singleTokenWords(tokenizer: HfModelTokenizer, limit = 2_000): string[] {
  // Byte-level BPE marks a leading space with 'Ġ'; lower-case ASCII words of 3–9 letters read
  // naturally and never merge across the separating spaces.
  const vocab = (JSON.parse(readFileSync(join(tokenizer.source, 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } }).model.vocab;
  const words: string[] = [];
  for (const token of Object.keys(vocab)) {
    if (words.length >= limit) break;
    if (!/^Ġ[a-z]{3,9}$/.test(token)) continue;
    const word = token.slice(1);
    if (tokenizer.tokenize(` ${word}`, { addSpecialTokens: false }).ids.length === 1) words.push(word);
  }
  if (words.length < 100) throw new Error(`only ${words.length} single-token words in ${tokenizer.model}'s vocabulary`);
  return words.sort();
}
