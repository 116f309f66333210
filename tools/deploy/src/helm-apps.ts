/**
 * What the repository says the deployment may refer to: the `kvr` subcommands and the app each
 * one starts (apps/kvr/src/main.ts), the Dockerfiles (docker/<app>.Dockerfile), each app's
 * configuration schema and loader (libs/config), and the HTTP paths each app serves.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { APP_SCHEMAS, ConfigError, loadConfig } from '@kvr/config';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { REPO_ROOT } from './helm-binaries';
import { podTemplate, resolveEnv, workloads, type K8sObject, type ResolvedEnv } from './helm-manifests';

/** Registry of the product's images (chart value image.registry). */
export const IMAGE_REGISTRY = 'ghcr.io/kv-router';

export interface KvrApp {
  /** `kvr <subcommand>`. */
  subcommand: string;
  /** The folder under apps/ whose compiled main module the subcommand loads; also the image name. */
  dir: string;
}

/** The subcommands `kvr` knows, read from its APPS table (each entry names its module by path). */
export function kvrApps(): KvrApp[] {
  const source = readFileSync(join(REPO_ROOT, 'apps', 'kvr', 'src', 'main.ts'), 'utf8');
  const table = /const APPS[^=]*=\s*\{([\s\S]*?)\n\};/.exec(source)?.[1];
  if (!table) throw new Error('apps/kvr/src/main.ts: no APPS table found');
  const apps: KvrApp[] = [];
  for (const match of table.matchAll(/(?:'([a-z0-9-]+)'|([a-z0-9-]+)):\s*\{[^}]*?module:\s*'apps\/([a-z0-9-]+)\/src\/[^']+'/g)) {
    apps.push({ subcommand: match[1] ?? match[2] ?? '', dir: match[3] ?? '' });
  }
  if (apps.length === 0) throw new Error('apps/kvr/src/main.ts: APPS lists no app');
  return apps;
}

export function dockerfilePath(imageName: string): string {
  return join(REPO_ROOT, 'docker', `${imageName}.Dockerfile`);
}

/** `ghcr.io/kv-router/kv-collector:0.1.0` → `kv-collector`; undefined for other registries. */
export function productImageName(image: string): string | undefined {
  if (!image.startsWith(`${IMAGE_REGISTRY}/`)) return undefined;
  const rest = image.slice(IMAGE_REGISTRY.length + 1);
  return /^([a-z0-9-]+)(?::[A-Za-z0-9._-]+)?$/.exec(rest)?.[1];
}

/** One container of the product: where it runs and which app it starts. */
export interface KvrContainer {
  workload: K8sObject;
  container: IContainer;
  /** The app the container starts: its first argument to the image's kvr entry point. */
  subcommand: string;
  /** Image name under the product registry. */
  imageName: string;
}

/** Every container that runs a product image. */
export function kvrContainers(objects: readonly K8sObject[]): KvrContainer[] {
  const found: KvrContainer[] = [];
  for (const workload of workloads(objects)) {
    for (const c of podTemplate(workload).spec.containers) {
      const imageName = productImageName(c.image ?? '');
      if (imageName === undefined) continue;
      // The image's entry point is the kvr launcher, so the first argument names the app; a
      // command of its own would have to start the launcher itself.
      const subcommand = c.command === undefined ? c.args?.[0] : c.command[0] === 'kvr' ? c.command[1] : undefined;
      found.push({ workload, container: c, imageName, subcommand: subcommand ?? '' });
    }
  }
  return found;
}

/**
 * Example contents of the Secrets the chart can read, by the variable they fill, so that values
 * from Secrets go through the config loader like the others.
 */
export const SECRET_SAMPLES: Readonly<Record<string, string>> = {
  KVR_REDIS: 'redis://kvr:s3cret@redis.example.internal:6379',
  KVR_NATS: 'nats://nats-0.example.internal:4222,nats://nats-1.example.internal:4222',
  KVR_DEBUG_TOKEN: 'debug-token',
  HF_TOKEN: 'hf_sample',
};

