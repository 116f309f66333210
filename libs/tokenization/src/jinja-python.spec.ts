import { ChatTemplate, pyStrftime } from './jinja-python';
import { parsePythonJson } from './py-json';
import { renderWithPython, type PythonRenderCase } from './testing';

// Oracle: Python jinja2 in transformers' environment (fixtures/render_chat.py, /usr/bin/python3).
const NOW = '2026-01-15T09:05:07';
const now = () => new Date(2026, 0, 15, 9, 5, 7);

// A template in the style of Llama 3.1's (system date, tools as indented JSON), written for this test.
const LLAMA31_LIKE = `{{- bos_token }}
{%- if not date_string is defined %}
    {%- set date_string = strftime_now("%d %b %Y") %}
{%- endif %}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}
{{- "<|start_header_id|>system<|end_header_id|>\\n\\n" }}
{{- "Today Date: " + date_string + "\\n\\n" }}
{{- system_message }}
{{- "<|eot_id|>" }}
{%- if tools is not none %}
    {{- "<|start_header_id|>user<|end_header_id|>\\n\\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\\n\\n" }}
    {%- endfor %}
{%- endif %}
{%- for message in messages %}
    {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}
{%- endif %}
`;

// Mistral-style role alternation check with raise_exception, written for this test.
const MISTRAL_LIKE = `{{- bos_token }}
{%- for message in messages %}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}
        {{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}
    {%- endif %}
    {%- if message['role'] == 'user' %}
        {{- '[INST] ' + message['content'] + ' [/INST]' }}
    {%- elif message['role'] == 'assistant' %}
        {{- ' ' + message['content'] + eos_token}}
    {%- endif %}
{%- endfor %}`;

