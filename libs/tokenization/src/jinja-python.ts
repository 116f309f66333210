/**
 * Chat templates rendered with `@huggingface/jinja@0.5.11`, corrected to behave like Python
 * jinja2 3.1 inside the environment transformers builds (`_compile_jinja_template`:
 * `ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[AssistantTracker,
 * loopcontrols])`, `tojson` = `json.dumps(ensure_ascii=False, indent, separators, sort_keys)`,
 * `raise_exception`, `strftime_now`).
 *
 * Why a subclass and not the package's `Template`: the package diverges from Python where it
 * matters for byte-exact prompts (checked against /usr/bin/python3 jinja2 in
 * `jinja-python.spec.ts`), e.g. `s.strip('\n')` ignores its argument and strips all whitespace,
 * `{{ true }}` prints `true` (Python: `True`), `{{ none }}` prints nothing (Python: `None`),
 * `tojson` prints `1.0` as `1` and sorts keys with `localeCompare`, `length` counts UTF-16 units,
 * `==` is JavaScript's loose equality. {@link PyInterpreter} overrides exactly those paths and
 * delegates everything else to the package.
 *
 * The package exports its interpreter but not its value classes, so they are taken from values the
 * public `Environment.set` creates ({@link RT}); the pinned version is checked at load.
 * Pure: no I/O.
 */
import { Environment, Interpreter, parse, tokenize } from './vendor';
import { PyFloat, pyFloatRepr, pyJsonFloat, pyJsonString, pyStrRepr } from './py-json';

// ---------------------------------------------------------------------------------------------
// Runtime value classes of @huggingface/jinja, recovered from instances.

/** Shape of a @huggingface/jinja runtime value (package-internal `RuntimeValue`). */
export interface RuntimeValue {
  type: string;
  value: unknown;
  readonly builtins: ReadonlyMap<string, RuntimeValue>;
  __bool__(): { value: boolean };
  toString(): string;
}
type RuntimeCtor = new (value?: unknown) => RuntimeValue;
type NativeFn = (args: RuntimeValue[], env: Environment) => RuntimeValue;

function harvestRuntimeClasses() {
  const env = new Environment();
  let n = 0;
  const ctorOf = (value: unknown, expected: string): RuntimeCtor => {
    const rv = env.set(`__kvr_probe_${n++}`, value) as unknown as RuntimeValue;
    if (rv.type !== expected) {
      throw new Error(`@huggingface/jinja internals changed: expected ${expected}, got ${rv.type} (pinned 0.5.11)`);
    }
    return rv.constructor as RuntimeCtor;
  };
  const Integer = ctorOf(1, 'IntegerValue');
  const namespaceFn = env.lookupVariable('namespace') as unknown as { value: NativeFn };
  const namespace = namespaceFn.value([], env);
  if (namespace.type !== 'NamespaceValue') throw new Error('@huggingface/jinja internals changed: namespace()');
  return {
    Integer,
    Float: ctorOf(1.5, 'FloatValue'),
    String: ctorOf('', 'StringValue'),
    Boolean: ctorOf(true, 'BooleanValue'),
    Null: ctorOf(null, 'NullValue'),
    Undefined: ctorOf(undefined, 'UndefinedValue'),
    Array: ctorOf([], 'ArrayValue'),
    Object: ctorOf({}, 'ObjectValue'),
    Function: ctorOf(() => null, 'FunctionValue'),
    Namespace: namespace.constructor as RuntimeCtor,
    Base: Object.getPrototypeOf(Integer) as RuntimeCtor,
  };
}

/** The package's runtime value constructors. */
export const RT = harvestRuntimeClasses();

/** An integer outside ±2^53 (from {@link parsePythonJson}), printed exactly. */
class BigIntegerValue extends RT.Integer {
  constructor(readonly exact: bigint) {
    super(Number(exact));
  }
}

const str = (s: string): RuntimeValue => new RT.String(s);
const bool = (b: boolean): RuntimeValue => new RT.Boolean(b);
const int = (n: number): RuntimeValue => new RT.Integer(n);
const fn = (f: NativeFn): RuntimeValue => new RT.Function(f);

