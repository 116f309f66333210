/**
 * JSON as Python reads and writes it, for the few places where a chat template turns request data
 * back into text (`tool | tojson`, `{{ value }}`): vLLM parses the request with Python's `json`
 * module and the template prints with `json.dumps` / `str()`, so numbers and key order must survive
 * the way they survive in Python, not the way `JSON.parse` + `JSON.stringify` treat them.
 *
 * Differences this module exists for (CPython 3.x `json`, `float.__repr__`):
 * - `1.0` stays a float in Python and prints as `1.0`; JavaScript has one number type and prints
 *   `1`. {@link PyFloat} marks such values.
 * - integers beyond 2^53 stay exact in Python; they parse to `bigint` here.
 * - object keys keep document order in Python; JavaScript objects move integer-like keys
 *   (`"10"`, `"2"`) to the front, so such objects parse to a `Map`.
 * - `json.loads` accepts `NaN`, `Infinity`, `-Infinity`.
 * Pure: no I/O.
 */

/** A Python `float` whose JavaScript number is integral or non-finite (`1.0`, `-0.0`, `1e300`, `NaN`). */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** A JSON object parsed with {@link parsePythonJson}: a plain object unless key order needs a `Map`. */
export type PyJsonObject = Record<string, unknown> | Map<string, unknown>;

const INTEGER_LIKE_KEY = /^(0|[1-9][0-9]*)$/;

/**
 * Parses JSON text the way Python's `json.loads` does, keeping what a template could print:
 * float-ness of integral floats ({@link PyFloat}), exact big integers (`bigint`), and key order
 * (`Map` for objects whose keys JavaScript would reorder). Other values are plain JS values, so
 * the result is still usable as ordinary request data. Throws `SyntaxError` on malformed input.
 */
export function parsePythonJson(text: string): unknown {
  const parser = new JsonParser(text);
  parser.skipWhitespace();
  const value = parser.parseValue();
  parser.skipWhitespace();
  if (parser.pos !== text.length) parser.fail('extra data');
  return value;
}

class JsonParser {
  pos = 0;
  constructor(private readonly text: string) {}

  fail(what: string): never {
    throw new SyntaxError(`invalid JSON at offset ${this.pos}: ${what}`);
  }

  skipWhitespace(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      // Python's json accepts exactly these four whitespace characters.
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.pos++;
      else break;
    }
  }

  parseValue(): unknown {
    const t = this.text;
    const c = t[this.pos];
    switch (c) {
      case '{':
        return this.parseObject();
      case '[':
        return this.parseArray();
      case '"':
        return this.parseString();
      case 't':
        return this.literal('true', true);
      case 'f':
        return this.literal('false', false);
      case 'n':
        return this.literal('null', null);
      case 'N':
        return this.literal('NaN', new PyFloat(Number.NaN));
      case 'I':
        return this.literal('Infinity', new PyFloat(Number.POSITIVE_INFINITY));
      default:
        if (c === '-' && t.startsWith('-Infinity', this.pos)) return this.literal('-Infinity', new PyFloat(Number.NEGATIVE_INFINITY));
        return this.parseNumber();
    }
  }

  private literal<T>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) this.fail(`expected ${word}`);
    this.pos += word.length;
    return value;
  }

  private parseNumber(): number | bigint | PyFloat {
    const match = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;
    match.lastIndex = this.pos;
    const m = match.exec(this.text);
    if (!m) this.fail('expected a value');
    this.pos += m[0].length;
    const isFloat = m[1] !== undefined || m[2] !== undefined;
    if (!isFloat) {
      const n = Number(m[0]);
      return Number.isSafeInteger(n) ? n : BigInt(m[0]);
    }
    const n = Number(m[0]);
    return Number.isInteger(n) || !Number.isFinite(n) ? new PyFloat(n) : n;
  }

  private parseString(): string {
    const t = this.text;
    this.pos++; // opening quote
    let out = '';
    let runStart = this.pos;
    for (;;) {
      if (this.pos >= t.length) this.fail('unterminated string');
      const c = t.charCodeAt(this.pos);
      if (c === 0x22) {
        out += t.slice(runStart, this.pos);
        this.pos++;
        return out;
      }
      if (c < 0x20) this.fail('control character in string');
      if (c !== 0x5c) {
        this.pos++;
        continue;
      }
      out += t.slice(runStart, this.pos);
      const e = t[this.pos + 1];
      this.pos += 2;
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          const hex = t.slice(this.pos, this.pos + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('bad \\u escape');
          out += String.fromCharCode(parseInt(hex, 16));
          this.pos += 4;
          break;
        }
        default:
          this.fail('bad escape');
      }
      runStart = this.pos;
    }
  }

  private parseArray(): unknown[] {
    this.pos++;
    const out: unknown[] = [];
    this.skipWhitespace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipWhitespace();
      out.push(this.parseValue());
      this.skipWhitespace();
      const c = this.text[this.pos++];
      if (c === ']') return out;
      if (c !== ',') this.fail("expected ',' or ']'");
    }
  }

  private parseObject(): PyJsonObject {
    this.pos++;
    const entries: [string, unknown][] = [];
    this.skipWhitespace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return {};
    }
    for (;;) {
      this.skipWhitespace();
      if (this.text[this.pos] !== '"') this.fail('expected a key');
      const key = this.parseString();
      this.skipWhitespace();
      if (this.text[this.pos++] !== ':') this.fail("expected ':'");
      this.skipWhitespace();
      entries.push([key, this.parseValue()]);
      this.skipWhitespace();
      const c = this.text[this.pos++];
      if (c === '}') break;
      if (c !== ',') this.fail("expected ',' or '}'");
    }
    // Duplicate keys: Python keeps the first position and the last value; Map.set does the same.
    if (entries.some(([k]) => INTEGER_LIKE_KEY.test(k))) return new Map(entries);
    const obj: Record<string, unknown> = {};
    for (const [k, v] of entries) {
      // defineProperty: a "__proto__" key is data in Python, not a prototype switch.
      Object.defineProperty(obj, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
    return obj;
  }
}

