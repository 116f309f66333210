/**
 * The two pinned third-party packages this lib is built on, loaded through their CommonJS builds,
 * with the small typed surface this lib uses.
 *
 * Both packages declare `"type": "module"`, so their typings are ES-module typings: TypeScript
 * refuses a plain `import` from this CommonJS code (TS1479), and their extension-less relative
 * imports do not resolve under node16 rules (types degrade to `any`). Each ships a CJS build under
 * the `require` export condition, which is what `require` loads here; the interfaces below state
 * the parts this lib relies on (checked by the tests against the pinned versions).
 *
 * - `@huggingface/tokenizers@0.2.0`: pure-JS HF tokenizer (BPE, pre-tokenizers, post-processors).
 * - `@huggingface/jinja@0.5.11`: Jinja interpreter for chat templates (see jinja-python.ts).
 */

/** The part of `@huggingface/tokenizers`' `Tokenizer` this lib uses. */
export interface HfTokenizer {
  encode(text: string, options?: { add_special_tokens?: boolean }): { ids: number[]; tokens: string[] };
  decode(ids: number[], options?: { skip_special_tokens?: boolean }): string;
  token_to_id(token: string): number | undefined;
  id_to_token(id: number): string | undefined;
}

/** `@huggingface/jinja`'s variable scope. */
export interface Environment {
  set(name: string, value: unknown): unknown;
  setVariable(name: string, value: unknown): unknown;
  lookupVariable(name: string): unknown;
}

interface TokenizersModule {
  Tokenizer: new (tokenizerJson: object, tokenizerConfig: object) => HfTokenizer;
}

interface JinjaModule {
  Environment: new (parent?: Environment) => Environment;
  Interpreter: new (env?: Environment) => { run(program: unknown): unknown };
  tokenize(source: string, options?: { lstrip_blocks?: boolean; trim_blocks?: boolean }): unknown[];
  parse(tokens: unknown[]): unknown;
}

const tokenizers = require('@huggingface/tokenizers') as TokenizersModule;
const jinja = require('@huggingface/jinja') as JinjaModule;

export const HfTokenizer = tokenizers.Tokenizer;
export const Environment = jinja.Environment;
export const { Interpreter, parse, tokenize } = jinja;