/** Converts request data (plain JS, `Map`, {@link PyFloat}, `bigint`) into runtime values. */
export function toRuntime(value: unknown): RuntimeValue {
  if (value instanceof RT.Base) return value;
  switch (typeof value) {
    case 'string':
      return str(value);
    case 'boolean':
      return bool(value);
    case 'number':
      return Number.isInteger(value) ? int(value) : new RT.Float(value);
    case 'bigint':
      return new BigIntegerValue(value);
    case 'undefined':
      return new RT.Undefined();
    case 'function':
      return fn((args) => toRuntime((value as (...a: unknown[]) => unknown)(...args.map((a) => a.value)) ?? null));
    case 'object': {
      if (value === null) return new RT.Null();
      if (value instanceof PyFloat) return new RT.Float(value.value);
      if (Array.isArray(value)) return new RT.Array(value.map(toRuntime));
      const entries: [string, RuntimeValue][] = [];
      const source = value instanceof Map ? value.entries() : Object.entries(value as Record<string, unknown>);
      for (const [k, v] of source) entries.push([String(k), toRuntime(v)]);
      return new RT.Object(new Map(entries));
    }
    default:
      throw new TypeError(`cannot hand a ${typeof value} to a chat template`);
  }
}

// ---------------------------------------------------------------------------------------------
// Python str()/repr()/json.dumps of runtime values.

function isType(v: RuntimeValue, ...types: string[]): boolean {
  return types.includes(v.type);
}

function entriesOf(v: RuntimeValue): [string, RuntimeValue][] {
  return [...(v.value as Map<string, RuntimeValue>).entries()];
}

/** `str(value)` as jinja2 prints `{{ value }}` (Undefined prints as the empty string). */
export function pyStr(v: RuntimeValue): string {
  switch (v.type) {
    case 'StringValue':
      return v.value as string;
    case 'UndefinedValue':
      return '';
    default:
      return pyRepr(v);
  }
}

/** `repr(value)`, used inside printed containers. */
export function pyRepr(v: RuntimeValue): string {
  switch (v.type) {
    case 'StringValue':
      return pyStrRepr(v.value as string);
    case 'IntegerValue':
      return v instanceof BigIntegerValue ? v.exact.toString() : String(v.value);
    case 'FloatValue':
      return pyFloatRepr(v.value as number);
    case 'BooleanValue':
      return v.value ? 'True' : 'False';
    case 'NullValue':
      return 'None';
    case 'UndefinedValue':
      return '';
    case 'TupleValue': {
      const items = (v.value as RuntimeValue[]).map(pyRepr);
      return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
    }
    case 'ArrayValue':
      return `[${(v.value as RuntimeValue[]).map(pyRepr).join(', ')}]`;
    case 'ObjectValue':
    case 'KeywordArgumentsValue':
      return `{${entriesOf(v)
        .map(([k, x]) => `${pyStrRepr(k)}: ${pyRepr(x)}`)
        .join(', ')}}`;
    case 'NamespaceValue':
      return `<Namespace {${entriesOf(v)
        .map(([k, x]) => `${pyStrRepr(k)}: ${pyRepr(x)}`)
        .join(', ')}}>`;
    default:
      return String(v);
  }
}

interface DumpOptions {
  ensureAscii: boolean;
  indent: string | null;
  itemSep: string;
  keySep: string;
  sortKeys: boolean;
}

