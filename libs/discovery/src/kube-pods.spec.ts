import { judgePod, KUBERNETES_ANNOTATIONS, notServingReason, type PodEndpointDefaults } from './kube-pods';
import { kubePod } from './testing';

const defaults: PodEndpointDefaults = { httpPort: 8000, zmqPort: 5557, replayPort: null, modelKey: KUBERNETES_ANNOTATIONS.model };

describe('notServingReason (which pods count)', () => {
  it('accepts a Running pod with an IP, Ready=True and no deletion timestamp', () => {
    expect(notServingReason(kubePod({ name: 'a', ip: '10.0.0.1' }))).toBeUndefined();
  });

  it.each([
    ['Pending', kubePod({ name: 'a', ip: '10.0.0.1', phase: 'Pending' }), 'phase Pending'],
    ['Succeeded', kubePod({ name: 'a', ip: '10.0.0.1', phase: 'Succeeded' }), 'phase Succeeded'],
    ['Failed', kubePod({ name: 'a', ip: '10.0.0.1', phase: 'Failed' }), 'phase Failed'],
    ['without IP', kubePod({ name: 'a' }), 'no pod IP'],
    ['not Ready', kubePod({ name: 'a', ip: '10.0.0.1', ready: false }), 'Ready=False'],
    ['terminating', kubePod({ name: 'a', ip: '10.0.0.1', deleting: true }), 'terminating (deletionTimestamp set)'],
  ])('rejects a pod %s', (_case, pod, why) => {
    expect(notServingReason(pod)).toBe(why);
    expect(judgePod(pod, defaults)).toEqual({ kind: 'not-serving', why });
  });

  it('rejects a pod without status or without a Ready condition', () => {
    expect(notServingReason({ metadata: { name: 'a' } })).toBe('phase unknown');
    expect(notServingReason({ metadata: { name: 'a' }, status: { phase: 'Running', podIP: '10.0.0.1', conditions: [] } })).toBe('Ready=absent');
  });
});

describe('judgePod', () => {
  it('uses <podIP>:<httpPort> as id, namespace/name as name, and the configured ports', () => {
    const verdict = judgePod(kubePod({ name: 'vllm-0', namespace: 'llm', ip: '10.1.2.3' }), { ...defaults, replayPort: 5558 });
    expect(verdict).toEqual({
      kind: 'serving',
      pod: { id: '10.1.2.3:8000', address: '10.1.2.3', httpPort: 8000, zmqEndpoint: 'tcp://10.1.2.3:5557', replayEndpoint: 'tcp://10.1.2.3:5558', name: 'llm/vllm-0' },
    });
  });

  it('applies the port annotations; replay-port "none" disables replay', () => {
    const pod = kubePod({
      name: 'a',
      ip: '10.0.0.9',
      annotations: { 'kvr.io/http-port': '8080', 'kvr.io/zmq-port': '6000', 'kvr.io/replay-port': '6001' },
    });
    expect(judgePod(pod, defaults)).toMatchObject({ pod: { id: '10.0.0.9:8080', httpPort: 8080, zmqEndpoint: 'tcp://10.0.0.9:6000', replayEndpoint: 'tcp://10.0.0.9:6001' } });
    const none = kubePod({ name: 'a', ip: '10.0.0.9', annotations: { 'kvr.io/replay-port': 'none' } });
    expect(judgePod(none, { ...defaults, replayPort: 5558 })).toMatchObject({ pod: { replayEndpoint: null } });
  });

  it('leaves a pod with an unusable port annotation out, naming every bad annotation', () => {
    const pod = kubePod({ name: 'a', ip: '10.0.0.9', annotations: { 'kvr.io/zmq-port': 'abc', 'kvr.io/replay-port': '70000' } });
    expect(judgePod(pod, defaults)).toEqual({
      kind: 'invalid',
      problems: ['annotation kvr.io/zmq-port: must be a port 1-65535, got "abc"', 'annotation kvr.io/replay-port: must be a port 1-65535, got "70000"'],
    });
  });

  it('reads the model from the annotation first, then the label, and not at all with modelKey null', () => {
    const both = kubePod({ name: 'a', ip: '10.0.0.1', annotations: { 'kvr.io/model': 'Qwen/Qwen3-8B' }, labels: { 'kvr.io/model': 'label-model' } });
    expect(judgePod(both, defaults)).toMatchObject({ pod: { model: 'Qwen/Qwen3-8B' } });
    const labelOnly = kubePod({ name: 'a', ip: '10.0.0.1', labels: { 'app.kubernetes.io/model': 'qwen3-8b' } });
    expect(judgePod(labelOnly, { ...defaults, modelKey: 'app.kubernetes.io/model' })).toMatchObject({ pod: { model: 'qwen3-8b' } });
    const verdict = judgePod(both, { ...defaults, modelKey: null });
    expect(verdict.kind === 'serving' && 'model' in verdict.pod).toBe(false);
  });

  it('brackets an IPv6 pod IP in endpoints only', () => {
    expect(judgePod(kubePod({ name: 'a', ip: 'fd00::5' }), defaults)).toMatchObject({ pod: { id: 'fd00::5:8000', zmqEndpoint: 'tcp://[fd00::5]:5557' } });
  });
});
