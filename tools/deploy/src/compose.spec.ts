// real: docker/compose.yaml, deploy/otel/collector.yaml, the Dockerfiles, the apps' config schemas
// and loader, the discovery lib's pod-list validation; mock: nothing. Static: no Docker daemon is
// needed (docker-runtime.spec.ts starts the services).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '@kvr/config';
import { normalizePodSpecs } from '@kvr/discovery';
import { parse as parseYaml } from 'yaml';
import {
  appServices,
  configValue,
  discoveryPods,
  effectiveConfig,
  interpolate,
  loadCompose,
  repoPathExists,
  serviceReferences,
  startLevels,
  WILDCARD_HOSTS,
  listenSockets,
  type AppService,
  type ComposeService,
} from './compose-stack';
import { loadImages } from './docker-files';

const ROOT = join(__dirname, '..', '..', '..');
const COMPOSE = 'docker/compose.yaml';

/** Apps that start OpenTelemetry tracing (startTracing in their main), so need an OTLP endpoint. */
const TRACED_APPS = ['collector', 'gateway', 'indexer', 'load-scorer', 'tokenizer'];

type Config = Record<string, unknown>;

describe('docker/compose.yaml', () => {
  const images = loadImages(ROOT);
  const compose = loadCompose(ROOT, COMPOSE);
  const services = [...compose.services.values()];
  const names = new Set(compose.services.keys());
  const apps = appServices(compose, images);
  const configs = new Map<string, Config>();
  const byApp = (app: string): AppService[] => apps.filter((candidate) => candidate.app === app);
  const config = (service: string): Config => {
    const found = configs.get(service);
    if (!found) throw new Error(`no configuration for ${service}`);
    return found;
  };
  const stock = (prefix: string): ComposeService[] => services.filter((service) => service.image?.startsWith(prefix) && !service.build);

  /** What each service listens on (port → host), from its app's configuration or, for stock images, from how it is started. */
  const listening = new Map<string, Map<number, string>>();

  beforeAll(() => {
    for (const app of apps) {
      try {
        configs.set(app.service.name, effectiveConfig(app.app, app.env).config as Config);
      } catch (err) {
        // Reported by its own test; the cross-checks below need only the valid ones.
        if (!(err instanceof ConfigError)) throw err;
      }
    }
    for (const app of apps) {
      const cfg = configs.get(app.service.name);
      listening.set(app.service.name, new Map(cfg ? listenSockets(app.app, cfg).map((s) => [s.port, s.host]) : []));
    }
    for (const service of stock('nats:')) {
      const command = service.command ?? [];
      const flag = (...names: string[]): number | undefined => {
        const index = command.findIndex((arg) => names.includes(arg));
        return index >= 0 ? Number(command[index + 1]) : undefined;
      };
      const ports = new Map<number, string>([[flag('-p', '--port') ?? 4222, '0.0.0.0']]);
      const monitor = flag('-m', '--http_port');
      if (monitor !== undefined) ports.set(monitor, '0.0.0.0');
      listening.set(service.name, ports);
    }
    for (const service of stock('redis:')) listening.set(service.name, new Map([[6379, '0.0.0.0']]));
    for (const service of stock('jaegertracing/all-in-one:')) {
      const otlp = service.environment['COLLECTOR_OTLP_ENABLED'] === 'true' ? [4317, 4318] : [];
      listening.set(service.name, new Map([16686, ...otlp].map((port) => [port, '0.0.0.0'])));
    }
    for (const service of stock('otel/opentelemetry-collector-contrib:')) {
      const ports = new Map<number, string>();
      for (const endpoint of otelEndpoints(otelConfig(service))) {
        const [host, port] = splitHostPort(endpoint);
        ports.set(port, host);
      }
      listening.set(service.name, ports);
    }
  });

  /** The mounted OpenTelemetry collector config, with `${env:NAME}` taken from the service's environment. */
  function otelConfig(service: ComposeService): Config {
    const mount = service.volumes.find((v) => v.kind === 'bind' && v.target === '/etc/otelcol-contrib/config.yaml');
    if (!mount) throw new Error(`${service.name} mounts no config at /etc/otelcol-contrib/config.yaml`);
    const text = readFileSync(join(ROOT, mount.source), 'utf8').replace(/\$\{env:([A-Z0-9_]+)\}/g, (_, name: string) => {
      const value = service.environment[name];
      if (value === undefined) throw new Error(`${mount.source} reads \${env:${name}}, which ${service.name} does not set`);
      return value;
    });
    return parseYaml(text) as Config;
  }

  function otelEndpoints(cfg: Config): string[] {
    const protocols = configValue(cfg, 'receivers.otlp.protocols') as Record<string, { endpoint?: string }> | undefined;
    return [...Object.values(protocols ?? {}).map((p) => p.endpoint ?? ''), String(configValue(cfg, 'extensions.health_check.endpoint') ?? '')].filter(Boolean);
  }

  function splitHostPort(text: string): [string, number] {
    const match = /^(.*):(\d+)$/.exec(text);
    if (!match) throw new Error(`not host:port: ${text}`);
    return [match[1] as string, Number(match[2])];
  }

  it('has the whole stack: NATS JetStream, Redis, an OTel collector, Jaeger, 2 gateways, 2 indexers, the collector, tokenizer, load-scorer, 4 sim pods and kvctl on demand', () => {
    const count = (app: string): number => byApp(app).filter((a) => a.service.profiles.length === 0).length;
    expect({ gateway: count('gateway'), indexer: count('indexer'), collector: count('collector'), tokenizer: count('tokenizer'), 'load-scorer': count('load-scorer'), sim: count('sim') }).toEqual({
      gateway: 2,
      indexer: 2,
      collector: 1,
      tokenizer: 1,
      'load-scorer': 1,
      sim: 4,
    });
    expect(byApp('kvctl').map((a) => a.service.profiles)).toEqual([['tools']]);
    const natsServices = stock('nats:');
    expect(natsServices).toHaveLength(1);
    expect(natsServices[0]?.command).toEqual(expect.arrayContaining(['--jetstream']));
    expect(stock('redis:')).toHaveLength(1);
    expect(stock('otel/opentelemetry-collector-contrib:')).toHaveLength(1);
    const jaeger = stock('jaegertracing/all-in-one:');
    expect(jaeger).toHaveLength(1);
    expect(jaeger[0]?.environment['COLLECTOR_OTLP_ENABLED']).toBe('true');
    // Nothing else: every service is one of the above.
    expect(apps.length + natsServices.length + 3).toBe(services.length);
  });

  it('pins every image to a tag, and builds every app image from an existing Dockerfile in docker/', () => {
    for (const service of services) {
      if (service.image !== undefined) {
        expect({ service: service.name, image: service.image }).toEqual({ service: service.name, image: expect.stringMatching(/^[a-z0-9./-]+:[A-Za-z0-9][A-Za-z0-9._-]*$/) });
        expect(service.image).not.toMatch(/:latest$/);
      }
      if (service.build) {
        expect(service.build.context).toBe('');
        expect(repoPathExists(ROOT, service.build.dockerfile)).toBe(true);
        expect(service.build.dockerfile).toMatch(/^docker\/[\w-]+\.Dockerfile$/);
      }
    }
  });

  it.each([...new Set(services.filter((s) => s.build).map((s) => s.name))])("%s: its environment is valid configuration of its app, through the app's own loader", (name) => {
    const app = apps.find((candidate) => candidate.service.name === name) as AppService;
    // Throws ConfigError listing every invalid value; unknown KVR_* names come back as ignoredEnv.
    const { ignoredEnv } = effectiveConfig(app.app, app.env);
    expect(ignoredEnv).toEqual([]);
    for (const key of Object.keys(app.service.environment)) {
      expect({ key, known: key.startsWith('KVR_') || (key.startsWith('OTEL_') && TRACED_APPS.includes(app.app)) }).toEqual({ key, known: true });
    }
    if (TRACED_APPS.includes(app.app)) expect(app.env['OTEL_EXPORTER_OTLP_ENDPOINT']).toBeDefined();
    if (app.env['KVR_DISCOVERY__PODS'] !== undefined) {
      expect(normalizePodSpecs(discoveryPods(app.env)).problems).toEqual([]);
    }
  });

  it('a misspelt or invalid variable fails that validation', () => {
    const gateway = byApp('gateway')[0] as AppService;
    expect(effectiveConfig('gateway', { ...gateway.env, KVR_TOKENISER: 'unix:///x.sock' }).ignoredEnv).toEqual(['KVR_TOKENISER']);
    expect(() => effectiveConfig('gateway', { ...gateway.env, KVR_PORT: 'eighty' })).toThrow(/port \(from KVR_PORT\)/);
    expect(() => effectiveConfig('indexer', { ...(byApp('indexer')[0] as AppService).env, KVR_REDIS: 'http://redis:6379' })).toThrow(ConfigError);
  });

  it('every host:port a service refers to is a service listening there on every interface', () => {
    for (const service of services) {
      const env = apps.find((a) => a.service === service)?.env ?? service.environment;
      for (const [key, value] of Object.entries(env)) {
        // Any host name with a port is a service of this file or a wildcard listen address.
        for (const match of value.matchAll(/(?<![A-Za-z0-9.-])([A-Za-z0-9][A-Za-z0-9.-]*):(\d{1,5})(?![0-9])/g)) {
          const host = match[1] as string;
          expect({ service: service.name, key, host, known: names.has(host) || WILDCARD_HOSTS.has(host) }).toEqual({ service: service.name, key, host, known: true });
        }
        for (const ref of serviceReferences(value, names)) {
          const host = listening.get(ref.host)?.get(ref.port);
          expect({ from: `${service.name} ${key}`, to: `${ref.host}:${ref.port}`, listensOn: host }).toEqual({ from: `${service.name} ${key}`, to: `${ref.host}:${ref.port}`, listensOn: '0.0.0.0' });
        }
      }
      for (const pod of discoveryPods(env)) {
        const address = String(pod['address']);
        const port = typeof pod['httpPort'] === 'number' ? pod['httpPort'] : 8000;
        expect({ from: service.name, pod: `${address}:${port}`, listensOn: listening.get(address)?.get(port) }).toEqual({ from: service.name, pod: `${address}:${port}`, listensOn: '0.0.0.0' });
      }
    }
  });

  it("every sim pod is in each discovery list under the id in its event topic, with its event and replay sockets and model", () => {
    const sims = byApp('sim').map((app) => {
      const cfg = config(app.service.name);
      expect(configValue(cfg, 'pods')).toBe(1);
      const host = String(configValue(cfg, 'advertiseHost') || configValue(cfg, 'host'));
      expect(host).toBe(app.service.name);
      const replayPort = Number(configValue(cfg, 'kvEvents.replayPort'));
      return {
        id: String(configValue(cfg, 'podId') || `${host}:${String(configValue(cfg, 'port'))}`),
        address: app.service.name,
        httpPort: Number(configValue(cfg, 'port')),
        zmqEndpoint: `tcp://${app.service.name}:${String(configValue(cfg, 'kvEvents.port'))}`,
        replayEndpoint: replayPort > 0 ? `tcp://${app.service.name}:${replayPort}` : null,
        model: String(configValue(cfg, 'model')),
      };
    });
    const lists = apps.filter((app) => app.env['KVR_DISCOVERY__PODS'] !== undefined);
    expect(lists.map((app) => app.app).sort()).toEqual(['collector', 'gateway', 'gateway', 'load-scorer']);
    for (const app of lists) {
      expect(configValue(config(app.service.name), 'discovery.kind')).toBe('static');
      const { pods } = normalizePodSpecs(discoveryPods(app.env));
      expect({ service: app.service.name, pods: pods.map((p) => ({ id: p.id, address: p.address, httpPort: p.httpPort, zmqEndpoint: p.zmqEndpoint, replayEndpoint: p.replayEndpoint, model: p.model })) }).toEqual({
        service: app.service.name,
        pods: sims,
      });
    }
  });

  it('collector, indexers, gateways and sims agree on partitions, stream, block size, hash seed and Redis prefix', () => {
    const values = (app: string, path: string): unknown[] => byApp(app).map((a) => configValue(config(a.service.name), path));
    const one = (list: unknown[]): unknown => {
      expect(new Set(list).size).toBe(1);
      return list[0];
    };
    const partitions = one([...values('collector', 'partitions'), ...values('indexer', 'partitions')]);
    expect(partitions).toBeGreaterThan(0);
    one([...values('collector', 'stream.name'), ...values('indexer', 'stream')]);
    one([...values('sim', 'cache.blockSize'), ...values('indexer', 'blockSize'), ...values('gateway', 'blockSize')]);
    one([...values('indexer', 'hashSeed'), ...values('gateway', 'hashSeed')]);
    one([...values('indexer', 'redisPrefix'), ...values('gateway', 'redisPrefix')]);
    one([...values('indexer', 'redis'), ...values('gateway', 'redis'), ...values('kvctl', 'redis')]);
    // The tokenizer loads the served model at start.
    const model = one(values('sim', 'model'));
    for (const preload of values('tokenizer', 'models.preload')) expect(preload).toEqual([model]);
    // Indexer replicas are told apart in leases and logs.
    expect(new Set(values('indexer', 'instance')).size).toBe(byApp('indexer').length);
  });

  it("each gateway reaches a tokenizer's unix socket through a named volume both mount", () => {
    for (const gateway of byApp('gateway')) {
      const target = String(configValue(config(gateway.service.name), 'tokenizer'));
      expect(target).toMatch(/^unix:\/\/\//);
      const path = target.slice('unix://'.length);
      const mount = gateway.service.volumes.find((v) => v.kind === 'volume' && path.startsWith(`${v.target}/`));
      expect({ gateway: gateway.service.name, mount: mount?.source }).toEqual({ gateway: gateway.service.name, mount: expect.any(String) });
      const inVolume = path.slice((mount?.target.length ?? 0) + 1);
      const serving = byApp('tokenizer').filter((tokenizer) =>
        tokenizer.service.volumes.some((v) => v.kind === 'volume' && v.source === mount?.source && String(configValue(config(tokenizer.service.name), 'socket')) === `${v.target}/${inVolume}`),
      );
      expect({ gateway: gateway.service.name, tokenizers: serving.length }).toEqual({ gateway: gateway.service.name, tokenizers: 1 });
      // Started after the tokenizer is healthy, so the socket is there.
      expect(gateway.service.dependsOn[serving[0]?.service.name ?? '']).toBe('service_healthy');
    }
  });

  it('depends_on names existing services, waits for health only where there is a health check, and orders the start as the apps need', () => {
    for (const service of services) {
      for (const [target, condition] of Object.entries(service.dependsOn)) {
        const dep = compose.services.get(target);
        expect({ service: service.name, target, exists: dep !== undefined }).toEqual({ service: service.name, target, exists: true });
        if (condition === 'service_healthy') {
          const image = apps.find((a) => a.service === dep)?.image;
          const hasCheck = dep?.healthcheck !== undefined || (image?.settings.healthcheck !== undefined && !image.settings.healthcheck.none);
          expect({ service: service.name, target, hasCheck }).toEqual({ service: service.name, target, hasCheck: true });
        }
      }
    }
    expect(() => startLevels(services, new Set())).not.toThrow();
    const healthy = (service: ComposeService, target: string): void => expect({ service: service.name, target, condition: service.dependsOn[target] }).toEqual({ service: service.name, target, condition: 'service_healthy' });
    const serviceAt = (address: unknown): string => String(address).replace(/^[a-z]+:\/\//, '').split(':')[0] as string;
    // An indexer waits for the events stream, which a collector creates.
    for (const indexer of byApp('indexer')) healthy(indexer.service, (byApp('collector')[0] as AppService).service.name);
    for (const gateway of byApp('gateway')) {
      const cfg = config(gateway.service.name);
      for (const field of ['indexer', 'loadScorer', 'redis']) healthy(gateway.service, serviceAt(configValue(cfg, field)));
    }
  });

  it('mounts files that exist in the repository and volumes that are declared, and publishes distinct host ports of listening sockets', () => {
    const used = new Set<string>();
    for (const service of services) {
      for (const mount of service.volumes) {
        if (mount.kind === 'bind') {
          expect({ service: service.name, source: mount.source, exists: repoPathExists(ROOT, mount.source), readOnly: mount.readOnly }).toEqual({ service: service.name, source: mount.source, exists: true, readOnly: true });
        } else {
          expect(compose.volumes).toContain(mount.source);
          used.add(mount.source);
        }
      }
      for (const port of service.ports) {
        expect({ service: service.name, port: port.container, listensOn: listening.get(service.name)?.get(port.container) }).toEqual({ service: service.name, port: port.container, listensOn: '0.0.0.0' });
      }
    }
    expect([...used].sort()).toEqual([...compose.volumes].sort());
    const hostPorts = services.flatMap((service) => service.ports.map((port) => port.host));
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
    expect(hostPorts.length).toBeGreaterThan(0);
  });

  it('health checks of the stock images probe a port the service listens on', () => {
    for (const service of services.filter((s) => s.healthcheck)) {
      const url = service.healthcheck?.find((arg) => arg.startsWith('http://'));
      if (url === undefined) continue;
      const { hostname, port } = new URL(url);
      expect(hostname).toBe('127.0.0.1');
      expect(listening.get(service.name)?.has(Number(port))).toBe(true);
    }
    expect(services.filter((s) => s.image?.startsWith('nats:') || s.image?.startsWith('redis:')).every((s) => s.healthcheck !== undefined)).toBe(true);
  });

  it('traces go over OTLP/HTTP to the collector, whose pipeline forwards them to Jaeger over OTLP', () => {
    const [otel] = stock('otel/opentelemetry-collector-contrib:');
    const cfg = otelConfig(otel as ComposeService);
    const pipeline = configValue(cfg, 'service.pipelines.traces') as { receivers: string[]; processors?: string[]; exporters: string[] };
    for (const kind of ['receivers', 'processors', 'exporters'] as const) {
      for (const name of pipeline[kind] ?? []) expect({ kind, name, defined: configValue(cfg, kind) !== undefined && name in (configValue(cfg, kind) as Config) }).toEqual({ kind, name, defined: true });
    }
    for (const name of (configValue(cfg, 'service.extensions') as string[] | undefined) ?? []) expect(name in (configValue(cfg, 'extensions') as Config)).toBe(true);
    expect(pipeline.receivers).toContain('otlp');
    const httpPort = splitHostPort(String(configValue(cfg, 'receivers.otlp.protocols.http.endpoint')))[1];
    for (const app of apps.filter((a) => TRACED_APPS.includes(a.app))) {
      const endpoint = new URL(String(app.env['OTEL_EXPORTER_OTLP_ENDPOINT']));
      expect({ service: app.service.name, host: endpoint.hostname, port: Number(endpoint.port), protocol: app.env['OTEL_EXPORTER_OTLP_PROTOCOL'] }).toEqual({
        service: app.service.name,
        host: otel?.name,
        port: httpPort,
        protocol: 'http/protobuf',
      });
    }
    const [jaeger] = stock('jaegertracing/all-in-one:');
    const exporters = pipeline.exporters.map((name) => ({ name, endpoint: String(configValue(cfg, `exporters.${name}.endpoint`) ?? '') }));
    expect(exporters).toContainEqual({ name: expect.stringMatching(/^otlp(\/|$)/), endpoint: `${jaeger?.name}:4317` });
    expect(otel?.dependsOn[jaeger?.name ?? '']).toBeDefined();
  });

  it('interpolates only ${NAME:-default} and $$, as compose would with nothing set', () => {
    expect(interpolate('${KVR_DEBUG_TOKEN:-}', {}, 'x')).toBe('');
    expect(interpolate('${A:-b}/$$', { A: 'a' }, 'x')).toBe('a/$');
    expect(() => interpolate('$HOME', {}, 'x')).toThrow(/unsupported/);
    // The gateways' debug token and the one kvctl sends come from the same variable.
    const withToken = appServices(loadCompose(ROOT, COMPOSE, { KVR_DEBUG_TOKEN: 's3cret' }), images);
    const tokens = withToken.flatMap((app) => (app.app === 'gateway' ? [app.env['KVR_DEBUG_TOKEN']] : app.app === 'kvctl' ? [app.env['KVR_ADMIN_TOKEN']] : []));
    expect(tokens).toEqual(['s3cret', 's3cret', 's3cret']);
  });
});