/** `json.dumps(value, ensure_ascii, indent, separators, sort_keys)` over runtime values. */
function pyJsonDumps(v: RuntimeValue, o: DumpOptions, depth: number): string {
  switch (v.type) {
    case 'StringValue':
      return pyJsonString(v.value as string, o.ensureAscii);
    case 'IntegerValue':
      return v instanceof BigIntegerValue ? v.exact.toString() : String(v.value);
    case 'FloatValue':
      return pyJsonFloat(v.value as number);
    case 'BooleanValue':
      return v.value ? 'true' : 'false';
    case 'NullValue':
      return 'null';
    case 'ArrayValue':
    case 'TupleValue': {
      const items = v.value as RuntimeValue[];
      if (items.length === 0) return '[]';
      if (o.indent === null) return `[${items.map((x) => pyJsonDumps(x, o, depth + 1)).join(o.itemSep)}]`;
      const inner = `\n${o.indent.repeat(depth + 1)}`;
      return `[${inner}${items.map((x) => pyJsonDumps(x, o, depth + 1)).join(o.itemSep + inner)}\n${o.indent.repeat(depth)}]`;
    }
    case 'ObjectValue':
    case 'KeywordArgumentsValue':
    case 'NamespaceValue': {
      let entries = entriesOf(v);
      if (v.type === 'NamespaceValue') throw new TypeError('Object of type Namespace is not JSON serializable');
      if (entries.length === 0) return '{}';
      // Python sorts str keys by code point; JS `<` on strings compares UTF-16 units, which
      // agrees except across the surrogate range, so compare code point arrays to be exact.
      if (o.sortKeys) entries = entries.sort(([a], [b]) => compareCodePoints(a, b));
      const parts = entries.map(([k, x]) => `${pyJsonString(k, o.ensureAscii)}${o.keySep}${pyJsonDumps(x, o, depth + 1)}`);
      if (o.indent === null) return `{${parts.join(o.itemSep)}}`;
      const inner = `\n${o.indent.repeat(depth + 1)}`;
      return `{${inner}${parts.join(o.itemSep + inner)}\n${o.indent.repeat(depth)}}`;
    }
    case 'UndefinedValue':
      throw new TypeError('Object of type Undefined is not JSON serializable');
    default:
      throw new TypeError(`Object of type ${v.type} is not JSON serializable`);
  }
}

