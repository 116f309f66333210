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

import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { compileFunction } from 'node:vm';

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

/**
 * The one change made to `@huggingface/jinja`'s build as it is loaded. Its base value class
 * declares `type` and `value` as class fields, so every runtime value (strings, ints, lists…) is
 * created through one shared field initializer that sees a dozen subclasses. On V8 11 (Node 20)
 * that initializer's property definitions go megamorphic, and a megamorphic class-field definition
 * takes the runtime's slow path: ≈ 400 ns per value instead of ≈ 40, and rendering a ten-message
 * chat with a tool spent 0.4 of its 0.65 ms there (docs/benchmarks.md, "The sixth day").
 * Assignments in the constructor do the same work through the store cache. Nothing else changes:
 * the fields are assigned in the order they were declared, with the same values.
 */
export const JINJA_VALUE_FIELDS_PATCH = {
  from: 'var RuntimeValue = class {\n  type = "RuntimeValue";\n  value;\n',
  to: 'var RuntimeValue = class {\n',
  constructorFrom: '  constructor(value = void 0) {\n    this.value = value;\n  }',
  constructorTo: '  constructor(value = void 0) {\n    this.type = "RuntimeValue";\n    this.value = value;\n  }',
} as const;

/**
 * Loads the jinja CommonJS build with {@link JINJA_VALUE_FIELDS_PATCH} applied. When the build does
 * not contain the expected text exactly once (another version), it is loaded unchanged: same
 * behaviour, only slower; `jinjaPatched` says which, and a test checks it for the pinned version.
 */
function loadJinja(): { module: JinjaModule; patched: boolean } {
  const file = require.resolve('@huggingface/jinja');
  const source = readFileSync(file, 'utf8');
  const patch = JINJA_VALUE_FIELDS_PATCH;
  const start = source.indexOf(patch.from);
  const ctor = source.indexOf(patch.constructorFrom, start);
  const nextDeclaration = source.indexOf('\nvar ', start + 1);
  if (start < 0 || source.indexOf(patch.from, start + 1) >= 0 || ctor < 0 || (nextDeclaration >= 0 && ctor > nextDeclaration)) return { module: require('@huggingface/jinja') as JinjaModule, patched: false };
  const patched = source.slice(0, start) + patch.to + source.slice(start + patch.from.length, ctor) + patch.constructorTo + source.slice(ctor + patch.constructorFrom.length);
  const module = { exports: {} as JinjaModule };
  // The build requires nothing; it runs as Node would run the file, with its own path for stack traces.
  const wrapper = compileFunction(patched, ['exports', 'require', 'module', '__filename', '__dirname'], { filename: file });
  wrapper(module.exports, require, module, file, dirname(file));
  return { module: module.exports, patched: true };
}

const tokenizers = require('@huggingface/tokenizers') as TokenizersModule;
const loadedJinja = loadJinja();
const jinja = loadedJinja.module;
/** Whether the jinja build was loaded with {@link JINJA_VALUE_FIELDS_PATCH}. */
export const jinjaPatched = loadedJinja.patched;

export const HfTokenizer = tokenizers.Tokenizer;
export const Environment = jinja.Environment;
export const { Interpreter, parse, tokenize } = jinja;
