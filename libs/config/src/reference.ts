import { fieldsOf, sectionOf, leafTypeOf, type SchemaClass } from './describe';
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
