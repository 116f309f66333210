import { parseArgs } from 'node:util';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  description: string;
  /** Shown in help; the value itself comes from config defaults, not from here. */
  placeholder?: string;
  multiple?: boolean;
}

export interface CommandSpec {
  /** Full command, e.g. `kvctl status`. */
  name: string;
  summary: string;
  /** Positional arguments, in order. */
  positionals?: { name: string; description: string; optional?: boolean }[];
  options: Record<string, OptionSpec>;
  /** Extra help paragraphs (examples, notes). */
  details?: string;
}

export type ParsedValues = Record<string, string | boolean | string[] | boolean[] | undefined>;

export interface ParsedCommand {
  values: ParsedValues;
  positionals: string[];
  /** True when `--help`/`-h` was given: print `helpText(spec)` and exit 0. */
  help: boolean;
}

/** A bad command line: print the message and the help, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Parses argv against a spec (strict: unknown flags are usage errors). `--help` is implicit. */
export function parseCommand(spec: CommandSpec, argv: readonly string[]): ParsedCommand {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const [name, option] of Object.entries(spec.options)) {
    options[name] = { type: option.type, ...(option.short ? { short: option.short } : {}), ...(option.multiple ? { multiple: true } : {}) };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message.replace(/\. To specify a positional.*$/s, '') : String(err));
  }
  const help = parsed.values['help'] === true;
  const required = (spec.positionals ?? []).filter((p) => !p.optional).length;
  const allowed = (spec.positionals ?? []).length;
  if (!help && parsed.positionals.length < required) {
    throw new UsageError(`missing argument <${spec.positionals?.[parsed.positionals.length]?.name ?? 'arg'}>`);
  }
  if (!help && parsed.positionals.length > allowed) {
    throw new UsageError(`unexpected argument "${parsed.positionals[allowed] ?? ''}"`);
  }
  const { help: _help, ...values } = parsed.values;
  return { values: values as ParsedValues, positionals: parsed.positionals, help };
}

/** Help text in the usual layout: usage line, summary, arguments, options. */
export function helpText(spec: CommandSpec): string {
  const positionals = (spec.positionals ?? []).map((p) => (p.optional ? `[${p.name}]` : `<${p.name}>`)).join(' ');
  const lines = [`Usage: ${spec.name}${positionals ? ` ${positionals}` : ''} [options]`, '', spec.summary];
  if (spec.positionals && spec.positionals.length > 0) {
    lines.push('', 'Arguments:');
    for (const p of spec.positionals) lines.push(`  ${p.name.padEnd(24)}${p.description}`);
  }
  lines.push('', 'Options:');
  const rows: [string, string][] = Object.entries(spec.options).map(([name, option]) => [
    `${option.short ? `-${option.short}, ` : '    '}--${name}${option.type === 'string' ? ` ${option.placeholder ?? 'VALUE'}` : ''}`,
    option.description,
  ]);
  rows.push(['-h, --help', 'Show this help']);
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  for (const [flag, description] of rows) lines.push(`  ${flag.padEnd(width)}${description}`);
  if (spec.details) lines.push('', spec.details);
  return `${lines.join('\n')}\n`;
}

/** Where a command-line flag goes in an app's config. */
export interface FlagTarget {
  /** Config field path, e.g. `['kvEvents', 'port']`. */
  readonly path: readonly string[];
  /** Read the flag as a number (a non-numeric value stays a string, so validation names the flag). */
  readonly number?: boolean;
  /** Or turn the flag's text into the config value some other way. */
  readonly map?: (text: string) => unknown;
}

/**
 * Config overrides from string flags, for `loadConfig({ overrides, overrideLabels })`: nested
 * objects by path, and labels that make validation errors name the flag (`--zmq-port`).
 */
export function configOverrides(values: ParsedValues, flags: Readonly<Record<string, FlagTarget>>): { overrides: Record<string, unknown>; labels: Record<string, string> } {
  const overrides: Record<string, unknown> = {};
  const labels: Record<string, string> = {};
  for (const [flag, target] of Object.entries(flags)) {
    const text = values[flag];
    if (typeof text !== 'string') continue;
    let node = overrides;
    for (const part of target.path.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
    const numeric = target.number === true && text.trim() !== '' && !Number.isNaN(Number(text));
    node[target.path[target.path.length - 1] as string] = target.map ? target.map(text) : numeric ? Number(text) : text;
    labels[target.path.join('.')] = `--${flag}`;
  }
  return { overrides, labels };
}
