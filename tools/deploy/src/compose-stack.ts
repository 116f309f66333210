/**
 * docker/compose.yaml as the deployment checks see it: a strict reader (unknown keys are errors,
 * as a misspelt key would silently do nothing in Docker), each service's app and effective
 * environment (image ENV, then the service's), its configuration through the apps' own loader,
 * the addresses every service listens on and refers to, and the rewrite that runs a service on
 * this machine instead of in a container.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import { APP_SCHEMAS, envNameFor, loadConfig } from '@kvr/config';
import { parse as parseYaml } from 'yaml';
import { commandWith, type ImageSpec } from './docker-files';

export interface VolumeMount {
  /** A named volume, or a bind-mounted path relative to the repository root. */
  readonly kind: 'volume' | 'bind';
  readonly source: string;
  readonly target: string;
  readonly readOnly: boolean;
}

export interface ComposeService {
  readonly name: string;
  readonly image: string | undefined;
  /** Repository-relative build context and Dockerfile. */
  readonly build: { readonly context: string; readonly dockerfile: string } | undefined;
  readonly command: readonly string[] | undefined;
  readonly environment: Readonly<Record<string, string>>;
  readonly volumes: readonly VolumeMount[];
  readonly ports: readonly { readonly host: number; readonly container: number }[];
  readonly dependsOn: Readonly<Record<string, string>>;
  readonly healthcheck: readonly string[] | undefined;
  readonly profiles: readonly string[];
}

export interface ComposeFile {
  /** Repository-relative path. */
  readonly file: string;
  readonly services: ReadonlyMap<string, ComposeService>;
  readonly volumes: readonly string[];
}

export class ComposeError extends Error {
  override readonly name = 'ComposeError';
}

const TOP_LEVEL_KEYS = new Set(['name', 'services', 'volumes']);
const SERVICE_KEYS = new Set(['image', 'build', 'command', 'environment', 'volumes', 'ports', 'depends_on', 'healthcheck', 'restart', 'profiles']);
const BUILD_KEYS = new Set(['context', 'dockerfile']);
const HEALTHCHECK_KEYS = new Set(['test', 'interval', 'timeout', 'retries', 'start_period', 'start_interval']);
const CONDITIONS = new Set(['service_started', 'service_healthy', 'service_completed_successfully']);

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Compose's variable interpolation, limited to what the file uses: `${NAME:-default}` and `$$`.
 * Any other `$` is an error, so that an unintended substitution cannot slip in.
 */
export function interpolate(text: string, env: Readonly<Record<string, string | undefined>>, where: string): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*):-([^}]*)\}|\$/g, (match, name: string | undefined, fallback: string | undefined) => {
    if (match === '$$') return '$';
    if (name === undefined) throw new ComposeError(`${where}: unsupported "$" in "${text}" (use \${NAME:-default} or $$)`);
    const value = env[name];
    return value === undefined || value === '' ? (fallback ?? '') : value;
  });
}

function interpolateAll(value: unknown, env: Readonly<Record<string, string | undefined>>, where: string): unknown {
  if (typeof value === 'string') return interpolate(value, env, where);
  if (Array.isArray(value)) return value.map((item, index) => interpolateAll(item, env, `${where}[${index}]`));
  if (isMap(value)) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolateAll(item, env, `${where}.${key}`)]));
  return value;
}

