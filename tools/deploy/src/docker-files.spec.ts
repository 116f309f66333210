// real: the Dockerfiles, .dockerignore and docker/healthcheck.js of this repository, `kvr --help` and
// `kvctl --help` run as processes, the apps' config schemas; mock: nothing (no Docker daemon is
// needed: the files are read, and docker-runtime.spec.ts runs what the images run).
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { envNameFor } from '@kvr/config';
import { runCli } from '@kvr/testing';
import { APP_ENDPOINTS, configValue, effectiveConfig, listenSockets } from './compose-stack';
import { DockerIgnore, loadDockerIgnore, loadImages, parseDockerfile, runtimeLayout, runtimeNpmCi, runtimeRunCommands, stageSettings, type ImageSpec } from './docker-files';

const ROOT = join(__dirname, '..', '..', '..');

/** The images the product ships and the command each one runs. */
const EXPECTED_IMAGES: Record<string, string> = {
  gateway: 'gateway',
  indexer: 'indexer',
  'kv-collector': 'collector',
  'load-scorer': 'load-scorer',
  tokenizer: 'tokenizer',
  'vllm-sim': 'sim',
  kvctl: 'kvctl',
};

/** The subcommands a launcher lists under "Commands:" in its --help. */
async function subcommands(launcher: 'kvr' | 'kvctl'): Promise<Set<string>> {
  const result = await runCli(launcher, ['--help'], { KVR_CONFIG: undefined });
  expect(result.code).toBe(0);
  const section = result.stdout.split('Commands:\n')[1] ?? '';
  return new Set([...section.matchAll(/^ {2}(\S+) {2,}/gm)].map((match) => match[1] as string));
}

interface HealthProbe {
  hostKey: string;
  hostVar: string;
  portKey: string;
  portVar: string;
  defaultPort: number;
}

const healthcheckModule = createRequire(__filename)(join(ROOT, 'docker', 'healthcheck.js')) as {
  PROBES: Record<string, HealthProbe>;
  probeTarget(app: string, env: Record<string, string>): { host: string; port: number; path: string };
};

