import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { leafTypeOf, fieldsOf, sectionOf, type SchemaClass } from './describe';
import { ConfigError } from './errors';

/** Environment variables with this prefix may set config fields. */
export const ENV_PREFIX = 'KVR_';

/**
 * `KVR_*` variables that are not config fields of any app (tooling, test harness), and so are
 * never reported as unknown.
 */
const NON_CONFIG_ENV = /^KVR_(CONFIG|TEST_RUN_DIR|PROTO_DIR|NO_BUILD|LOG_LEVEL|[A-Z_]+_BIN)$/;

export interface LoadConfigOptions {
  /** App name, used in error messages. */
  app: string;
  /** YAML file to read (fields in camelCase, sections as maps). */
  file?: string;
  /** Environment to read `KVR_*` overrides from. @default process.env */
  env?: NodeJS.ProcessEnv;
  /**
   * Highest-precedence values, e.g. from command-line flags: a nested plain object keyed like the
   * YAML file. `labels` names where each top-level key came from (e.g. `--nats`), for errors.
   */
  overrides?: Record<string, unknown>;
  overrideLabels?: Record<string, string>;
}

export interface LoadedConfig<T> {
  /** The validated, frozen config. */
  config: T;
  /** `KVR_*` variables that matched no field of this app's schema (worth a warning log). */
  ignoredEnv: string[];
}

/** Optional cross-field rules: return one message per violated rule. */
export interface CrossFieldRules {
  crossFieldProblems(): string[];
}

/**
 * Builds one typed config object from (lowest to highest precedence) the schema's defaults, a YAML
 * file, `KVR_*` environment variables and explicit overrides, then validates it with
 * class-validator. Every problem found anywhere is collected into one `ConfigError`.
 *
 * Environment mapping: a field path `nats.url` is `KVR_NATS__URL`; `blockSize` is
 * `KVR_BLOCK_SIZE` (`__` separates sections, `_` separates words). Values are coerced by the
 * field's declared type: numbers, booleans (`true/false/1/0/yes/no`), arrays (JSON or
 * comma-separated), objects (JSON).
 */
export function loadConfig<T extends object>(schema: SchemaClass<T>, options: LoadConfigOptions): LoadedConfig<T> {
  const problems: string[] = [];
  const sources = new Map<string, string>();
  let merged: Record<string, unknown> = toPlain(new schema());

  if (options.file) {
    const fromFile = readYaml(options.file, problems);
    if (fromFile) {
      merged = deepMerge(merged, fromFile);
      recordSources(fromFile, [], options.file, sources);
    }
  }

  const { values: fromEnv, ignored } = readEnv(schema, options.env ?? process.env, problems, sources);
  merged = deepMerge(merged, fromEnv);

  if (options.overrides) {
    merged = deepMerge(merged, options.overrides);
    for (const [key, label] of Object.entries(options.overrideLabels ?? {})) sources.set(key, label);
  }

  const instance = plainToInstance(schema, merged);
  const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
  for (const line of flattenErrors(errors, [], sources)) problems.push(line);

  if (problems.length === 0 && hasCrossFieldRules(instance)) problems.push(...instance.crossFieldProblems());
  if (problems.length > 0) throw new ConfigError(options.app, problems);
  return { config: deepFreeze(instance), ignoredEnv: ignored };
}

/** The environment variable that sets a field path, e.g. `['nats', 'url']` → `KVR_NATS__URL`. */
export function envNameFor(path: readonly string[]): string {
  return ENV_PREFIX + path.map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('__');
}