/** `repr(float)` / `str(float)` of CPython (shortest round-trip digits, `1e+16` / `1e-05` style). */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Number.POSITIVE_INFINITY) return 'inf';
  if (x === Number.NEGATIVE_INFINITY) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // toExponential() without an argument yields the shortest digits that round-trip, as repr does.
  const exp = x.toExponential();
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(exp);
  if (!m) return String(x);
  const sign = m[1]!;
  const digits = m[2]! + (m[3] ?? '');
  const e10 = Number(m[4]);
  // CPython float_repr_style 'short': scientific when the decimal exponent is < -4 or >= 16.
  if (e10 < -4 || e10 >= 16) {
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const expAbs = Math.abs(e10);
    return `${sign}${mantissa}e${e10 < 0 ? '-' : '+'}${expAbs < 10 ? '0' : ''}${expAbs}`;
  }
  if (e10 < 0) return `${sign}0.${'0'.repeat(-e10 - 1)}${digits}`;
  if (digits.length <= e10 + 1) return `${sign}${digits}${'0'.repeat(e10 + 1 - digits.length)}.0`;
  return `${sign}${digits.slice(0, e10 + 1)}.${digits.slice(e10 + 1)}`;
}

/** `json.dumps(float)`: like repr, but non-finite values use JavaScript-style names. */
export function pyJsonFloat(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Number.POSITIVE_INFINITY) return 'Infinity';
  if (x === Number.NEGATIVE_INFINITY) return '-Infinity';
  return pyFloatRepr(x);
}

const JSON_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

/**
 * A JSON string literal as `json.dumps(s, ensure_ascii=...)` writes it. With ensure_ascii every
 * character outside printable ASCII (space..`~`) becomes `\uXXXX` (UTF-16 units, lower-case hex),
 * like CPython's `ESCAPE_ASCII`; without it only `"`, `\` and control characters are escaped.
 */
export function pyJsonString(s: string, ensureAscii: boolean): string {
  // eslint-disable-next-line no-control-regex -- json.dumps escapes exactly the C0 control characters
  const pattern = ensureAscii ? /[\\"]|[^ -~]/g : /[\\"\u0000-\u001f]/g;
  return `"${s.replace(pattern, (c) => JSON_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}"`;
}

// str.isprintable(): false for categories Cc, Cf, Cs, Co, Cn, Zl, Zp and Zs except the space.
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]|(?! )\p{Zs}/u;

/** `repr(str)` of CPython 3: quote choice, backslash escapes, `\xhh`/`\uhhhh`/`\Uhhhhhhhh`. */
export function pyStrRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (NON_PRINTABLE.test(ch)) {
      const cp = ch.codePointAt(0)!;
      if (cp < 0x100) out += `\\x${cp.toString(16).padStart(2, '0')}`;
      else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, '0')}`;
      else out += `\\U${cp.toString(16).padStart(8, '0')}`;
    } else out += ch;
  }
  return out + quote;
}