function compareCodePoints(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0)!);
  const y = Array.from(b, (c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

/** Python `==` between runtime values (numbers across int/float/bool, containers element-wise). */
function pyEquals(a: RuntimeValue, b: RuntimeValue): boolean {
  const numeric = (v: RuntimeValue) => isType(v, 'IntegerValue', 'FloatValue', 'BooleanValue');
  if (numeric(a) && numeric(b)) return Number(a.value) === Number(b.value);
  if (a.type === 'StringValue' && b.type === 'StringValue') return a.value === b.value;
  if (a.type === 'NullValue' || b.type === 'NullValue') return a.type === b.type;
  if (a.type === 'UndefinedValue' || b.type === 'UndefinedValue') return a.type === b.type;
  if (isType(a, 'ArrayValue', 'TupleValue') && isType(b, 'ArrayValue', 'TupleValue')) {
    const x = a.value as RuntimeValue[];
    const y = b.value as RuntimeValue[];
    return a.type === b.type && x.length === y.length && x.every((item, i) => pyEquals(item, y[i]!));
  }
  if (a.type === 'ObjectValue' && b.type === 'ObjectValue') {
    const x = a.value as Map<string, RuntimeValue>;
    const y = b.value as Map<string, RuntimeValue>;
    if (x.size !== y.size) return false;
    for (const [k, v] of x) {
      const w = y.get(k);
      if (w === undefined || !pyEquals(v, w)) return false;
    }
    return true;
  }
  return a === b;
}

// ---------------------------------------------------------------------------------------------
// Python str methods and filters that the package gets wrong.

/** Characters `str.isspace()` accepts (differs from JS `\s`: adds \x1c-\x1f and \x85, drops \ufeff). */
const PY_WHITESPACE = new Set(
  Array.from('\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000'),
);

function pyStrip(s: string, chars: string | null, left: boolean, right: boolean): string {
  const strip = chars === null ? (c: string) => PY_WHITESPACE.has(c) : (c: string) => chars.includes(c);
  const cps = Array.from(s);
  let start = 0;
  let end = cps.length;
  if (left) while (start < end && strip(cps[start]!)) start++;
  if (right) while (end > start && strip(cps[end - 1]!)) end--;
  return cps.slice(start, end).join('');
}

const CASED = /[\p{Lu}\p{Ll}\p{Lt}]/u;

/** `str.title()`: upper-case after a non-cased character, lower-case after a cased one. */
function pyTitle(s: string): string {
  let prevCased = false;
  let out = '';
  for (const c of s) {
    out += prevCased ? c.toLowerCase() : c.toUpperCase();
    prevCased = CASED.test(c);
  }
  return out;
}

function pyCapitalize(s: string): string {
  const cps = Array.from(s);
  if (cps.length === 0) return '';
  return cps[0]!.toUpperCase() + cps.slice(1).join('').toLowerCase();
}

/** jinja2's `title` filter (not str.title): capitalizes the pieces split at `[-\s({\[<]+`. */
function jinjaTitleFilter(s: string): string {
  return s
    .split(/([-\s({[<]+)/u)
    .filter((item) => item.length > 0)
    .map((item) => pyCapitalize(item))
    .join('');
}

function stringArg(args: RuntimeValue[], i: number, name: string): string | null {
  const a = args[i];
  if (a === undefined || a.type === 'NullValue' || a.type === 'KeywordArgumentsValue') return null;
  if (a.type !== 'StringValue') throw new TypeError(`${name} arg must be None or str`);
  return a.value as string;
}

function cpIndex(s: string, utf16Index: number): number {
  return utf16Index < 0 ? -1 : Array.from(s.slice(0, utf16Index)).length;
}

function pyCount(s: string, sub: string): number {
  if (sub === '') return Array.from(s).length + 1;
  let n = 0;
  for (let i = s.indexOf(sub); i !== -1; i = s.indexOf(sub, i + sub.length)) n++;
  return n;
}

/** Python methods on `str` that the package lacks or implements differently. */
const STRING_METHODS: Record<string, (s: string, args: RuntimeValue[]) => RuntimeValue> = {
  strip: (s, a) => str(pyStrip(s, stringArg(a, 0, 'strip'), true, true)),
  lstrip: (s, a) => str(pyStrip(s, stringArg(a, 0, 'lstrip'), true, false)),
  rstrip: (s, a) => str(pyStrip(s, stringArg(a, 0, 'rstrip'), false, true)),
  capitalize: (s) => str(pyCapitalize(s)),
  title: (s) => str(pyTitle(s)),
  count: (s, a) => int(pyCount(s, stringArg(a, 0, 'count') ?? '')),
  find: (s, a) => int(cpIndex(s, s.indexOf(stringArg(a, 0, 'find') ?? ''))),
  rfind: (s, a) => int(cpIndex(s, s.lastIndexOf(stringArg(a, 0, 'rfind') ?? ''))),
  removeprefix: (s, a) => {
    const p = stringArg(a, 0, 'removeprefix') ?? '';
    return str(p && s.startsWith(p) ? s.slice(p.length) : s);
  },
  removesuffix: (s, a) => {
    const p = stringArg(a, 0, 'removesuffix') ?? '';
    return str(p && s.endsWith(p) ? s.slice(0, s.length - p.length) : s);
  },
  isspace: (s) => bool(s.length > 0 && Array.from(s).every((c) => PY_WHITESPACE.has(c))),
  isdigit: (s) => bool(/^\p{Nd}+$/u.test(s)),
  isalpha: (s) => bool(/^\p{L}+$/u.test(s)),
  isalnum: (s) => bool(/^[\p{L}\p{N}]+$/u.test(s)),
  join: (s, a) => {
    const items = a[0];
    if (!items || !isType(items, 'ArrayValue', 'TupleValue')) throw new TypeError('can only join an iterable');
    return str(
      (items.value as RuntimeValue[])
        .map((x) => {
          if (x.type !== 'StringValue') throw new TypeError(`sequence item: expected str instance, ${x.type} found`);
          return x.value as string;
        })
        .join(s),
    );
  },
};

// Statement nodes evaluate to NullValue without printing; expressions that yield None print "None".
const STATEMENT_TYPES = new Set(['Set', 'If', 'For', 'Macro', 'CallStatement', 'FilterStatement', 'Break', 'Continue', 'Comment', 'Program']);

interface AstNode {
  type: string;
  [key: string]: unknown;
}

/** The package's interpreter with its private methods made visible to the subclass. */
interface InterpreterInternals {
  run(program: unknown): RuntimeValue;
  evaluate(node: AstNode | undefined, env: Environment): RuntimeValue;
  evaluateBlock(statements: AstNode[], env: Environment): RuntimeValue;
  evaluateBinaryExpression(node: AstNode, env: Environment): RuntimeValue;
  applyFilter(operand: RuntimeValue, filter: AstNode, env: Environment): RuntimeValue;
  evaluateMemberExpression(expr: AstNode, env: Environment): RuntimeValue;
  evaluateTestExpression(node: AstNode, env: Environment): RuntimeValue;
  evaluateArguments(args: AstNode[], env: Environment): [RuntimeValue[], Map<string, RuntimeValue>];
}
const InterpreterBase = Interpreter as unknown as new (env: Environment) => InterpreterInternals;

/** A node wrapping an already evaluated value, so delegation does not evaluate an operand twice. */
const EVALUATED = '__kvr_evaluated__';

class PyInterpreter extends InterpreterBase {
  override evaluate(node: AstNode | undefined, env: Environment): RuntimeValue {
    // The package evaluates absent slice bounds as undefined nodes.
    if (node?.type === EVALUATED) return node['value'] as RuntimeValue;
    return super.evaluate(node, env);
  }


  override evaluateBlock(statements: AstNode[], env: Environment): RuntimeValue {
    let out = '';
    for (const statement of statements) {
      const value = this.evaluate(statement, env);
      if (STATEMENT_TYPES.has(statement.type)) {
        if (value.type !== 'NullValue' && value.type !== 'UndefinedValue') out += pyStr(value);
      } else {
        out += pyStr(value);
      }
    }
    return str(out);
  }

  override evaluateBinaryExpression(node: AstNode, env: Environment): RuntimeValue {
    const op = (node['operator'] as { value: string }).value;
    if (op === '==' || op === '!=' || op === '~' || op === 'in' || op === 'not in') {
      const left = this.evaluate(node['left'] as AstNode, env);
      const right = this.evaluate(node['right'] as AstNode, env);
      if (op === '~') return str(pyStr(left) + pyStr(right));
      if (op === '==' || op === '!=') return bool(pyEquals(left, right) === (op === '=='));
      if (isType(right, 'ArrayValue', 'TupleValue')) {
        const found = (right.value as RuntimeValue[]).some((x) => pyEquals(x, left));
        return bool(found === (op === 'in'));
      }
      return super.evaluateBinaryExpression({ type: node.type, operator: node['operator'], left: evaluated(left), right: evaluated(right) }, env);
    }
    return super.evaluateBinaryExpression(node, env);
  }

  override evaluateMemberExpression(expr: AstNode, env: Environment): RuntimeValue {
    const object = this.evaluate(expr['object'] as AstNode, env);
    if (object.type === 'StringValue') {
      const s = object.value as string;
      const property = expr['property'] as AstNode;
      if (!expr['computed'] && property.type === 'Identifier') {
        const method = STRING_METHODS[property['value'] as string];
        if (method) return fn((args) => method(s, args));
      } else if (expr['computed'] && property.type !== 'SliceExpression') {
        const key = this.evaluate(property, env);
        if (key.type === 'IntegerValue') {
          // Python indexes code points, not UTF-16 units.
          const cps = Array.from(s);
          const i = key.value as number;
          const c = cps[i < 0 ? cps.length + i : i];
          return c === undefined ? new RT.Undefined() : str(c);
        }
        return super.evaluateMemberExpression(memberOf(expr, object, evaluated(key)), env);
      }
    }
    return super.evaluateMemberExpression(memberOf(expr, object, expr['property'] as AstNode), env);
  }

  override evaluateTestExpression(node: AstNode, env: Environment): RuntimeValue {
    const name = (node['test'] as { value: string }).value;
    if (name === 'iterable' || name === 'number') {
      const v = this.evaluate(node['operand'] as AstNode, env);
      const result =
        name === 'iterable'
          ? isType(v, 'ArrayValue', 'TupleValue', 'StringValue', 'ObjectValue')
          : isType(v, 'IntegerValue', 'FloatValue', 'BooleanValue');
      return bool(node['negate'] ? !result : result);
    }
    return super.evaluateTestExpression(node, env);
  }

  override applyFilter(operand: RuntimeValue, filter: AstNode, env: Environment): RuntimeValue {
    const call = filter.type === 'CallExpression' ? filter : null;
    const callee = call ? (call['callee'] as AstNode) : filter;
    const name = callee.type === 'Identifier' ? (callee['value'] as string) : '';
    const [args, kwargs] = call ? this.evaluateArguments(call['args'] as AstNode[], env) : [[], new Map<string, RuntimeValue>()];
    switch (name) {
      case 'tojson':
        return str(tojson(operand, args, kwargs));
      case 'string':
        return str(pyStr(operand));
      case 'length':
      case 'count':
        if (operand.type === 'StringValue') return int(Array.from(operand.value as string).length);
        if (isType(operand, 'ObjectValue', 'NamespaceValue')) return int((operand.value as Map<string, unknown>).size);
        break;
      case 'capitalize':
        if (operand.type === 'StringValue') return str(pyCapitalize(operand.value as string));
        break;
      case 'title':
        if (operand.type === 'StringValue') return str(jinjaTitleFilter(operand.value as string));
        break;
      case 'trim':
        if (operand.type === 'StringValue') return str(pyStrip(operand.value as string, stringArg(args, 0, 'trim'), true, true));
        break;
      case 'first':
      case 'last':
      case 'list':
      case 'reverse':
        if (operand.type === 'StringValue') {
          const cps = Array.from(operand.value as string);
          if (name === 'first') return cps.length ? str(cps[0]!) : new RT.Undefined();
          if (name === 'last') return cps.length ? str(cps[cps.length - 1]!) : new RT.Undefined();
          if (name === 'list') return new RT.Array(cps.map(str));
          return str(cps.reverse().join(''));
        }
        break;
      case 'join':
        if (isType(operand, 'ArrayValue', 'TupleValue') && !kwargs.has('attribute')) {
          const sep = args[0] ?? kwargs.get('d');
          return str((operand.value as RuntimeValue[]).map(pyStr).join(sep ? pyStr(sep) : ''));
        }
        break;
      default:
        break;
    }
    return super.applyFilter(operand, filter, env);
  }
}

function evaluated(value: RuntimeValue): AstNode {
  return { type: EVALUATED, value };
}

/**
 * `expr` with its object already evaluated, for the package's member access (which reads `object`,
 * `property` and `computed`). A literal, not `{ ...expr, object }`: on V8 11 (Node 20) every
 * spread-then-extended object gets a hidden class of its own, and this runs for every `x.y` a
 * template evaluates.
 */
function memberOf(expr: AstNode, object: RuntimeValue, property: AstNode): AstNode {
  return { type: expr.type, object: evaluated(object), property, computed: expr['computed'] };
}

/** transformers' `tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)`. */
function tojson(operand: RuntimeValue, args: RuntimeValue[], kwargs: Map<string, RuntimeValue>): string {
  const arg = (i: number, name: string): RuntimeValue | undefined => kwargs.get(name) ?? args[i];
  const ensureAscii = arg(0, 'ensure_ascii')?.__bool__().value ?? false;
  const indentArg = arg(1, 'indent');
  let indent: string | null = null;
  if (indentArg && indentArg.type !== 'NullValue') {
    indent = indentArg.type === 'StringValue' ? (indentArg.value as string) : ' '.repeat(Math.max(0, Number(indentArg.value)));
  }
  const separators = arg(2, 'separators');
  let itemSep = indent === null ? ', ' : ',';
  let keySep = ': ';
  if (separators && isType(separators, 'ArrayValue', 'TupleValue')) {
    const [a, b] = separators.value as RuntimeValue[];
    itemSep = a ? pyStr(a) : itemSep;
    keySep = b ? pyStr(b) : keySep;
  }
  const sortKeys = arg(3, 'sort_keys')?.__bool__().value ?? false;
  return pyJsonDumps(operand, { ensureAscii, indent, itemSep, keySep, sortKeys }, 0);
}

// ---------------------------------------------------------------------------------------------
// Globals: raise_exception, strftime_now, range (and the constants setupGlobals would add).

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/**
 * `datetime.now().strftime(fmt)` for the C-locale directives chat templates use (Llama 3.x:
 * `%d %b %Y`; Granite: `%B %d, %Y`), including glibc's `%-d` no-padding flag. Local time, like
 * Python's naive `datetime.now()` on the engine host.
 */
export function pyStrftime(date: Date, format: string): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const hour12 = date.getHours() % 12 === 0 ? 12 : date.getHours() % 12;
  const start = new Date(date.getFullYear(), 0, 1);
  const dayOfYear = Math.floor((date.getTime() - start.getTime()) / 86_400_000) + 1;
  return format.replace(/%(-?)([a-zA-Z%])/g, (whole, noPad: string, d: string) => {
    const p = (n: number, width = 2) => (noPad ? String(n) : pad(n, width));
    switch (d) {
      case 'Y':
        return String(date.getFullYear());
      case 'y':
        return p(date.getFullYear() % 100);
      case 'm':
        return p(date.getMonth() + 1);
      case 'd':
        return p(date.getDate());
      case 'e':
        return noPad ? String(date.getDate()) : String(date.getDate()).padStart(2, ' ');
      case 'b':
      case 'h':
        return MONTHS[date.getMonth()]!.slice(0, 3);
      case 'B':
        return MONTHS[date.getMonth()]!;
      case 'a':
        return DAYS[date.getDay()]!.slice(0, 3);
      case 'A':
        return DAYS[date.getDay()]!;
      case 'H':
        return p(date.getHours());
      case 'I':
        return p(hour12);
      case 'M':
        return p(date.getMinutes());
      case 'S':
        return p(date.getSeconds());
      case 'p':
        return date.getHours() < 12 ? 'AM' : 'PM';
      case 'j':
        return p(dayOfYear, 3);
      case 'w':
        return String(date.getDay());
      case 'f':
        return pad(date.getMilliseconds() * 1000, 6);
      case '%':
        return '%';
      default:
        return whole;
    }
  });
}

function pyRange(args: RuntimeValue[]): RuntimeValue {
  const nums = args.filter((a) => a.type !== 'KeywordArgumentsValue').map((a) => Number(a.value));
  const [start, stop, step] = nums.length === 1 ? [0, nums[0]!, 1] : [nums[0] ?? 0, nums[1] ?? 0, nums[2] ?? 1];
  if (step === 0) throw new Error('range() arg 3 must not be zero');
  const out: RuntimeValue[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(int(i));
  return new RT.Array(out);
}

/** Raised by the template's `raise_exception(...)` (transformers raises jinja2 TemplateError). */
export class TemplateRaisedError extends Error {
  override readonly name = 'TemplateError';
}

export interface RenderOptions {
  /** Clock for `strftime_now`. @default () => new Date() */
  now?: () => Date;
}

/** A parsed chat template; parse once per template text, render per request. */
export class ChatTemplate {
  private readonly program: AstNode;

  /** @throws Error when the template does not parse. */
  constructor(readonly source: string) {
    this.program = parse(tokenize(source, { lstrip_blocks: true, trim_blocks: true })) as unknown as AstNode;
  }

  /** Renders with `variables` as the template's globals (values converted with {@link toRuntime}). */
  render(variables: Readonly<Record<string, unknown>>, options: RenderOptions = {}): string {
    const env = new Environment();
    const now = options.now ?? (() => new Date());
    const globals: Record<string, RuntimeValue> = {
      true: bool(true),
      false: bool(false),
      none: new RT.Null(),
      True: bool(true),
      False: bool(false),
      None: new RT.Null(),
      raise_exception: fn((args) => {
        throw new TemplateRaisedError(args[0] ? pyStr(args[0]) : '');
      }),
      strftime_now: fn((args) => str(pyStrftime(now(), args[0] ? pyStr(args[0]) : ''))),
      range: fn(pyRange),
    };
    for (const [k, v] of Object.entries(globals)) env.setVariable(k, v as never);
    for (const [k, v] of Object.entries(variables)) env.setVariable(k, toRuntime(v) as never);
    const result = new PyInterpreter(env).run(this.program);
    return pyStr(result);
  }

  private format: 'string' | 'openai' | undefined;

  /**
   * Whether the template iterates over a message's `content` (vLLM's "openai" content format).
   * A property of the template alone, so found once (vLLM caches it per template too): the walk
   * over the whole syntax tree was a fifth of a warm chat render.
   */
  contentFormat(): 'string' | 'openai' {
    this.format ??= detectContentFormat(this.program);
    return this.format;
  }
}

// ---------------------------------------------------------------------------------------------
// vLLM's content-format detection (`_detect_content_format`, renderers/hf.py), on this AST.

function* walk(node: unknown): Generator<AstNode> {
  if (Array.isArray(node)) {
    for (const item of node) yield* walk(item);
    return;
  }
  if (node instanceof Map) {
    for (const [k, v] of node) {
      yield* walk(k);
      yield* walk(v);
    }
    return;
  }
  if (node === null || typeof node !== 'object' || typeof (node as AstNode).type !== 'string') return;
  yield node as AstNode;
  for (const [key, child] of Object.entries(node)) if (key !== 'type') yield* walk(child);
}

function isVarAccess(node: AstNode | undefined, name: string): boolean {
  return node?.type === 'Identifier' && node['value'] === name;
}

function isAttrAccess(node: AstNode, name: string, key: string): boolean {
  if (node.type !== 'MemberExpression' || !isVarAccess(node['object'] as AstNode, name)) return false;
  const property = node['property'] as AstNode;
  if (node['computed']) return property.type === 'StringLiteral' && property['value'] === key;
  return property.type === 'Identifier' && property['value'] === key;
}

function isVarOrElemsAccess(node: AstNode | undefined, name: string, key?: string): boolean {
  if (!node) return false;
  if (node.type === 'FilterExpression' || node.type === 'TestExpression') return isVarOrElemsAccess(node['operand'] as AstNode, name, key);
  if (node.type === 'MemberExpression' && node['computed'] && (node['property'] as AstNode).type === 'SliceExpression') {
    return isVarOrElemsAccess(node['object'] as AstNode, name, key);
  }
  return key ? isAttrAccess(node, name, key) : isVarAccess(node, name);
}

function detectContentFormat(program: AstNode): 'string' | 'openai' {
  const nodes = [...walk(program)];
  const sets = nodes.filter((n) => n.type === 'Set' && n['value']);
  const fors = nodes.filter((n) => n.type === 'For');
  // Names bound (transitively) to `messages` or a slice/filter of it.
  const messageNames = ['messages'];
  for (let i = 0; i < messageNames.length; i++) {
    for (const s of sets) {
      const target = s['assignee'] as AstNode;
      if (!isVarOrElemsAccess(s['value'] as AstNode, messageNames[i]!)) continue;
      if (target.type !== 'Identifier') return 'string'; // vLLM's assertion fails → its default
      const name = target['value'] as string;
      if (!messageNames.includes(name)) messageNames.push(name);
    }
  }
  const messageVars: string[] = [];
  for (const loop of fors) {
    if (!messageNames.some((name) => isVarOrElemsAccess(loop['iterable'] as AstNode, name))) continue;
    const target = loop['loopvar'] as AstNode;
    // vLLM asserts a plain name here; the assertion failure falls back to "string".
    if (target.type !== 'Identifier') return 'string';
    messageVars.push(target['value'] as string);
  }
  for (const loop of fors) {
    if (messageVars.some((name) => isVarOrElemsAccess(loop['iterable'] as AstNode, name, 'content'))) return 'openai';
  }
  return 'string';
}