/** Reads a compose file (repository-relative) with `hostEnv` as the shell environment compose would interpolate from. */
export function loadCompose(root: string, file: string, hostEnv: Readonly<Record<string, string | undefined>> = {}): ComposeFile {
  const composeDir = dirname(join(root, file));
  const fail = (message: string): never => {
    throw new ComposeError(`${file}: ${message}`);
  };
  // Merge keys (`<<: *anchor`) are part of the compose format.
  const raw = interpolateAll(parseYaml(readFileSync(join(root, file), 'utf8'), { merge: true }), hostEnv, file);
  if (!isMap(raw)) return fail('the top level must be a mapping');
  for (const key of Object.keys(raw)) if (!TOP_LEVEL_KEYS.has(key) && !key.startsWith('x-')) fail(`unknown top-level key "${key}"`);
  const repoPath = (path: string): string => relative(root, resolve(composeDir, path)).split(sep).join('/');
  const services = new Map<string, ComposeService>();
  if (!isMap(raw['services'])) return fail('services must be a mapping');
  for (const [name, value] of Object.entries(raw['services'])) {
    const where = `services.${name}`;
    if (!isMap(value)) return fail(`${where} must be a mapping`);
    for (const key of Object.keys(value)) if (!SERVICE_KEYS.has(key)) fail(`${where}: unknown key "${key}"`);
    const strings = (list: unknown, what: string): string[] => {
      if (!Array.isArray(list) || !list.every((item) => typeof item === 'string')) return fail(`${where}.${what} must be a list of strings`);
      return list as string[];
    };
    let build: ComposeService['build'];
    if (value['build'] !== undefined) {
      const b = value['build'];
      if (!isMap(b) || typeof b['context'] !== 'string' || typeof b['dockerfile'] !== 'string') return fail(`${where}.build needs context and dockerfile`);
      for (const key of Object.keys(b)) if (!BUILD_KEYS.has(key)) fail(`${where}.build: unknown key "${key}"`);
      const context = repoPath(b['context']);
      build = { context, dockerfile: posix.join(context === '' ? '.' : context, b['dockerfile']).replace(/^\.\//, '') };
    }
    const environment: Record<string, string> = {};
    const env = value['environment'] ?? {};
    if (!isMap(env)) return fail(`${where}.environment must be a mapping`);
    for (const [key, item] of Object.entries(env)) {
      // A null value takes the variable from the host's shell and a boolean is not a string:
      // neither is a configuration anyone should have to guess.
      if (typeof item !== 'string' && typeof item !== 'number') fail(`${where}.environment.${key} must be a string`);
      environment[key] = String(item);
    }
    const volumes = (value['volumes'] === undefined ? [] : strings(value['volumes'], 'volumes')).map((spec): VolumeMount => {
      const parts = spec.split(':');
      if (parts.length < 2 || parts.length > 3 || (parts.length === 3 && parts[2] !== 'ro' && parts[2] !== 'rw')) return fail(`${where}.volumes: cannot read "${spec}"`);
      const [source, target] = parts as [string, string];
      if (!target.startsWith('/')) fail(`${where}.volumes: the target of "${spec}" must be absolute`);
      const bind = source.startsWith('.') || source.startsWith('/');
      if (source.startsWith('/')) fail(`${where}.volumes: "${spec}" binds an absolute host path; use a path relative to the compose file`);
      return { kind: bind ? 'bind' : 'volume', source: bind ? repoPath(source) : source, target, readOnly: parts[2] === 'ro' };
    });
    const ports = (value['ports'] === undefined ? [] : strings(value['ports'], 'ports')).map((spec) => {
      const match = /^(\d{1,5}):(\d{1,5})$/.exec(spec);
      if (!match) return fail(`${where}.ports: expected "HOST:CONTAINER", got "${spec}"`);
      return { host: Number(match[1]), container: Number(match[2]) };
    });
    const dependsOn: Record<string, string> = {};
    const deps = value['depends_on'] ?? {};
    if (Array.isArray(deps)) for (const dep of strings(deps, 'depends_on')) dependsOn[dep] = 'service_started';
    else if (isMap(deps)) {
      for (const [dep, spec] of Object.entries(deps)) {
        if (!isMap(spec) || typeof spec['condition'] !== 'string' || !CONDITIONS.has(spec['condition']) || Object.keys(spec).length !== 1) fail(`${where}.depends_on.${dep} needs one condition of ${[...CONDITIONS].join(', ')}`);
        dependsOn[dep] = (spec as Record<string, string>)['condition'] as string;
      }
    } else fail(`${where}.depends_on must be a list or a mapping`);
    let healthcheck: string[] | undefined;
    if (value['healthcheck'] !== undefined) {
      const check = value['healthcheck'];
      if (!isMap(check)) return fail(`${where}.healthcheck must be a mapping`);
      for (const key of Object.keys(check)) if (!HEALTHCHECK_KEYS.has(key)) fail(`${where}.healthcheck: unknown key "${key}"`);
      healthcheck = strings(check['test'], 'healthcheck.test');
      if (healthcheck[0] !== 'CMD' || healthcheck.length < 2) fail(`${where}.healthcheck.test must be ["CMD", …]`);
    }
    if (value['image'] !== undefined && typeof value['image'] !== 'string') fail(`${where}.image must be a string`);
    if (build === undefined && value['image'] === undefined) fail(`${where} needs an image or a build`);
    services.set(name, {
      name,
      image: value['image'] as string | undefined,
      build,
      command: value['command'] === undefined ? undefined : strings(value['command'], 'command'),
      environment,
      volumes,
      ports,
      dependsOn,
      healthcheck,
      profiles: value['profiles'] === undefined ? [] : strings(value['profiles'], 'profiles'),
    });
  }
  const volumes = raw['volumes'] === undefined ? [] : isMap(raw['volumes']) ? Object.keys(raw['volumes']) : fail('volumes must be a mapping');
  return { file, services, volumes };
}

/** A listening socket of an app: a port field with its host field, or a `host:port` address field (config paths, dotted). */
export type Listener = { readonly kind: 'port'; readonly port: string; readonly host: string } | { readonly kind: 'address'; readonly address: string };

export interface AppEndpoints {
  readonly listeners: readonly Listener[];
  /** Where the app answers GET /health (also what docker/healthcheck.js probes). */
  readonly health: { readonly host: string; readonly port: string } | undefined;
}

const probe: Listener = { kind: 'port', port: 'probePort', host: 'probeHost' };

/** What each app listens on, by config field (docs/configuration.md). */
export const APP_ENDPOINTS: Readonly<Record<string, AppEndpoints>> = {
  collector: { listeners: [probe], health: { host: 'probeHost', port: 'probePort' } },
  gateway: { listeners: [{ kind: 'port', port: 'port', host: 'host' }], health: { host: 'host', port: 'port' } },
  indexer: { listeners: [{ kind: 'address', address: 'grpc' }, probe], health: { host: 'probeHost', port: 'probePort' } },
  kvctl: { listeners: [], health: undefined },
  'load-scorer': { listeners: [{ kind: 'address', address: 'grpc' }, probe], health: { host: 'probeHost', port: 'probePort' } },
  sim: {
    listeners: [
      { kind: 'port', port: 'port', host: 'host' },
      { kind: 'port', port: 'kvEvents.port', host: 'host' },
      { kind: 'port', port: 'kvEvents.replayPort', host: 'host' },
    ],
    health: { host: 'host', port: 'port' },
  },
  tokenizer: { listeners: [{ kind: 'address', address: 'tcp' }, probe], health: { host: 'probeHost', port: 'probePort' } },
};

/** A config value by dotted path. */
export function configValue(config: object, path: string): unknown {
  let node: unknown = config;
  for (const key of path.split('.')) node = isMap(node) ? node[key] : undefined;
  return node;
}

/** An app's effective configuration under `env` (the apps' own loader: defaults < KVR_*); throws ConfigError listing every problem. */
export function effectiveConfig(app: string, env: Readonly<Record<string, string>>): { config: object; ignoredEnv: string[] } {
  const schema = APP_SCHEMAS[app];
  if (!schema) throw new ComposeError(`no configuration schema for app "${app}"`);
  return loadConfig(schema, { app, env: { ...env } });
}

/** The sockets an app listens on under a configuration: port > 0, `host:port` addresses split. */
export function listenSockets(app: string, config: object): { field: string; host: string; port: number }[] {
  const sockets: { field: string; host: string; port: number }[] = [];
  for (const listener of APP_ENDPOINTS[app]?.listeners ?? []) {
    if (listener.kind === 'port') {
      const port = Number(configValue(config, listener.port));
      if (port > 0) sockets.push({ field: listener.port, host: String(configValue(config, listener.host)), port });
    } else {
      const address = String(configValue(config, listener.address) ?? '');
      const match = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(address);
      if (match && Number(match[2]) > 0) sockets.push({ field: listener.address, host: match[1] as string, port: Number(match[2]) });
    }
  }
  return sockets;
}

/** A service built from one of the images: which app it runs and with which environment. */
export interface AppService {
  readonly service: ComposeService;
  readonly image: ImageSpec;
  readonly app: string;
  readonly command: readonly string[];
  /** The image's ENV, then the service's environment over it. */
  readonly env: Readonly<Record<string, string>>;
}

/** The services built from docker/ images, with the image each one builds. */
export function appServices(compose: ComposeFile, images: ReadonlyMap<string, ImageSpec>): AppService[] {
  const byFile = new Map([...images.values()].map((image) => [image.file, image]));
  const result: AppService[] = [];
  for (const service of compose.services.values()) {
    if (!service.build) continue;
    const image = byFile.get(service.build.dockerfile);
    if (!image) throw new ComposeError(`${service.name} builds ${service.build.dockerfile}, which is not an image in docker/`);
    const command = commandWith(image, service.command);
    const app = image.launcher === 'kvr' ? (command[2] ?? '') : image.launcher;
    result.push({ service, image, app, command, env: { ...image.settings.env, ...service.environment } });
  }
  return result;
}

export const WILDCARD_HOSTS: ReadonlySet<string> = new Set(['0.0.0.0', '::', '[::]']);

/** `host:port` inside a value, with the host a service name (in URLs, gRPC targets, ZeroMQ endpoints). */
export function serviceReferences(value: string, serviceNames: ReadonlySet<string>): { host: string; port: number }[] {
  const refs: { host: string; port: number }[] = [];
  for (const match of value.matchAll(/(?<![A-Za-z0-9.-])([A-Za-z0-9][A-Za-z0-9.-]*):(\d{1,5})(?![0-9])/g)) {
    const host = match[1] as string;
    if (serviceNames.has(host)) refs.push({ host, port: Number(match[2]) });
  }
  return refs;
}

/** The pods of a static discovery list as JSON, or an empty list. */
export function discoveryPods(env: Readonly<Record<string, string>>): Record<string, unknown>[] {
  const text = env['KVR_DISCOVERY__PODS'];
  if (text === undefined) return [];
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed) || !parsed.every(isMap)) throw new ComposeError('KVR_DISCOVERY__PODS must be a JSON list of objects');
  return parsed;
}

