/**
 * A small, strict reader of the Prometheus text exposition format (version 0.0.4), enough for
 * the gauges a vLLM pod exposes. Pure: no I/O, no dependencies.
 *
 *   # HELP / # TYPE / any other `#` line       skipped
 *   name{label="value",…} value [timestamp]    one sample
 *
 * Label values may contain `\\`, `\"` and `\n` escapes (any other escape is an error); values are
 * floats as Prometheus writes them, `NaN`, `+Inf` and `-Inf` included; the optional timestamp is
 * an integer in milliseconds. A line that does not fit is reported with its number and the reason
 * and skipped; the other lines still count.
 */

export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** Milliseconds since the epoch, when the line carries one. */
  readonly timestampMs: number | undefined;
}

export interface PromParseError {
  /** 1-based line number. */
  readonly line: number;
  /** The offending line, cut at 200 characters. */
  readonly text: string;
  readonly reason: string;
}

export interface PromParseResult {
  readonly samples: PromSample[];
  readonly errors: PromParseError[];
}

export interface PromParseOptions {
  /**
   * Only these metric names are parsed; every other sample line is skipped unread (its name
   * is the only thing looked at, so a malformed line of another metric is not reported). A
   * vLLM /metrics page is mostly histograms the load scorer does not need.
   */
  readonly names?: ReadonlySet<string>;
}

/** [a-zA-Z_:] and [a-zA-Z0-9_:] by char code: the name scan runs over every line of every scrape. */
const isNameStart = (c: number): boolean => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 58;
const isNameChar = (c: number): boolean => isNameStart(c) || (c >= 48 && c <= 57);
const LABEL_START = /[a-zA-Z_]/;
const LABEL_CHAR = /[a-zA-Z0-9_]/;
const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const TIMESTAMP = /^-?\d+$/;

class LineError extends Error {}

/** The value token as Prometheus writes it (Go ParseFloat spellings of NaN and infinities too). */
export function parsePromValue(token: string): number | undefined {
  if (FLOAT.test(token)) return Number(token);
  const lower = token.toLowerCase();
  if (lower === 'nan') return Number.NaN;
  if (lower === '+inf' || lower === 'inf' || lower === '+infinity' || lower === 'infinity') return Number.POSITIVE_INFINITY;
  if (lower === '-inf' || lower === '-infinity') return Number.NEGATIVE_INFINITY;
  return undefined;
}

const isBlank = (c: string | undefined): boolean => c === ' ' || c === '\t';

/** Parses one sample line (not a comment, not blank). Throws LineError with the reason. */
function parseSampleLine(line: string, name: string, nameEnd: number): PromSample {
  let i = nameEnd;
  const labels: Record<string, string> = Object.create(null) as Record<string, string>;
  const skipBlanks = (): void => {
    while (isBlank(line[i])) i++;
  };
  let brace = i;
  while (isBlank(line[brace])) brace++;
  if (line[brace] === '{') {
    i = brace + 1;
    for (;;) {
      skipBlanks();
      if (line[i] === '}') {
        i++;
        break;
      }
      const start = i;
      if (!LABEL_START.test(line[i] ?? '')) throw new LineError(`bad label name at column ${i + 1}`);
      while (LABEL_CHAR.test(line[i] ?? '')) i++;
      const labelName = line.slice(start, i);
      skipBlanks();
      if (line[i] !== '=') throw new LineError(`expected "=" after label ${labelName}`);
      i++;
      skipBlanks();
      if (line[i] !== '"') throw new LineError(`expected a quoted value for label ${labelName}`);
      i++;
      let value = '';
      for (;;) {
        const c = line[i];
        if (c === undefined) throw new LineError(`unterminated value of label ${labelName}`);
        if (c === '"') {
          i++;
          break;
        }
        if (c === '\\') {
          const next = line[i + 1];
          if (next === '\\') value += '\\';
          else if (next === '"') value += '"';
          else if (next === 'n') value += '\n';
          else throw new LineError(`invalid escape "\\${next ?? ''}" in label ${labelName}`);
          i += 2;
          continue;
        }
        value += c;
        i++;
      }
      if (labelName in labels) throw new LineError(`duplicate label ${labelName}`);
      labels[labelName] = value;
      skipBlanks();
      if (line[i] === ',') {
        i++;
        continue;
      }
      if (line[i] === '}') {
        i++;
        break;
      }
      throw new LineError(`expected "," or "}" after label ${labelName}`);
    }
    if (i < line.length && !isBlank(line[i])) throw new LineError(`expected a blank before the value at column ${i + 1}`);
  }
  const rest = line.slice(i).trim();
  if (rest === '') throw new LineError('no value');
  const tokens = rest.split(/[ \t]+/);
  if (tokens.length > 2) throw new LineError('unexpected text after the timestamp');
  const value = parsePromValue(tokens[0] as string);
  if (value === undefined) throw new LineError(`bad value "${tokens[0] ?? ''}"`);
  let timestampMs: number | undefined;
  if (tokens.length === 2) {
    const ts = tokens[1] as string;
    if (!TIMESTAMP.test(ts) || !Number.isSafeInteger(Number(ts))) throw new LineError(`bad timestamp "${ts}"`);
    timestampMs = Number(ts);
  }
  return { name, labels: { ...labels }, value, timestampMs };
}

/** Parses a whole exposition. Never throws: bad lines are in `errors`. */
export function parsePrometheusText(text: string, options: PromParseOptions = {}): PromParseResult {
  const samples: PromSample[] = [];
  const errors: PromParseError[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    let line = lines[n] as string;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    let start = 0;
    while (isBlank(line[start])) start++;
    if (start === line.length || line[start] === '#') continue;
    if (start > 0) line = line.slice(start);
    const report = (reason: string): void => {
      errors.push({ line: n + 1, text: line.length > 200 ? `${line.slice(0, 200)}…` : line, reason });
    };
    if (!isNameStart(line.charCodeAt(0))) {
      report('bad metric name');
      continue;
    }
    let nameEnd = 1;
    while (nameEnd < line.length && isNameChar(line.charCodeAt(nameEnd))) nameEnd++;
    const name = line.slice(0, nameEnd);
    if (options.names && !options.names.has(name)) continue;
    const next = line[nameEnd];
    if (next !== undefined && next !== '{' && !isBlank(next)) {
      report(`bad character "${next}" in metric name`);
      continue;
    }
    try {
      samples.push(parseSampleLine(line, name, nameEnd));
    } catch (err) {
      if (!(err instanceof LineError)) throw err;
      report(err.message);
    }
  }
  return { samples, errors };
}
