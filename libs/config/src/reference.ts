import { fieldsOf, sectionOf, leafTypeOf, type SchemaClass } from './describe';
import { APP_SCHEMAS } from './schemas/registry';
import { envNameFor } from './load';

export interface ReferenceRow {
  /** Dotted path as used in YAML, e.g. `nats.url`. */
  path: string;
  env: string;
  type: string;
  /** JSON of the default, or empty when there is none. Secrets show `(secret)`. */
  defaultValue: string;
  doc: string;
}

/** Every leaf field of a schema with its env variable, type, default and description. */
export function configReference(schema: SchemaClass): ReferenceRow[] {
  const rows: ReferenceRow[] = [];
  walk(schema, new schema() as Record<string, unknown>, [], rows);
  return rows;
}

function walk(schema: SchemaClass, defaults: Record<string, unknown>, prefix: string[], rows: ReferenceRow[]): void {
  for (const field of fieldsOf(schema)) {
    const path = [...prefix, field.key];
    const section = sectionOf(schema, field.key);
    const value = defaults[field.key];
    if (section) {
      walk(section, (value ?? new section()) as Record<string, unknown>, path, rows);
      continue;
    }
    const type = leafTypeOf(schema, field.key, value) as { name?: string } | undefined;
    rows.push({
      path: path.join('.'),
      env: envNameFor(path),
      type: (type?.name ?? 'unknown').toLowerCase(),
      defaultValue: field.secret ? '(secret)' : value === undefined ? '' : JSON.stringify(value),
      doc: field.doc,
    });
  }
}

/** Markdown table of `configReference(schema)`, for docs and `--help`. */
export function configReferenceMarkdown(schema: SchemaClass): string {
  const lines = ['| Field | Env | Type | Default | Description |', '|---|---|---|---|---|'];
  for (const row of configReference(schema)) {
    const cell = (text: string): string => text.replace(/\|/g, '\\|');
    lines.push(`| \`${row.path}\` | \`${row.env}\` | ${row.type} | ${row.defaultValue ? `\`${cell(row.defaultValue)}\`` : ''} | ${cell(row.doc)} |`);
  }
  return lines.join('\n');
}

/** A copy of a loaded config with every `secret` field replaced by `"***"`, safe to log. */
export function redactConfig<T extends object>(schema: SchemaClass<T>, config: T): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const source = config as Record<string, unknown>;
  for (const field of fieldsOf(schema)) {
    const value = source[field.key];
    const section = sectionOf(schema, field.key);
    if (section && value && typeof value === 'object') out[field.key] = redactConfig(section, value);
    else if (field.secret && value !== undefined && value !== '') out[field.key] = '***';
    else out[field.key] = typeof value === 'string' ? redactUrlPassword(value) : value;
  }
  return out;
}

/** `redis://user:pw@host` → `redis://user:***@host`; anything else unchanged. */
export function redactUrlPassword(text: string): string {
  return text
    .split(',')
    .map((part) => {
      try {
        const url = new URL(part.trim());
        if (!url.password) return part;
        url.password = '***';
        return url.toString();
      } catch {
        return part;
      }
    })
    .join(',');
}

/** The whole of docs/configuration.md: how config is layered, then one table per app. */
export function configurationDoc(schemas: Readonly<Record<string, SchemaClass>> = APP_SCHEMAS): string {
  const parts = [
    '# Configuration',
    '',
    '<!-- Generated from libs/config (npm run docs:config); a unit test fails when this file is stale. -->',
    '',
    'Every app builds one typed config object at start, from (lowest to highest precedence):',
    '',
    '1. the defaults below;',
    '2. a YAML file given with `--config FILE` (or `KVR_CONFIG`), keys in camelCase, sections as maps;',
    '3. `KVR_*` environment variables: a field `nats.url` is `KVR_NATS__URL`, `blockSize` is',
    '   `KVR_BLOCK_SIZE`; numbers, booleans (`true/false/1/0/yes/no`), lists (comma-separated or JSON)',
    '   are converted by the field type;',
    '4. command-line flags, where an app has them.',
    '',
    'The result is validated once. Invalid configuration stops the app before it starts anything,',
    'with exit code 2 and **every** problem listed, each naming where the bad value came from:',
    '',
    '```',
    'invalid configuration for kvctl (2 problems):',
    '  - redis (from KVR_REDIS): redis must be a URL with scheme redis:// or rediss://',
    '  - gatway (from ./kvctl.yaml): unknown setting',
    '```',
    '',
    '`npx kvr config <app> [--config FILE]` runs the same validation and prints the effective values',
    'with secrets redacted. Credentials (fields marked secret, passwords inside URLs) never appear in',
    'logs. Tracing is configured only by the standard `OTEL_*` variables and is off unless an OTLP',
    'endpoint or exporter is set.',
    '',
  ];
  for (const [app, schema] of Object.entries(schemas)) {
    parts.push(`## ${app}`, '', configReferenceMarkdown(schema), '');
  }
  return parts.join('\n');
}
