/**
 * Codec for one NATS subject token. A token may not contain `.` (the separator), `*` or `>`
 * (wildcards) or whitespace; model names (`Qwen/Qwen3-32B`, `org/m:v1.5`) and pod ids
 * (`10.0.0.1:8000`) routinely contain `.`. We escape as little as possible so that subjects stay
 * readable in `nats stream view`:
 *
 *  - `[A-Za-z0-9_-/:@+=,]` stay as they are;
 *  - every other character becomes `~XX` per UTF-8 byte (upper-case hex), `~` itself included;
 *  - the empty string becomes a lone `~` (never produced otherwise, since `~` is always followed
 *    by two hex digits).
 *
 * e.g. `10.0.0.1:8000` → `10~2E0~2E0~2E1:8000`, `Qwen/Qwen3-32B` → `Qwen/Qwen3-32B`.
 * The mapping is a bijection on strings: `decodeSubjectToken(encodeSubjectToken(s)) === s`.
 */
const SAFE = /^[A-Za-z0-9_\-/:@+=,]$/;

export function encodeSubjectToken(value: string): string {
  if (value === '') return '~';
  let out = '';
  for (const char of value) {
    if (SAFE.test(char)) {
      out += char;
      continue;
    }
    for (const byte of Buffer.from(char, 'utf8')) out += `~${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export class SubjectTokenError extends Error {
  override readonly name = 'SubjectTokenError';
}

export function decodeSubjectToken(token: string): string {
  if (token === '~') return '';
  const bytes: number[] = [];
  for (let i = 0; i < token.length; ) {
    const char = token[i] as string;
    if (char === '~') {
      const hex = token.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(hex)) throw new SubjectTokenError(`bad escape at ${i} in subject token "${token}"`);
      bytes.push(parseInt(hex, 16));
      i += 3;
      continue;
    }
    if (!SAFE.test(char)) throw new SubjectTokenError(`character "${char}" is not allowed unescaped in subject token "${token}"`);
    bytes.push(char.charCodeAt(0));
    i += 1;
  }
  return Buffer.from(bytes).toString('utf8');
}