export interface LoadedAppConfig {
  resolved: ResolvedEnv;
  /** The validated config object, as the app would build it at start. */
  config: Record<string, unknown>;
  /** KVR_* variables that are no field of the app (typos): the app would warn and ignore them. */
  ignoredEnv: string[];
}

/**
 * Builds a container's configuration with the app's real loader (libs/config) from the
 * environment the kubelet would give it. Invalid values throw the loader's ConfigError.
 */
export function loadContainerConfig(entry: KvrContainer): LoadedAppConfig {
  const schema = APP_SCHEMAS[entry.subcommand];
  if (!schema) throw new Error(`${entry.container.name}: kvr ${entry.subcommand} has no config schema (known: ${Object.keys(APP_SCHEMAS).join(', ')})`);
  const resolved = resolveEnv(entry.container, SECRET_SAMPLES);
  const { config, ignoredEnv } = loadConfig(schema, { app: entry.subcommand, env: resolved.env });
  return { resolved, config: config as Record<string, unknown>, ignoredEnv };
}

/** The loader's problems for a container, or an empty list. */
export function configProblems(entry: KvrContainer): string[] {
  try {
    const { ignoredEnv } = loadContainerConfig(entry);
    return ignoredEnv.map((name) => `${entry.workload.metadata.name}/${entry.container.name}: ${name} is no setting of kvr ${entry.subcommand}`);
  } catch (err) {
    if (err instanceof ConfigError) return [`${entry.workload.metadata.name}/${entry.container.name}: ${err.message}`];
    throw err;
  }
}

function literalPaths(text: string, pattern: RegExp): string[] {
  return [...text.matchAll(pattern)].map((m) => m[1] ?? '');
}

/**
 * HTTP GET paths an app serves, read from its source: the shared admin server
 * (libs/runtime/src/admin-server.ts) plus the app's own extra routes for apps that start it, the
 * NestJS `@Get` routes for the gateway.
 */
export function servedGetPaths(dir: string): Set<string> {
  const appSrc = join(REPO_ROOT, 'apps', dir, 'src');
  const files = readdirSync(appSrc).filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'));
  const sources = files.map((f) => readFileSync(join(appSrc, f), 'utf8'));
  const paths = new Set<string>();
  if (sources.some((s) => s.includes('startAdminServer('))) {
    const admin = readFileSync(join(REPO_ROOT, 'libs', 'runtime', 'src', 'admin-server.ts'), 'utf8');
    for (const p of literalPaths(admin, /path === '(\/[a-z/]*)'/g)) paths.add(p);
    for (const s of sources) for (const p of literalPaths(s, /[!=]== '(\/[a-z/]+)'/g)) paths.add(p);
  }
  for (const s of sources) for (const p of literalPaths(s, /@Get\('([a-z0-9/]+)'\)/g)) paths.add(`/${p}`);
  return paths;
}

export function dockerfileExists(imageName: string): boolean {
  return existsSync(dockerfilePath(imageName));
}

/** The exec-form ENTRYPOINT and CMD of a Dockerfile's last stage. */
export function dockerfileEntry(imageName: string): { entrypoint: string[] | undefined; cmd: string[] | undefined } {
  const text = readFileSync(dockerfilePath(imageName), 'utf8');
  const lastStage = text.slice(Math.max(0, text.search(/^FROM [^\n]*$(?![\s\S]*^FROM )/m)));
  const last = (instruction: string): string[] | undefined => {
    const matches = [...lastStage.matchAll(new RegExp(`^${instruction}\\s+(\\[.*\\])\\s*$`, 'gm'))];
    const json = matches.at(-1)?.[1];
    return json === undefined ? undefined : (JSON.parse(json) as string[]);
  };
  return { entrypoint: last('ENTRYPOINT'), cmd: last('CMD') };
}
