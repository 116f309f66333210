// Images cannot be built here (no Docker daemon), so each image's command is run from what its
// final stage holds instead: the files its COPY lines put in, and a pruned
// `npm ci --omit=dev --ignore-scripts` install, in a temporary directory.
// real: that install (from the npm cache), every app service of docker/compose.yaml started with
// the image's command and the service's environment, redis-server and nats-server -js (standing in
// for the compose services of those images), the images' HEALTHCHECK command, the kvctl image;
// mock: the OpenTelemetry collector (a local OTLP/HTTP endpoint that accepts and records exports).
// Container addresses are rewritten to free local ports; a named volume becomes a local directory.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envNameFor } from '@kvr/config';
import { trackChild } from '@kvr/local-servers';
import { freePort, runCommand, startNats, startRedis, waitFor, type CliResult, type NatsServerHandle, type RedisServerHandle } from '@kvr/testing';
import { APP_ENDPOINTS, appServices, effectiveConfig, listenSockets, loadCompose, localEnvironment, startLevels, type AppService, type LocalStack } from './compose-stack';
import { commandWith, loadDockerIgnore, loadImages, materializeLayout, runtimeLayout, runtimeNpmCi, type ImageSpec } from './docker-files';

const ROOT = join(__dirname, '..', '..', '..');
const COMPOSE = 'docker/compose.yaml';
const MODEL = 'Qwen/Qwen3-32B';

interface Running {
  readonly name: string;
  readonly child: ChildProcessWithoutNullStreams;
  readonly env: Record<string, string>;
  exited: boolean;
  output: string;
}

/** Runs a command to completion (argv[0] is `node` in every image, i.e. this Node). */
function run(argv: readonly string[], cwd: string, env: Record<string, string>, timeoutMs = 60_000): Promise<CliResult> {
  const [command, ...args] = argv;
  return runCommand(command === 'node' ? process.execPath : (command as string), args, { cwd, env, timeoutMs });
}

/** A stand-in OTLP/HTTP receiver: answers every export with 200 and records what came. */
function startOtlpReceiver(): Promise<{ server: Server; port: number; exports: { path: string; contentType: string }[] }> {
  const exports: { path: string; contentType: string }[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      exports.push({ path: req.url ?? '', contentType: req.headers['content-type'] ?? '' });
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port, exports })));
}