function readYaml(file: string, problems: string[]): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    problems.push(`${file}: cannot read config file (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    return undefined;
  }
  try {
    const parsed: unknown = parseYaml(text);
    if (parsed === null || parsed === undefined) return {};
    if (typeof parsed !== 'object' || Array.isArray(parsed)) {
      problems.push(`${file}: the top level must be a map of settings`);
      return undefined;
    }
    return parsed as Record<string, unknown>;
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` line ${err.linePos[0].line}` : '';
    problems.push(`${file}${where}: invalid YAML: ${(err as Error).message.split('\n')[0]}`);
    return undefined;
  }
}

interface EnvResult {
  values: Record<string, unknown>;
  ignored: string[];
}

function readEnv(schema: SchemaClass, env: NodeJS.ProcessEnv, problems: string[], sources: Map<string, string>): EnvResult {
  const known = new Map<string, { path: string[]; type: unknown; items: 'string' | 'number' }>();
  collectLeaves(schema, [], known);
  const values: Record<string, unknown> = {};
  const ignored: string[] = [];
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || raw === undefined) continue;
    const leaf = known.get(name);
    if (!leaf) {
      if (!NON_CONFIG_ENV.test(name)) ignored.push(name);
      continue;
    }
    const coerced = coerce(raw, leaf.type, leaf.items);
    if (!coerced.ok) {
      problems.push(`${leaf.path.join('.')} (from ${name}): ${coerced.message}`);
      continue;
    }
    setPath(values, leaf.path, coerced.value);
    sources.set(leaf.path.join('.'), name);
  }
  return { values, ignored: ignored.sort() };
}

function collectLeaves(
  schema: SchemaClass,
  prefix: string[],
  out: Map<string, { path: string[]; type: unknown; items: 'string' | 'number' }>,
): void {
  const defaults = new schema() as Record<string, unknown>;
  for (const field of fieldsOf(schema)) {
    const path = [...prefix, field.key];
    const section = sectionOf(schema, field.key);
    if (section) collectLeaves(section, path, out);
    else out.set(envNameFor(path), { path, type: leafTypeOf(schema, field.key, defaults[field.key]), items: field.items ?? 'string' });
  }
}

type Coerced = { ok: true; value: unknown } | { ok: false; message: string };

function coerce(raw: string, type: unknown, items: 'string' | 'number'): Coerced {
  const text = raw.trim();
  if (type === Number) {
    const value = Number(text);
    return text !== '' && Number.isFinite(value) ? { ok: true, value } : { ok: false, message: `'${raw}' is not a number` };
  }
  if (type === Boolean) {
    const lower = text.toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(lower)) return { ok: true, value: true };
    if (['false', '0', 'no', 'off'].includes(lower)) return { ok: true, value: false };
    return { ok: false, message: `'${raw}' is not a boolean (use true or false)` };
  }
  if (type === Array) {
    if (text.startsWith('[')) return parseJson(text);
    const parts = text === '' ? [] : text.split(',').map((part) => part.trim());
    if (items === 'number') {
      const numbers = parts.map(Number);
      return numbers.every(Number.isFinite) ? { ok: true, value: numbers } : { ok: false, message: `'${raw}' is not a list of numbers` };
    }
    return { ok: true, value: parts };
  }
  if (type === Object) return parseJson(text);
  return { ok: true, value: raw };
}

function parseJson(text: string): Coerced {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, message: `'${text}' is not valid JSON` };
  }
}

function flattenErrors(errors: readonly ValidationError[], prefix: string[], sources: Map<string, string>): string[] {
  const lines: string[] = [];
  for (const error of errors) {
    const path = [...prefix, error.property];
    const dotted = path.join('.');
    const source = sources.get(dotted) ?? sources.get(path[0] ?? '');
    const where = source ? ` (from ${source})` : '';
    for (const [rule, message] of Object.entries(error.constraints ?? {})) {
      lines.push(rule === 'whitelistValidation' ? `${dotted}${where}: unknown setting` : `${dotted}${where}: ${message}`);
    }
    if (error.children && error.children.length > 0) lines.push(...flattenErrors(error.children, path, sources));
  }
  return lines;
}

function hasCrossFieldRules(value: object): value is CrossFieldRules {
  return typeof (value as Partial<CrossFieldRules>).crossFieldProblems === 'function';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function toPlain(value: object): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    node = isPlainObject(next) ? next : (node[key] = {});
  }
  node[path[path.length - 1] as string] = value;
}

function recordSources(value: Record<string, unknown>, prefix: string[], label: string, sources: Map<string, string>): void {
  for (const [key, child] of Object.entries(value)) {
    const path = [...prefix, key];
    sources.set(path.join('.'), label);
    if (isPlainObject(child)) recordSources(child, path, label, sources);
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
