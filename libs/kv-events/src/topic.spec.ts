import { formatKvEventTopic, parseKvEventTopic } from './index';

describe('parseKvEventTopic', () => {
  it.each([
    ['kv@10.0.3.7:8000@Qwen/Qwen3-32B', '10.0.3.7:8000', 'Qwen/Qwen3-32B'],
    ['kv@10.0.3.7@Qwen/Qwen3-32B', '10.0.3.7', 'Qwen/Qwen3-32B'], // IP-only pod ids (llm-d before 4cd7046e)
    ['kv@pod-1@llama-2-7b', 'pod-1', 'llama-2-7b'],
    ['kv@my-pod.ns.svc.cluster.local:8000@m', 'my-pod.ns.svc.cluster.local:8000', 'm'],
    ['kv@[fd00::1]:8000@org/model', '[fd00::1]:8000', 'org/model'],
    ['kv@fd00::1:8000@org/model', 'fd00::1:8000', 'org/model'],
    ['kv@10.0.0.1:8000@org/model:rev', '10.0.0.1:8000', 'org/model:rev'],
    ['kv@10.0.0.1:8000@org/model@v2', '10.0.0.1:8000', 'org/model@v2'],
    ['kv@10.0.0.1:8000@@leading-at', '10.0.0.1:8000', '@leading-at'],
    ['kv@10.0.0.1:8000@a@b:c/d@', '10.0.0.1:8000', 'a@b:c/d@'],
    ['kv@10.0.0.1:8000@', '10.0.0.1:8000', ''],
    ['other-prefix@pod@model', 'pod', 'model'],
    ['@pod@model', 'pod', 'model'],
    ['kv@pod-ü@modèle/ñ', 'pod-ü', 'modèle/ñ'],
  ])('%s → pod %s, model %s', (topic, podId, model) => {
    expect(parseKvEventTopic(topic)).toEqual({ topic, podId, model, conventional: true });
  });

  it.each(['fallback', '', 'kv', 'kv@10.0.0.1:8000', 'kv@@model', '@@', 'kv@'])('%j does not follow the convention: pod id = whole topic, model = ""', (topic) => {
    expect(parseKvEventTopic(topic)).toEqual({ topic, podId: topic, model: '', conventional: false });
  });
});

describe('formatKvEventTopic', () => {
  it('builds topics that parse back, whatever the model contains', () => {
    for (const model of ['Qwen/Qwen3-32B', 'org/model:rev@v2', '', '@', 'a@b@c']) {
      const topic = formatKvEventTopic('10.0.0.1:8000', model);
      expect(topic).toBe(`kv@10.0.0.1:8000@${model}`);
      expect(parseKvEventTopic(topic)).toMatchObject({ podId: '10.0.0.1:8000', model, conventional: true });
    }
    expect(formatKvEventTopic('p', 'm', 'custom')).toBe('custom@p@m');
  });

  it('refuses pod ids and prefixes that would not parse back', () => {
    expect(() => formatKvEventTopic('', 'm')).toThrow(RangeError);
    expect(() => formatKvEventTopic('a@b', 'm')).toThrow(/must be non-empty and contain no '@'/);
    expect(() => formatKvEventTopic('p', 'm', 'k@v')).toThrow(RangeError);
  });
});