/** [name, template, context as JSON text (parsed with Python semantics on both sides)] */
const CASES: [string, string, string][] = [
  ['strip with chars', "{{ '\\n  x  \\n'.strip('\\n') }}|{{ '  x\\n'.lstrip() }}|{{ 'xx\\n\\n'.rstrip('\\n') }}|{{ '\\x1c a \\ufeff'.strip() }}", '{}'],
  ['print python values', '{{ true }} {{ none }} {{ x }} {{ [1, "a", none] }} {{ {"a": 1, "b": [true]} }} {{ 1.0 }} {{ y }} {{ z }}', '{"x": null, "y": 1e16, "z": 0.00001}'],
  ['tojson defaults', '{{ x | tojson }}', '{"x": {"b": 1.5, "a": "é\\u2028\\"\\u001b", "B": [1, 2.0, {}], "c": null, "10": 1, "2": 2}}'],
  ['tojson indent and sort', '{{ x | tojson(indent=4) }}|{{ x | tojson(indent=2, sort_keys=true) }}|{{ [] | tojson(indent=2) }}', '{"x": {"b": [1, {"z": []}], "a": "ü", "B": {}}}'],
  ['tojson ensure_ascii and separators', "{{ x | tojson(ensure_ascii=true) }}|{{ x | tojson(separators=(',', ':')) }}", '{"x": {"k": "é😀\\u007f", "n": [1, 2]}}'],
  ['tojson big numbers', '{{ x | tojson }} {{ x.big }}', '{"x": {"big": 123456789012345678901234567890, "f": 1e300, "g": -0.0, "h": 3.0e-7}}'],
  ['length and indexing in code points', '{{ s | length }} {{ s[0] }} {{ s[1] }} {{ s[-1] }} {{ s[1:3] }} {{ s | first }} {{ s | last }} {{ s | reverse }}', '{"s": "😀ab👍"}'],
  ['capitalize and title', "{{ 'hELLO wORLD' | capitalize }} {{ 'hELLO wORLD-x (y)' | title }} {{ 'hello world'.title() }} {{ 'hELLO'.capitalize() }}", '{}'],
  ['whitespace control', 'a\n{% if true %}\nb\n{% endif %}\n  {% if true %}c{% endif %}\n  {%- if true %} d {% endif -%}\n e {# c #}\n f\n', '{}'],
  ['equality', "{{ 1 == '1' }} {{ x == none }} {{ y is defined }} {{ 1 == 1.0 }} {{ true == 1 }} {{ [1, 2] == [1, 2] }} {{ 'a' != 'b' }}", '{"x": null}'],
  ['loop controls and loop vars', '{% for i in [1, 2, 3, 4] %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 4 %}{% break %}{% endif %}{{ loop.index }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}', '{}'],
  ['set block and namespace', '{% set x %}\n  hi\n{% endset %}[{{ x }}]{% set ns = namespace(n=0, s="") %}{% for m in ms %}{% set ns.n = ns.n + 1 %}{% set ns.s = ns.s ~ m %}{% endfor %}{{ ns.n }} {{ ns.s }}', '{"ms": ["a", "b"]}'],
  ['generation tag', '{% generation %}abc{% endgeneration %}\n{%- generation -%} x {%- endgeneration %}', '{}'],
  ['dict items and get', "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{{ d | length }} {{ d.get('a') }} {{ d.get('zz', 'dflt') }} {{ d['a'] }} {{ d.a }} {{ 'a' in d }}", '{"d": {"z": 1, "a": 2}}'],
  ['join and split', "{{ [1, 2] | join(', ') }} {{ 'a-b-c'.split('-') }} {{ 'a b  c'.split() }} {{ '-'.join(['x', 'y']) }}", '{}'],
  ['arithmetic', "{{ 3 / 2 }} {{ 4 / 2 }} {{ 7 // 2 }} {{ 2 ** 10 }} {{ 1.5 | int }} {{ '3' | int + 1 }} {{ 10 % 3 }} {{ 0.1 + 0.2 }}", '{}'],
  ['in and tilde', "{{ 'a' in 'abc' }} {{ 'x' in ['x'] }} {{ 1 in [true] }} {{ 'a' ~ 1 ~ true ~ none ~ 1.0 }}", '{}'],
  ['default filter', "{{ x | default('d') }} {{ none | default('n') }} {{ '' | default('e', true) }}", '{}'],
  ['map selectattr rejectattr', "{{ xs | map(attribute='n') | join(',') }} {{ xs | selectattr('role', 'equalto', 'user') | list | length }} {{ xs | rejectattr('role', 'equalto', 'user') | map(attribute='n') | list }}", '{"xs": [{"role": "user", "n": 1}, {"role": "x", "n": 2}]}'],
  ['range and macros', "{% for i in range(3) %}{{ i }}{% endfor %}{{ range(1, 7, 2) | list }}{% macro f(a, b='x') %}[{{ a }}{{ b }}]{% endmacro %}{{ f(1) }}{{ f(2, b='y') }}", '{}'],
  ['strftime_now', "{{ strftime_now('%d %b %Y') }} | {{ strftime_now('%B %-d, %Y %H:%M:%S %a %A %j %y %p %I %m') }}", '{}'],
  ['slices and negative index', "{{ messages[::-1] | map(attribute='r') | join }} {{ messages[-1].r }} {{ messages[1:] | length }} {{ 'héllo'[1:3] }}", '{"messages": [{"r": "a"}, {"r": "b"}, {"r": "c"}]}'],
  ['tests', '{{ 1 is number }} {{ true is number }} {{ {} is iterable }} {{ "a" is string }} {{ x is mapping }} {{ none is none }} {{ y is undefined }} {{ 2 is odd }} {{ [] is sequence }}', '{"x": {}}'],
  ['string methods', "{{ 'abcabc'.count('b') }} {{ 'héllo'.find('l') }} {{ 'x.txt'.endswith('.txt') }} {{ 'ab'.startswith(('x', 'a')) }} {{ 'a,b'.replace(',', ';') }} {{ 'ABC'.lower() }} {{ '  '.isspace() }} {{ '12'.isdigit() }} {{ 'pre_x'.removeprefix('pre_') }}", '{}'],
  ['trim and upper filters', "{{ '  x \\n' | trim }}|{{ 'xxaxx' | trim('x') }}|{{ 'ß' | upper }}|{{ 'ABC' | lower }}", '{}'],
  ['content list printed', '{{ m.content }} {{ m }}', '{"m": {"content": [{"type": "text", "text": "it\'s \\"q\\"\\n"}], "n": 1.5}}'],
  ['raise_exception', "{% if messages | length > 1 %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}", '{"messages": [1, 2]}'],
  ['llama-3.1-like tools block', LLAMA31_LIKE, '{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Weather in Paris?"}], "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Get weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}}, "required": ["city"]}}}], "add_generation_prompt": true, "bos_token": "<|begin_of_text|>"}'],
  ['mistral-like alternation', MISTRAL_LIKE, '{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}, {"role": "user", "content": "c"}], "bos_token": "<s>", "eos_token": "</s>"}'],
];

