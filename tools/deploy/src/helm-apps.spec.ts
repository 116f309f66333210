// real: helm 4 rendering deploy/helm/kv-router; the `kvr` app table (apps/kvr/src/main.ts), the
// Dockerfiles (docker/), the apps' config schemas and loader (libs/config) and the HTTP routes in
// the apps' sources. mock: nothing.
//
// Everything the chart runs must exist in this repository: each image is built by a Dockerfile
// for the app the container starts, every KVR_* variable is a setting of that app with a valid
// value (so a typo fails here, not as a warning in a pod's log), and every probe asks a path the
// app serves on the port and host it listens on.
import { kvrApps, configProblems, dockerfileEntry, dockerfileExists, kvrContainers, loadContainerConfig, productImageName, servedGetPaths } from './helm-apps';
import { CHART_CI_VARIANTS, container, containerPort, podTemplate, renderChart, workloads, type RenderOptions } from './helm-manifests';

const VARIANTS: Record<string, RenderOptions> = {
  ...CHART_CI_VARIANTS,
  'vLLM hpu variant': { valuesFiles: ['deploy/vllm/variants/hpu/router-values.yaml'] },
  'vLLM small variant': { valuesFiles: ['deploy/vllm/variants/small/router-values.yaml'] },
  // Extra settings through each component's `env` map go through the same checks.
  'extra env': { set: ['gateway.env.KVR_SCORER_TIMEOUT_MS=80', 'indexer.env.KVR_MAX_PARTITIONS=4', 'gateway.tokenizer.env.KVR_UPSTREAM__RESPONSE_CACHE_ENTRIES=0'] },
};
const VARIANT_NAMES = Object.keys(VARIANTS);
const apps = kvrApps();

describe('images and commands refer to what the repository builds', () => {
  it('reads the kvr app table', () => {
    expect(apps).toEqual(expect.arrayContaining([
      { subcommand: 'gateway', dir: 'gateway' },
      { subcommand: 'collector', dir: 'kv-collector' },
      { subcommand: 'tokenizer', dir: 'tokenizer' },
    ]));
  });

  it.each(VARIANT_NAMES)('%s: every product container starts a kvr app from the image built for it', (variant) => {
    const containers = kvrContainers(renderChart(VARIANTS[variant]));
    // The tokenizer sidecar is left out only when the gateway tokenizes in process.
    const expected = variant.startsWith('in-process tokenization') ? ['collector', 'gateway', 'indexer', 'load-scorer'] : ['collector', 'gateway', 'indexer', 'load-scorer', 'tokenizer'];
    expect(containers.map((c) => c.subcommand).sort()).toEqual(expected);
    for (const { container: c, subcommand, imageName } of containers) {
      const app = apps.find((a) => a.subcommand === subcommand);
      expect({ container: c.name, subcommand, known: app !== undefined }).toEqual({ container: c.name, subcommand, known: true });
      // The image is the one of that app's folder, built by docker/<app>.Dockerfile.
      expect({ container: c.name, image: imageName }).toEqual({ container: c.name, image: app?.dir });
      expect({ image: imageName, dockerfile: dockerfileExists(imageName) }).toEqual({ image: imageName, dockerfile: true });
      // The image's entry point is the kvr launcher and its default argument is the same app,
      // so the chart's argument and the image agree.
      const { entrypoint, cmd } = dockerfileEntry(imageName);
      expect({ image: imageName, entrypoint: entrypoint?.join(' '), cmd }).toEqual({ image: imageName, entrypoint: 'node tools/bin/kvr.js', cmd: [subcommand] });
      expect({ container: c.name, command: c.command, args: c.args }).toEqual({ container: c.name, command: undefined, args: [subcommand] });
    }
  });

  it('uses no other images than the product images and the bundled NATS and Redis', () => {
    const images = workloads(renderChart()).flatMap((w) => podTemplate(w).spec.containers.map((c) => c.image ?? ''));
    const others = images.filter((image) => productImageName(image) === undefined).sort();
    expect(others).toEqual(['docker.io/library/nats:2.10-alpine', 'docker.io/library/redis:7.4-alpine']);
  });
});

describe('the environment the chart sets, through the apps real config loader', () => {
  it.each(VARIANT_NAMES)('%s: every KVR_* variable is a setting of its app, with a valid value', (variant) => {
    const problems = kvrContainers(renderChart(VARIANTS[variant])).flatMap(configProblems);
    expect(problems).toEqual([]);
  });

  it('passes extra settings through to the app', () => {
    const gateway = kvrContainers(renderChart(VARIANTS['extra env'])).find((c) => c.subcommand === 'gateway');
    expect(gateway && loadContainerConfig(gateway).config['scorerTimeoutMs']).toBe(80);
  });

  it('fails on a misspelled variable and on an invalid value', () => {
    const typo = kvrContainers(renderChart({ set: ['gateway.env.KVR_SCORER_TIMEOUT=80'] })).flatMap(configProblems);
    expect(typo).toEqual([`kvr-kv-router-gateway/gateway: KVR_SCORER_TIMEOUT is no setting of kvr gateway`]);
    const invalid = kvrContainers(renderChart({ set: ['indexer.env.KVR_GRPC=everywhere'] })).flatMap(configProblems);
    expect(invalid.join('\n')).toMatch(/grpc: "everywhere" is not host:port/);
  });
});

describe('probes', () => {
  it.each(VARIANT_NAMES)('%s: every probe asks a path the app serves, on the port it listens on, bound beyond loopback', (variant) => {
    for (const entry of kvrContainers(renderChart(VARIANTS[variant]))) {
      const { config } = loadContainerConfig(entry);
      const app = apps.find((a) => a.subcommand === entry.subcommand);
      const served = servedGetPaths(app?.dir ?? '');
      // Apps with a probe server of their own answer there; the gateway on its API port.
      const [hostField, portField] = 'probePort' in config ? ['probeHost', 'probePort'] : ['host', 'port'];
      expect({ app: entry.subcommand, host: config[hostField] }).toEqual({ app: entry.subcommand, host: '0.0.0.0' });
      const c = container(podTemplate(entry.workload).spec, entry.container.name);
      const probes = { liveness: c.livenessProbe, readiness: c.readinessProbe, startup: c.startupProbe };
      expect(probes.liveness && probes.readiness).toBeTruthy();
      for (const [kind, probe] of Object.entries(probes)) {
        if (!probe) continue;
        const get = probe.httpGet;
        expect({ app: entry.subcommand, kind, path: get?.path !== undefined && served.has(get.path.split('?')[0] ?? '') }).toEqual({ app: entry.subcommand, kind, path: true });
        expect({ app: entry.subcommand, kind, port: containerPort(c, get?.port ?? -1) }).toEqual({ app: entry.subcommand, kind, port: config[portField] });
      }
      expect({ app: entry.subcommand, liveness: probes.liveness?.httpGet?.path, readiness: probes.readiness?.httpGet?.path }).toEqual({ app: entry.subcommand, liveness: '/health', readiness: '/ready' });
    }
  });

  it('reads the served paths from the sources', () => {
    expect([...servedGetPaths('gateway')]).toEqual(expect.arrayContaining(['/health', '/ready', '/metrics', '/v1/models']));
    expect([...servedGetPaths('tokenizer')]).toEqual(expect.arrayContaining(['/health', '/ready', '/metrics', '/healthz']));
    expect(servedGetPaths('indexer').has('/v1/models')).toBe(false);
  });
});
