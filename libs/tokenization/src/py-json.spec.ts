import { createPrng } from '@kvr/testing';
import { ChatTemplate } from './jinja-python';
import { parsePythonJson, PyFloat, pyFloatRepr } from './py-json';
import { renderWithPython } from './testing';

describe('parsePythonJson', () => {
  it('keeps float-ness, big integers and key order the way json.loads does', () => {
    const v = parsePythonJson('{"a": 1.0, "b": 2, "c": 12345678901234567890, "d": [1e2, -0.0, NaN], "e": {"10": 1, "2": 2}, "__proto__": 3}') as Record<string, unknown>;
    expect(v['a']).toEqual(new PyFloat(1));
    expect(v['b']).toBe(2);
    expect(v['c']).toBe(12345678901234567890n);
    expect((v['d'] as unknown[])[0]).toEqual(new PyFloat(100));
    expect(Object.is(((v['d'] as unknown[])[1] as PyFloat).value, -0)).toBe(true);
    expect([...(v['e'] as Map<string, unknown>).keys()]).toEqual(['10', '2']);
    expect(Object.keys(v)).toContain('__proto__');
    expect(parsePythonJson('1.5')).toBe(1.5);
  });

  it('rejects malformed JSON', () => {
    for (const bad of ['', '{', '[1,]', '{"a" 1}', '"\\x"', '01', 'tru', '"a\nb"']) expect(() => parsePythonJson(bad)).toThrow(SyntaxError);
  });
});

describe('Python number and string formatting (vs /usr/bin/python3)', () => {
  const prng = createPrng(17);
  const floats = [
    '0.0', '-0.0', '1.0', '1.5', '0.1', '0.3', '100.0', '1e15', '1e16', '1.5e16', '123456789012345678.0', '1e-4', '1e-5', '0.000123', '1.7976931348623157e308',
    '5e-324', '2.5e-7', '-3.25', '1e22', '1e21', '9007199254740993.0', '0.30000000000000004',
    ...Array.from({ length: 150 }, () => `${(prng.next() - 0.5) * 10 ** (prng.int(40) - 20)}`.replace(/^(-?\d+)$/, '$1.0')),
  ];
  const strings = ["it's", 'say "hi"', 'both \' and "', 'tab\tnl\ncr\r\\', '\u0001\u007f\u0085\u00a0\u00ad', 'é😀\u200b\u2028\ufeff', '\ud83d'];

  it('str(), repr() and json.dumps() of floats, strings and containers', async () => {
    const template = '{% for v in xs %}{{ v }}|{{ v | tojson }};{% endfor %}{{ ss }}|{{ ss | tojson }}|{{ ss | tojson(ensure_ascii=true) }}';
    const contextJson = `{"xs": [${floats.join(', ')}], "ss": ${JSON.stringify(strings)}}`;
    const [python] = await renderWithPython({ rawJson: `{"cases": [{"id": "n", "mode": "raw", "template": ${JSON.stringify(template)}, "context": ${contextJson}}]}` });
    expect(python?.ok).toBe(true);
    const actual = new ChatTemplate(template).render(parsePythonJson(contextJson) as Record<string, unknown>);
    if (python?.ok) expect(actual).toBe(python.text);
  });

  it('pyFloatRepr handles non-finite values', () => {
    expect([Number.NaN, Infinity, -Infinity].map(pyFloatRepr)).toEqual(['nan', 'inf', '-inf']);
  });
});