function renderTs(template: string, contextJson: string): { ok: true; text: string } | { ok: false } {
  try {
    const context = parsePythonJson(contextJson) as Record<string, unknown>;
    return { ok: true, text: new ChatTemplate(template).render(context, { now }) };
  } catch {
    return { ok: false };
  }
}

describe('ChatTemplate renders like Python jinja2 in transformers’ environment', () => {
  let python: Awaited<ReturnType<typeof renderWithPython>>;
  beforeAll(async () => {
    // Sent as raw JSON text so Python sees 1.0, 2.0, big integers exactly as written.
    const raw = `{"cases": [${CASES.map(([id, template], i) => `{"id": ${JSON.stringify(id)}, "mode": "raw", "template": ${JSON.stringify(template)}, "now": "${NOW}", "context": ${CASES[i]![2]}}`).join(', ')}]}`;
    python = await renderWithPython({ rawJson: raw });
  });

  it.each(CASES.map((c, i) => [c[0], i] as const))('%s', (_name, i) => {
    const [, template, context] = CASES[i]!;
    const expected = python[i]!;
    const actual = renderTs(template, context);
    if (expected.ok) expect(actual).toEqual({ ok: true, text: expected.text });
    else expect(actual).toEqual({ ok: false });
  });
});

describe('content format detection (vLLM _detect_content_format)', () => {
  const templates: [string, string][] = [
    ['string content', "{% for message in messages %}{{ message['content'] }}{% endfor %}"],
    ['loop over content', "{% for message in messages %}{% for part in message['content'] %}{{ part.text }}{% endfor %}{% endfor %}"],
    ['loop over content attribute with filter', '{% for m in messages %}{% for p in m.content | selectattr("type", "equalto", "text") %}{{ p.text }}{% endfor %}{% endfor %}'],
    ['aliased messages', '{% set loop_messages = messages[1:] %}{% for message in loop_messages %}{% for c in message.content %}{{ c }}{% endfor %}{% endfor %}'],
    ['content loop on a non-message', '{% for t in tools %}{% for c in t.content %}{{ c }}{% endfor %}{% endfor %}{% for m in messages %}{{ m.content }}{% endfor %}'],
    ['tuple loop target over messages', '{% for i, m in messages %}{% for c in m.content %}{{ c }}{% endfor %}{% endfor %}'],
  ];

  it('agrees with the Python port of vLLM’s AST walk', async () => {
    const cases: PythonRenderCase[] = templates.map(([id, template]) => ({ id, mode: 'detect', template }));
    const python = await renderWithPython(cases);
    for (const [i, [id, template]] of templates.entries()) {
      const expected = python[i]!;
      expect(expected.ok).toBe(true);
      expect({ id, format: new ChatTemplate(template).contentFormat() }).toEqual({ id, format: expected.ok ? expected.text : '' });
    }
  });
});

describe('pyStrftime', () => {
  it('formats the directives templates use', () => {
    expect(pyStrftime(new Date(2024, 6, 4, 15, 3, 9), '%d %b %Y|%B %-d, %Y|%H:%M:%S|%I %p|%a %A|%j|%m/%y|%%')).toBe('04 Jul 2024|July 4, 2024|15:03:09|03 PM|Thu Thursday|186|07/24|%');
  });
});