describe('each image command from a production-only install (docker/compose.yaml services)', () => {
  const images = loadImages(ROOT);
  const compose = loadCompose(ROOT, COMPOSE);
  const serviceNames = new Set(compose.services.keys());
  const apps = appServices(compose, images);
  /** The stack `docker compose up` starts; kvctl is under a profile and runs on demand. */
  const upServices = apps.filter((app) => app.service.profiles.length === 0);
  const kvctl = apps.find((app) => app.app === 'kvctl');
  let scratch = '';
  const trees = new Map<ImageSpec, string>();
  const addresses = new Map<string, string>();
  const running = new Map<string, Running>();
  let nats: NatsServerHandle | undefined;
  let redis: RedisServerHandle | undefined;
  let otlp: Awaited<ReturnType<typeof startOtlpReceiver>> | undefined;

  const stack: LocalStack = {
    address(service, port) {
      const address = addresses.get(`${service}:${port}`);
      if (!address) throw new Error(`nothing listens on ${service}:${port} in the compose stack`);
      return address;
    },
    volumeDir(volume) {
      const dir = join(scratch, 'volumes', volume);
      mkdirSync(dir, { recursive: true });
      return dir;
    },
  };

  /** What a container of this image and service has: a PATH, a home, the image ENV and the service environment, addresses made local. */
  const processEnv = (app: AppService): Record<string, string> => ({
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: join(scratch, 'home'),
    ...localEnvironment(app, serviceNames, stack),
  });

  const treeOf = (app: AppService): string => trees.get(app.image) as string;

  beforeAll(async () => {
    // dist/ as the build stage makes it (the jest global setup has normally built it already).
    (createRequire(__filename)(join(ROOT, 'tools', 'bin', 'build.js')) as { build(options: { quiet: boolean }): void }).build({ quiet: true });
    scratch = mkdtempSync(join(tmpdir(), 'kvr-images-'));
    mkdirSync(join(scratch, 'home'), { recursive: true });

    // One tree per distinct final stage: same files and same install, same tree.
    const ignore = loadDockerIgnore(ROOT);
    const byLayout = new Map<string, ImageSpec[]>();
    for (const image of new Set(apps.map((app) => app.image))) {
      const files = runtimeLayout(image, ROOT).map(({ source, fromStage, target }) => ({ source, fromStage, target }));
      const key = JSON.stringify([files, runtimeNpmCi(image), image.settings.workdir]);
      byLayout.set(key, [...(byLayout.get(key) ?? []), image]);
    }
    for (const [index, group] of [...byLayout.values()].entries()) {
      const first = group[0] as ImageSpec;
      const dir = join(scratch, `tree-${index}`);
      materializeLayout(runtimeLayout(first, ROOT), ROOT, dir, ignore);
      // The image's own npm ci, from the local cache where it can.
      const npm = await run([...runtimeNpmCi(first), '--prefer-offline'], dir, { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? join(scratch, 'home') }, 240_000);
      if (npm.code !== 0) throw new Error(`${runtimeNpmCi(first).join(' ')} failed (${npm.code}):\n${npm.stderr.slice(-4000)}`);
      for (const image of group) trees.set(image, dir);
    }

    // The compose services of stock images are stood in for by local servers.
    [nats, redis, otlp] = await Promise.all([startNats(), startRedis(), startOtlpReceiver()]);
    for (const service of compose.services.values()) {
      const image = service.image ?? '';
      if (image.startsWith('nats:')) addresses.set(`${service.name}:4222`, `${nats.host}:${nats.port}`);
      if (image.startsWith('redis:')) addresses.set(`${service.name}:6379`, `${redis.host}:${redis.port}`);
      if (image.startsWith('otel/opentelemetry-collector')) addresses.set(`${service.name}:4318`, `127.0.0.1:${otlp.port}`);
    }
    for (const app of apps) {
      for (const socket of listenSockets(app.app, effectiveConfig(app.app, app.env).config)) {
        addresses.set(`${app.service.name}:${socket.port}`, `127.0.0.1:${await freePort()}`);
      }
    }
  }, 300_000);

  afterAll(async () => {
    await Promise.all(
      [...running.values()].map(async (proc) => {
        if (proc.exited) return;
        const gone = new Promise<void>((resolve) => proc.child.once('exit', () => resolve()));
        proc.child.kill('SIGTERM');
        const kill = setTimeout(() => proc.child.kill('SIGKILL'), 10_000);
        await gone;
        clearTimeout(kill);
      }),
    );
    await Promise.all([nats?.stop(), redis?.stop(), new Promise((resolve) => (otlp ? otlp.server.close(resolve) : resolve(undefined)))]);
    if (scratch !== '') rmSync(scratch, { recursive: true, force: true });
  }, 60_000);

  const healthUrl = (app: AppService, env: Record<string, string>): string => {
    const health = APP_ENDPOINTS[app.app]?.health;
    if (!health) throw new Error(`${app.app} has no health endpoint`);
    return `http://${env[envNameFor(health.host.split('.'))]}:${env[envNameFor(health.port.split('.'))]}/health`;
  };

  it('starts every service in depends_on order, each answers /health, and its image HEALTHCHECK command exits 0', async () => {
    const provided = new Set([...compose.services.values()].filter((service) => !service.build).map((service) => service.name));
    const levels = startLevels(
      upServices.map((app) => app.service),
      provided,
    );
    for (const level of levels) {
      const started = level.map((service) => {
        const app = upServices.find((candidate) => candidate.service.name === service.name) as AppService;
        expect(app.command[0]).toBe('node');
        const env = processEnv(app);
        const [, ...args] = app.command;
        const child = spawn(process.execPath, args, { cwd: treeOf(app), env, stdio: ['pipe', 'pipe', 'pipe'] });
        const proc: Running = { name: service.name, child, env, exited: false, output: '' };
        const untrack = trackChild(child);
        const keep = (chunk: Buffer): void => {
          proc.output = (proc.output + chunk.toString('utf8')).slice(-8_000);
        };
        child.stdout.on('data', keep);
        child.stderr.on('data', keep);
        child.once('exit', () => {
          proc.exited = true;
          untrack();
        });
        running.set(service.name, proc);
        return { app, proc };
      });
      await Promise.all(
        started.map(async ({ app, proc }) => {
          const url = healthUrl(app, proc.env);
          await waitFor(async () => ((await fetch(url)).ok ? true : undefined), {
            what: `${proc.name} (${app.command.slice(1).join(' ')}) to answer ${url}`,
            timeoutMs: 60_000,
            abortIf: () => (proc.exited ? `it exited:\n${proc.output}` : undefined),
          });
          const check = app.image.settings.healthcheck;
          if (!check || check.none || check.command.form !== 'exec') throw new Error(`${app.image.file} has no exec-form HEALTHCHECK`);
          const result = await run(check.command.argv, treeOf(app), proc.env, 30_000);
          expect({ service: proc.name, code: result.code, stderr: result.stderr }).toEqual({ service: proc.name, code: 0, stderr: '' });
        }),
      );
    }
    expect([...running.keys()].sort()).toEqual(upServices.map((app) => app.service.name).sort());
  }, 180_000);

  it('a gateway routes a completion to a pod, and the pod\'s KV events reach the index through collector, NATS and indexer', async () => {
    const gateway = upServices.find((app) => app.app === 'gateway') as AppService;
    const gatewayEnv = (running.get(gateway.service.name) as Running).env;
    const base = `http://${gatewayEnv['KVR_HOST']}:${gatewayEnv['KVR_PORT']}`;
    // More than one 64-token block, so that the pod stores (and announces) a full block.
    const prompt = `The compose stack routes this prompt by its prefix. ${Array.from({ length: 120 }, (_, i) => `word${i}`).join(' ')}`;
    const res = await fetch(`${base}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, prompt, max_tokens: 4 }) });
    expect(res.status).toBe(200);
    const pod = res.headers.get('x-kvr-pod');
    const sims = upServices.filter((app) => app.app === 'sim').map((app) => `127.0.0.1:${running.get(app.service.name)?.env['KVR_PORT']}`);
    expect(sims).toContain(pod);
    const completion = (await res.json()) as { choices: { text: string }[] };
    expect(completion.choices[0]?.text.length).toBeGreaterThan(0);

    // The kvctl image asks the indexer; blocks from events, not the gateway's speculative entry (2 s TTL).
    const tools = kvctl as AppService;
    const env = processEnv(tools);
    const lookup = commandWith(tools.image, ['lookup', '--model', MODEL, '--prompt', prompt, '--json']);
    const held = await waitFor(
      async () => {
        const result = await run(lookup, treeOf(tools), env);
        if (result.code !== 0) throw new Error(`kvctl lookup exited ${result.code}: ${result.stderr}`);
        const answer = JSON.parse(result.stdout) as { pods: { pod: string; matched_blocks: number; speculative_blocks: number }[] };
        return answer.pods.find((p) => p.pod === pod && p.matched_blocks > 0 && p.speculative_blocks === 0);
      },
      { what: `the index to hold ${pod}'s blocks of the prompt`, timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(held.matched_blocks).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('the kvctl image command (kvctl status) exits 0 against the running stack', async () => {
    const tools = kvctl as AppService;
    expect(tools.service.profiles).toEqual(['tools']);
    const result = await run(tools.command, treeOf(tools), processEnv(tools));
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^ok +nats/m);
    expect(result.stdout).toMatch(/^ok +gateway/m);
  }, 30_000);

  it('a stopped service flushes its spans to the OTLP endpoint compose gives it, over HTTP/protobuf', async () => {
    const gateway = upServices.find((app) => app.app === 'gateway') as AppService;
    const proc = running.get(gateway.service.name) as Running;
    const gone = new Promise<number | null>((resolve) => proc.child.once('exit', (code) => resolve(code)));
    proc.child.kill('SIGTERM');
    expect(await gone).toBe(0);
    const traces = otlp?.exports.filter((e) => e.path === '/v1/traces') ?? [];
    expect(traces.length).toBeGreaterThan(0);
    expect(traces[0]?.contentType).toBe('application/x-protobuf');
  }, 30_000);
});