/** Where a service's listener or a compose service reached from another one ends up on this machine. */
export interface LocalStack {
  /** `host:port` on this machine for `service:port` (throws when nothing there listens on it). */
  address(service: string, port: number): string;
  /** This machine's directory for a named volume. */
  volumeDir(volume: string): string;
}

/**
 * The environment that runs an app service as a local process, standing in for the container
 * network: every `service:port` becomes the local address of that listener, the service's own
 * listeners move to their local ports on loopback, and paths inside a named volume move to the
 * volume's local directory (so a socket shared through a volume is shared here too).
 */
export function localEnvironment(app: AppService, serviceNames: ReadonlySet<string>, stack: LocalStack): Record<string, string> {
  const env: Record<string, string> = {};
  const rewrite = (value: string): string => {
    let result = value.replace(/(?<![A-Za-z0-9.-])([A-Za-z0-9][A-Za-z0-9.-]*):(\d{1,5})(?![0-9])/g, (match, host: string, port: string) =>
      serviceNames.has(host) ? stack.address(host, Number(port)) : match,
    );
    for (const mount of app.service.volumes) {
      if (mount.kind !== 'volume') continue;
      result = result.replace(new RegExp(`(^|unix://)${mount.target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=/|$)`), (_, prefix: string) => `${prefix}${stack.volumeDir(mount.source)}`);
    }
    return result;
  };
  for (const [key, value] of Object.entries(app.env)) {
    if (key === 'KVR_DISCOVERY__PODS') {
      const pods = discoveryPods(app.env).map((pod) => {
        const out: Record<string, unknown> = { ...pod };
        if (typeof pod['address'] === 'string' && serviceNames.has(pod['address'])) {
          const local = stack.address(pod['address'], typeof pod['httpPort'] === 'number' ? pod['httpPort'] : 8000);
          const split = local.lastIndexOf(':');
          out['address'] = local.slice(0, split);
          out['httpPort'] = Number(local.slice(split + 1));
        }
        for (const field of ['zmqEndpoint', 'replayEndpoint', 'id']) if (typeof pod[field] === 'string') out[field] = rewrite(pod[field]);
        return out;
      });
      env[key] = JSON.stringify(pods);
    } else if (/^KVR_(.+_)?HOST$/.test(key) && (WILDCARD_HOSTS.has(value) || serviceNames.has(value))) {
      env[key] = '127.0.0.1';
    } else {
      env[key] = rewrite(value);
    }
  }
  // Set every listener explicitly, also those left at their defaults, so that nothing binds a
  // fixed port of this machine.
  const { config } = effectiveConfig(app.app, app.env);
  for (const socket of listenSockets(app.app, config)) {
    const local = stack.address(app.service.name, socket.port);
    const listener = APP_ENDPOINTS[app.app]?.listeners.find((l) => (l.kind === 'port' ? l.port : l.address) === socket.field);
    if (listener?.kind === 'port') {
      env[envNameFor(listener.port.split('.'))] = local.slice(local.lastIndexOf(':') + 1);
      env[envNameFor(listener.host.split('.'))] = local.slice(0, local.lastIndexOf(':'));
    } else if (listener?.kind === 'address') {
      env[envNameFor(listener.address.split('.'))] = local;
    }
  }
  return env;
}

/** Services in start order: each after everything it depends on; throws on a cycle or an unknown target. */
export function startLevels(services: readonly ComposeService[], provided: ReadonlySet<string>): ComposeService[][] {
  const remaining = new Map(services.map((service) => [service.name, service]));
  const started = new Set(provided);
  const levels: ComposeService[][] = [];
  while (remaining.size > 0) {
    const level = [...remaining.values()].filter((service) => Object.keys(service.dependsOn).every((dep) => started.has(dep)));
    if (level.length === 0) throw new ComposeError(`cannot order ${[...remaining.keys()].join(', ')}: a dependency cycle or a dependency that is not started`);
    for (const service of level) {
      remaining.delete(service.name);
      started.add(service.name);
    }
    levels.push(level);
  }
  return levels;
}

/** Whether a repository path exists (bind-mount sources). */
export function repoPathExists(root: string, path: string): boolean {
  return existsSync(join(root, ...path.split('/')));
}
