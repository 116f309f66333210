import { parsePrometheusText, parsePromValue } from './prometheus-text';

/** What a vLLM pod serves, abridged: HELP/TYPE lines, labels, a histogram, a counter. */
const VLLM_PAGE = [
  '# HELP vllm:num_requests_running Number of requests in model execution batches.',
  '# TYPE vllm:num_requests_running gauge',
  'vllm:num_requests_running{engine="0",model_name="Qwen/Qwen3-32B"} 2.0',
  '# HELP vllm:num_requests_waiting Number of requests waiting to be processed.',
  '# TYPE vllm:num_requests_waiting gauge',
  'vllm:num_requests_waiting{engine="0",model_name="Qwen/Qwen3-32B"} 3.0',
  '# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.',
  '# TYPE vllm:kv_cache_usage_perc gauge',
  'vllm:kv_cache_usage_perc{engine="0",model_name="Qwen/Qwen3-32B"} 0.42',
  '# TYPE vllm:time_to_first_token_seconds histogram',
  'vllm:time_to_first_token_seconds_bucket{engine="0",le="0.001",model_name="Qwen/Qwen3-32B"} 0.0',
  'vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf",model_name="Qwen/Qwen3-32B"} 7.0',
  'vllm:time_to_first_token_seconds_count{engine="0",model_name="Qwen/Qwen3-32B"} 7.0',
  'vllm:prompt_tokens_total{engine="0",model_name="Qwen/Qwen3-32B"} 1234.0',
  '',
].join('\n');

describe('parsePrometheusText', () => {
  it('reads a vLLM page: comments skipped, labels, values', () => {
    const { samples, errors } = parsePrometheusText(VLLM_PAGE);
    expect(errors).toEqual([]);
    expect(samples).toHaveLength(7);
    expect(samples[0]).toEqual({ name: 'vllm:num_requests_running', labels: { engine: '0', model_name: 'Qwen/Qwen3-32B' }, value: 2, timestampMs: undefined });
    expect(samples[2]).toEqual({ name: 'vllm:kv_cache_usage_perc', labels: { engine: '0', model_name: 'Qwen/Qwen3-32B' }, value: 0.42, timestampMs: undefined });
    expect(samples[4]?.labels['le']).toBe('+Inf');
  });

  it('parses only the names asked for, skipping the rest unread', () => {
    const names = new Set(['vllm:num_requests_waiting', 'vllm:kv_cache_usage_perc']);
    const { samples, errors } = parsePrometheusText(`${VLLM_PAGE}other_metric{broken 1\n`, { names });
    expect(errors).toEqual([]);
    expect(samples.map((s) => [s.name, s.value])).toEqual([
      ['vllm:num_requests_waiting', 3],
      ['vllm:kv_cache_usage_perc', 0.42],
    ]);
  });

  it('handles escaped quotes, backslashes and newlines in label values', () => {
    const { samples, errors } = parsePrometheusText('m{a="say \\"hi\\"",b="c:\\\\dir",c="two\\nlines",d="{,}= "} 1\n');
    expect(errors).toEqual([]);
    expect(samples[0]?.labels).toEqual({ a: 'say "hi"', b: 'c:\\dir', c: 'two\nlines', d: '{,}= ' });
  });

  it('reads NaN, infinities, exponents, timestamps, blanks, tabs, CRLF and a trailing comma', () => {
    const text = ['a NaN', 'b +Inf', 'c -Inf', 'd 1.5e-3 1712345678901', 'e{x="1",} 7', '  f\t{ x = "1" }\t2  ', 'g -0.5\r', 'h .5', 'i 3 -12'].join('\n');
    const { samples, errors } = parsePrometheusText(text);
    expect(errors).toEqual([]);
    const byName = new Map(samples.map((s) => [s.name, s]));
    expect(byName.get('a')?.value).toBeNaN();
    expect(byName.get('b')?.value).toBe(Number.POSITIVE_INFINITY);
    expect(byName.get('c')?.value).toBe(Number.NEGATIVE_INFINITY);
    expect(byName.get('d')).toEqual({ name: 'd', labels: {}, value: 0.0015, timestampMs: 1712345678901 });
    expect(byName.get('e')?.labels).toEqual({ x: '1' });
    expect(byName.get('f')).toEqual({ name: 'f', labels: { x: '1' }, value: 2, timestampMs: undefined });
    expect(byName.get('g')?.value).toBe(-0.5);
    expect(byName.get('h')?.value).toBe(0.5);
    expect(byName.get('i')?.timestampMs).toBe(-12);
  });

  it('reports every bad line with its number and reason, and keeps the good ones', () => {
    const text = [
      '# a comment',
      'good 1',
      'no_value',
      'no_value_labels{a="1"}',
      'bad_value abc',
      'm{a="1"',
      'm{a=1} 2',
      'm{a="x\\q"} 2',
      'm{a="1",a="2"} 3',
      'm{1a="1"} 3',
      'm{a="1"}3',
      'm 1 2 3',
      'm 1 1.5',
      '9bad 1',
      'bad-name 1',
      'm{a="unterminated} 1',
      'also_good{a="b"} 2',
    ].join('\n');
    const { samples, errors } = parsePrometheusText(text);
    expect(samples.map((s) => s.name)).toEqual(['good', 'also_good']);
    expect(errors.map((e) => e.line)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    const reasons = errors.map((e) => e.reason);
    expect(reasons[0]).toBe('no value');
    expect(reasons[1]).toBe('no value');
    expect(reasons[2]).toBe('bad value "abc"');
    expect(reasons[3]).toMatch(/expected "," or "}"/);
    expect(reasons[4]).toMatch(/expected a quoted value for label a/);
    expect(reasons[5]).toMatch(/invalid escape "\\q"/);
    expect(reasons[6]).toBe('duplicate label a');
    expect(reasons[7]).toMatch(/bad label name/);
    expect(reasons[8]).toMatch(/expected a blank before the value/);
    expect(reasons[9]).toBe('unexpected text after the timestamp');
    expect(reasons[10]).toBe('bad timestamp "1.5"');
    expect(reasons[11]).toBe('bad metric name');
    expect(reasons[12]).toBe('bad character "-" in metric name');
    expect(reasons[13]).toMatch(/unterminated value of label a/);
    expect(errors[2]?.text).toBe('bad_value abc');
  });

  it('reads nothing from an empty page', () => {
    expect(parsePrometheusText('')).toEqual({ samples: [], errors: [] });
    expect(parsePrometheusText('\n# only comments\n\n')).toEqual({ samples: [], errors: [] });
  });
});

describe('parsePromValue', () => {
  it('accepts Prometheus float spellings only', () => {
    expect(parsePromValue('3.0')).toBe(3);
    expect(parsePromValue('-1e2')).toBe(-100);
    expect(parsePromValue('Inf')).toBe(Number.POSITIVE_INFINITY);
    expect(parsePromValue('nan')).toBeNaN();
    for (const bad of ['', '0x10', '1,5', '1.2.3', 'e5', '+-1', 'Infinit']) expect(parsePromValue(bad)).toBeUndefined();
  });
});
