// The images' build stage, reproduced without Docker: the context files its COPY lines take
// (without what .dockerignore leaves out of the context) in a temporary directory, and its
// compile command run there. real: those files, tsc through tools/bin/build.js; stand-in: the
// stage's `npm ci` is the repository's node_modules (installed from the same lockfile), linked in.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { loadDockerIgnore, loadImages, materializeLayout, stageLayout, stageNpmCi, stageRunCommands, type ImageSpec, type Stage } from './docker-files';

const ROOT = join(__dirname, '..', '..', '..');

/** Repository-relative paths of the files below `dir` (relative to `base`) that `keep` accepts. */
function files(dir: string, base: string, keep: (path: string) => boolean): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = join(dir, entry.name);
    if (entry.name === 'node_modules') return [];
    if (entry.isDirectory()) return files(full, base, keep);
    const path = relative(base, full).split(sep).join('/');
    return keep(path) ? [path] : [];
  });
}

function runNode(args: readonly string[], cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? cwd }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

describe("the images' build stage", () => {
  const images = [...loadImages(ROOT).values()];
  let scratch = '';

  afterAll(() => {
    if (scratch !== '') rmSync(scratch, { recursive: true, force: true });
  });

  it('compiles from the build context alone: every app and lib source of the repository comes out in the dist/ the runtime stage copies', async () => {
    scratch = mkdtempSync(join(tmpdir(), 'kvr-image-build-'));
    // Identical build stages (same files, same commands) are compiled once.
    const byStage = new Map<string, { image: ImageSpec; stage: Stage }>();
    for (const image of images) {
      const stage = image.dockerfile.stages[0] as Stage;
      const files = stageLayout(image, stage, ROOT).map(({ source, target }) => ({ source, target }));
      const key = JSON.stringify([files, stageRunCommands(stage).map((run) => run.command)]);
      if (!byStage.has(key)) byStage.set(key, { image, stage });
    }
    // The sources tsconfig.build.json compiles, as they are in the repository.
    const sources = files(ROOT, ROOT, (path) => /^(apps|libs)\/[^/]+\/src\/.*\.ts$/.test(path) && !/\.(spec|test)\.ts$/.test(path) && !path.includes('/__fixtures__/'));
    expect(sources.length).toBeGreaterThan(50);
    for (const { image, stage } of byStage.values()) {
      const dir = join(scratch, `stage-${stage.index}-${image.name}`);
      materializeLayout(stageLayout(image, stage, ROOT), ROOT, dir, loadDockerIgnore(ROOT));
      expect(stageNpmCi(image, stage)[0]).toBe('npm');
      symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
      const commands = stageRunCommands(stage).map((run) => run.command).filter((command) => !command.startsWith('npm ci'));
      expect(commands).toEqual(['node tools/bin/build.js --force']);
      const build = await runNode(['tools/bin/build.js', '--force'], dir);
      expect({ image: image.name, code: build.code, output: build.output.slice(-4000) }).toEqual({ image: image.name, code: 0, output: expect.any(String) });
      const built = new Set(files(join(dir, 'dist'), join(dir, 'dist'), (path) => path.endsWith('.js')));
      const missing = sources.map((source) => source.replace(/\.ts$/, '.js')).filter((js) => !built.has(js));
      expect({ image: image.name, missing }).toEqual({ image: image.name, missing: [] });
    }
  }, 240_000);
});