describe('docker/ images', () => {
  const images = loadImages(ROOT);
  const all = [...images.values()];
  let kvrCommands: Set<string>;
  let kvctlCommands: Set<string>;

  beforeAll(async () => {
    [kvrCommands, kvctlCommands] = await Promise.all([subcommands('kvr'), subcommands('kvctl')]);
  }, 60_000);

  it('has one Dockerfile per deployable app, each running that app through its launcher', () => {
    expect(Object.fromEntries(all.map((image) => [image.name, image.app]))).toEqual(EXPECTED_IMAGES);
    for (const image of all) {
      expect(image.launcher).not.toBe('');
      if (image.launcher === 'kvr') {
        expect(kvrCommands.has(image.app)).toBe(true);
        expect(image.command.slice(0, 2)).toEqual(['node', 'tools/bin/kvr.js']);
        expect(image.command).toHaveLength(3);
      } else {
        // A tools image: the entry point is the CLI, the default command one of its commands.
        expect(image.command.slice(0, 2)).toEqual(['node', 'tools/bin/kvctl.js']);
        expect(kvctlCommands.has(image.command[2] ?? '')).toBe(true);
      }
    }
  });

  it.each(Object.keys(EXPECTED_IMAGES))('%s: a build stage that compiles, then a runtime stage on a tagged slim Node image', (name) => {
    const image = images.get(name) as ImageSpec;
    const stages = image.dockerfile.stages;
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) {
      // A stage may start from an earlier one; anything else is an image pinned to a tag.
      if (stages.some((other) => other.name === stage.image)) continue;
      expect(stage.image).toMatch(/^[a-z0-9./-]+:[A-Za-z0-9][A-Za-z0-9._-]*(@sha256:[0-9a-f]{64})?$/);
      expect(stage.image).not.toMatch(/:latest\b/);
    }
    const build = stages[0]!;
    const runs = build.instructions.flatMap((i) => (i.kind === 'RUN' && i.command.form === 'shell' ? [i.command.script] : []));
    expect(runs.some((run) => /^npm ci\b/.test(run))).toBe(true);
    expect(runs).toContain('node tools/bin/build.js --force');
    // Everything tools/bin/build.js compiles from must be in the build stage.
    const copied = build.instructions.flatMap((i) => (i.kind === 'COPY' ? i.sources : []));
    expect(copied).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'tsconfig.base.json', 'tsconfig.build.json', 'tools/bin', 'apps', 'libs']));
    expect(image.runtime.image).toMatch(/^node:20[.\d]*-bookworm-slim$/);
    expect(image.runtime.image).toBe(build.image);
  });

  it.each(Object.keys(EXPECTED_IMAGES))('%s: runs as a non-root user, without a build at start, with production dependencies only', (name) => {
    const image = images.get(name) as ImageSpec;
    const { settings } = image;
    expect(settings.user).toBeDefined();
    expect(settings.user).not.toMatch(/^(root|0)(:|$)/);
    // USER comes after every RUN, so nothing the app runs is root's.
    const lastUser = image.runtime.instructions.findIndex((i) => i.kind === 'USER');
    expect(image.runtime.instructions.slice(lastUser).some((i) => i.kind === 'RUN')).toBe(false);
    expect(settings.env['KVR_NO_BUILD']).toBe('1');
    expect(settings.env['NODE_ENV']).toBe('production');
    const npmCi = runtimeNpmCi(image);
    expect(npmCi).toEqual(expect.arrayContaining(['--omit=dev', '--ignore-scripts']));
    // docker-runtime.spec.ts reproduces the final stage from its COPY lines and this npm ci; any
    // other command there would not be reproduced, so only these are allowed.
    for (const { line, command } of runtimeRunCommands(image)) {
      expect({ line, command, allowed: /^(npm ci |npm cache clean --force$|mkdir -p \/tmp\/[\w/-]+$|chown node:node \/tmp\/[\w/-]+$)/.test(command) }).toEqual({ line, command, allowed: true });
    }
    expect(image.settings.workdir).toBe('/app');
  });

  it.each(Object.keys(EXPECTED_IMAGES))('%s: every COPY source exists and is in the build context', (name) => {
    const image = images.get(name) as ImageSpec;
    const ignore = loadDockerIgnore(ROOT);
    for (const stage of image.dockerfile.stages) {
      for (const instruction of stage.instructions) {
        if (instruction.kind !== 'COPY' || instruction.from !== undefined) continue;
        for (const source of instruction.sources) {
          expect({ source, ignored: ignore.ignores(source) }).toEqual({ source, ignored: false });
        }
      }
    }
    // The runtime layout resolves every source (context ones, and build-stage ones as the same
    // path in a built checkout) and fails on a missing one.
    const layout = runtimeLayout(image, ROOT);
    expect(layout.map((entry) => entry.target).sort()).toEqual(
      ['.npmrc', 'dist', 'docker/healthcheck.js', 'libs/contracts/proto', 'package-lock.json', 'package.json', 'tools/bin', 'tsconfig.base.json'].sort(),
    );
    // What tools/bin/launch.js and the apps read at run time.
    expect(layout.find((entry) => entry.target === 'dist')?.fromStage).toBe(image.dockerfile.stages[0]?.name);
  });

  it.each(Object.keys(EXPECTED_IMAGES))('%s: its ENV is valid configuration of its app and it EXPOSEs exactly the ports the app listens on', (name) => {
    const image = images.get(name) as ImageSpec;
    const kvrEnv = Object.fromEntries(Object.entries(image.settings.env).filter(([key]) => key.startsWith('KVR_')));
    const { config, ignoredEnv } = effectiveConfig(image.app, kvrEnv);
    expect(ignoredEnv).toEqual([]);
    const sockets = listenSockets(image.app, config);
    expect([...image.settings.exposed].sort()).toEqual(sockets.map((socket) => socket.port).sort());
    // Reachable from other containers: no listener on loopback.
    for (const socket of sockets) expect({ field: socket.field, host: socket.host }).toEqual({ field: socket.field, host: '0.0.0.0' });
  });

  it.each(Object.keys(EXPECTED_IMAGES))("%s: HEALTHCHECK runs docker/healthcheck.js for its app, or NONE for a one-shot CLI", (name) => {
    const image = images.get(name) as ImageSpec;
    const check = image.settings.healthcheck;
    expect(check).toBeDefined();
    if (image.launcher === 'kvctl') {
      expect(check?.none).toBe(true);
      return;
    }
    if (!check || check.none) throw new Error(`${name} has no health check`);
    expect(check.command).toEqual({ form: 'exec', argv: ['node', 'docker/healthcheck.js', image.app] });
    expect(Object.keys(check.options).sort()).toEqual(['interval', 'retries', 'start-interval', 'start-period', 'timeout']);
    // The probe gives up before Docker kills it, so a hung app is reported as such.
    expect(seconds(check.options['timeout'] as string)).toBeGreaterThan(3);
  });

  it("docker/healthcheck.js probes each app's /health where the app's configuration puts it", () => {
    const { PROBES, probeTarget } = healthcheckModule;
    const withHealth = Object.entries(APP_ENDPOINTS).filter(([, endpoints]) => endpoints.health !== undefined);
    expect(Object.keys(PROBES).sort()).toEqual(withHealth.map(([app]) => app).sort());
    for (const [app, endpoints] of withHealth) {
      const health = endpoints.health!;
      const { config } = effectiveConfig(app, {});
      expect({ app, ...PROBES[app] }).toEqual({
        app,
        hostKey: health.host,
        hostVar: envNameFor(health.host.split('.')),
        portKey: health.port,
        portVar: envNameFor(health.port.split('.')),
        defaultPort: configValue(config, health.port),
      });
      expect(probeTarget(app, {})).toEqual({ host: '127.0.0.1', port: configValue(config, health.port), path: '/health' });
      // A wildcard listen host is probed on loopback.
      expect(probeTarget(app, { [PROBES[app]!.hostVar]: '0.0.0.0', [PROBES[app]!.portVar]: '9999' })).toEqual({ host: '127.0.0.1', port: 9999, path: '/health' });
    }
  });

  it('.dockerignore keeps local builds and installs out of the context but not what the images copy', () => {
    const ignore = loadDockerIgnore(ROOT);
    for (const path of ['node_modules/zeromq/package.json', 'libs/config/node_modules/x', 'dist/apps/kvr/src/main.js', '.git/HEAD', 'out/report.md', 'libs/config/src/load.spec.ts', 'tools/deploy/src/docker-files.ts']) {
      expect({ path, ignored: ignore.ignores(path) }).toEqual({ path, ignored: true });
    }
    for (const path of ['tools/bin/kvr.js', 'libs/config/src/load.ts', 'apps/gateway/src/main.ts', 'libs/contracts/proto/kvr/index/v1/indexer.proto', 'docker/healthcheck.js', 'package-lock.json']) {
      expect({ path, ignored: ignore.ignores(path) }).toEqual({ path, ignored: false });
    }
  });

  it('every Dockerfile in docker/ parses, and the reader rejects what it does not model', () => {
    const files = readdirSync(join(ROOT, 'docker')).filter((entry) => entry.endsWith('.Dockerfile'));
    expect(files).toHaveLength(all.length);
    for (const file of files) expect(() => parseDockerfile(readFileSync(join(ROOT, 'docker', file), 'utf8'), file)).not.toThrow();
    expect(() => parseDockerfile('FROM node:20\nADD x y\n', 'x')).toThrow(/unsupported instruction ADD/);
    expect(() => parseDockerfile('FROM node:20\nCMD ["node", \n', 'x')).toThrow(/not a JSON array/);
    expect(() => parseDockerfile('FROM node:20\nENV A 1\n', 'x')).toThrow(/KEY=value/);
    expect(() => parseDockerfile('FROM node:20\nCOPY --chmod=755 a b\n', 'x')).toThrow(/unsupported flag/);
    expect(() => parseDockerfile('FROM node:$V\n', 'x')).toThrow(/substitution/);
    expect(() => parseDockerfile('# escape=`\nFROM node:20\n', 'x')).toThrow(/directive/);
    const parsed = parseDockerfile('FROM a:1 AS one\nWORKDIR /w\nENV A=1 \\\n    B="two words"\n# note\nENTRYPOINT ["x"]\nCMD ["y"]\nFROM one\nENTRYPOINT ["z"]\n', 'x');
    expect(stageSettings(parsed.stages[0]!)).toMatchObject({ workdir: '/w', env: { A: '1', B: 'two words' }, entrypoint: { form: 'exec', argv: ['x'] }, cmd: { form: 'exec', argv: ['y'] } });
    // A later ENTRYPOINT resets CMD, as in Docker.
    expect(stageSettings(parsed.stages[1]!).cmd).toBeUndefined();
    const ignore = new DockerIgnore('**/node_modules\ntools/*\n!tools/bin\n*.md\n');
    expect([ignore.ignores('a/b/node_modules/c'), ignore.ignores('tools/x/y'), ignore.ignores('tools/bin/kvr.js'), ignore.ignores('README.md'), ignore.ignores('docs/a.md')]).toEqual([true, true, false, true, false]);
  });
});

function seconds(duration: string): number {
  const match = /^(\d+)(ms|s|m|h)$/.exec(duration);
  if (!match) throw new Error(`not a duration: ${duration}`);
  return Number(match[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[match[2] as 'ms' | 's' | 'm' | 'h'];
}
