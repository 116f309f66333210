// Real: files in a private temp directory, written, renamed over, deleted and swapped through
// symlinks like a Kubernetes ConfigMap volume; the kernel's inotify (fs.watch) and stat polling
// (fs.watchFile). Faked: nothing. Waits poll for the observed outcome, never a fixed delay.
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@kvr/testing';
import { DiscoveryConfigError, type DiscoveryError } from './errors';
import { filePodSource, type FilePodSourceOptions } from './file-source';
import { recordPodChanges } from './testing';
import type { PodSource } from './types';

let dir: string;
let sources: PodSource[];
let writes = 0;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kvr-discovery-file-'));
  sources = [];
});

afterEach(async () => {
  await Promise.all(sources.map((source) => source.stop()));
  rmSync(dir, { recursive: true, force: true });
});

/** Writes a temp file and renames it over `path`, as editors and config tools do. */
function writeAtomically(path: string, text: string): void {
  writes += 1;
  const temp = `${path}.tmp-${writes}`;
  writeFileSync(temp, text);
  renameSync(temp, path);
}

function podsYaml(...addresses: string[]): string {
  return `pods:\n${addresses.map((address) => `  - address: ${address}\n`).join('')}`;
}

function until(what: string, condition: () => boolean): Promise<true> {
  return waitFor(async () => (condition() ? true : undefined), { what });
}

function source(options: Partial<FilePodSourceOptions> & { path: string }): { source: PodSource; errors: DiscoveryError[] } {
  const errors: DiscoveryError[] = [];
  const created = filePodSource({ onError: (err) => errors.push(err), ...options });
  sources.push(created);
  return { source: created, errors };
}

describe('filePodSource on a real file', () => {
  it('emits the initial set before start() resolves', async () => {
    const path = join(dir, 'pods.yaml');
    writeAtomically(path, podsYaml('10.0.0.1', '10.0.0.2'));
    const { source: pods } = source({ path });
    const recorder = recordPodChanges();
    await pods.start(recorder.onChange);
    expect(pods.kind).toBe('file');
    expect(recorder.summary()).toEqual(['+10.0.0.1:8000', '+10.0.0.2:8000']);
    expect(pods.current().map((p) => p.id)).toEqual(['10.0.0.1:8000', '10.0.0.2:8000']);
    await expect(pods.start(recorder.onChange)).rejects.toThrow('start() called twice');
  });

  it('reloads when a new file is renamed over it (directory watch alone): additions, removals, a changed pod as removed+added', async () => {
    const path = join(dir, 'pods.yaml');
    writeAtomically(path, podsYaml('10.0.0.1', '10.0.0.2'));
    const { source: pods, errors } = source({ path, pollIntervalMs: 0 });
    const recorder = recordPodChanges();
    await pods.start(recorder.onChange);

    writeAtomically(path, podsYaml('10.0.0.2', '10.0.0.3'));
    await until('the first rewrite to apply', () => recorder.changes.length === 4);
    expect(recorder.summary(2)).toEqual(['-10.0.0.1:8000', '+10.0.0.3:8000']);

    writeAtomically(path, 'pods:\n  - address: 10.0.0.2\n  - address: 10.0.0.3\n    replayEndpoint: tcp://10.0.0.3:5558\n');
    await until('the replay endpoint change to apply', () => recorder.changes.length === 6);
    expect(recorder.summary(4)).toEqual(['-10.0.0.3:8000', '+10.0.0.3:8000']);
    expect(recorder.changes[4]?.pod.replayEndpoint).toBeNull();
    expect(recorder.changes[5]?.pod.replayEndpoint).toBe('tcp://10.0.0.3:5558');
    expect(pods.stats()).toMatchObject({ pods: 2, reloads: 2 });
    expect(errors).toEqual([]);
  });

  it('reloads on an in-place write', async () => {
    const path = join(dir, 'pods.yaml');
    writeFileSync(path, podsYaml('10.0.0.1'));
    const { source: pods } = source({ path });
    const recorder = recordPodChanges();
    await pods.start(recorder.onChange);
    writeFileSync(path, podsYaml('10.0.0.1', '10.0.0.5'));
    await until('the in-place write to apply', () => pods.current().length === 2);
    expect(recorder.summary()).toEqual(['+10.0.0.1:8000', '+10.0.0.5:8000']);
  });

  it('keeps the last good set on invalid content, reports each bad content once, and recovers on the next valid write', async () => {
    const path = join(dir, 'pods.yaml');
    writeAtomically(path, podsYaml('10.0.0.1', '10.0.0.2'));
    const warnings: string[] = [];
    const { source: pods, errors } = source({ path, logger: { warn: (_obj, msg) => warnings.push(msg), info: () => undefined } });
    const recorder = recordPodChanges();
    await pods.start(recorder.onChange);

    writeAtomically(path, 'pods:\n  - address: 10.0.0.1\n   bad indentation: [\n');
    await until('the YAML error to be reported', () => errors.length === 1);
    expect(errors[0]?.reason).toBe('file_invalid');
    expect(errors[0]?.message).toBe(`invalid pods file ${path}; keeping the last good set of 2 pod(s)`);
    expect(errors[0]?.problems[0]).toMatch(/^YAML: /);

    writeAtomically(path, 'pods:\n  - address: 10.0.0.1\n    httpPort: eighty\n');
    await until('the schema error to be reported', () => errors.length === 2);
    expect(errors[1]?.problems).toEqual(['pods[0].httpPort: must be an integer 1-65535, got "eighty"']);

    writeAtomically(path, '');
    await until('the empty file to be reported', () => errors.length === 3);
    expect(pods.current().map((p) => p.id)).toEqual(['10.0.0.1:8000', '10.0.0.2:8000']);
    expect(recorder.changes).toHaveLength(2);

    writeAtomically(path, podsYaml('10.0.0.2'));
    await until('the valid write to apply', () => recorder.changes.length === 3);
    expect(recorder.summary(2)).toEqual(['-10.0.0.1:8000']);
    expect(errors).toHaveLength(3);
    expect(warnings).toHaveLength(3);
    expect(pods.stats()).toMatchObject({ pods: 1, reloads: 1, errors: { file_invalid: 3 } });
  });

  it('keeps the set while the file is missing, and applies it when it comes back', async () => {
    const path = join(dir, 'pods.yaml');
    writeAtomically(path, podsYaml('10.0.0.1'));
    const { source: pods, errors } = source({ path });
    const recorder = recordPodChanges();
    await pods.start(recorder.onChange);
    unlinkSync(path);
    await until('the missing file to be reported', () => errors.length === 1);
    expect(errors[0]?.message).toMatch(new RegExp(`^cannot read pods file ${path}: ENOENT.*; keeping the last good set of 1 pod\\(s\\)$`));
    expect(pods.current()).toHaveLength(1);
    writeAtomically(path, podsYaml('10.0.0.9'));
    await until('the recreated file to apply', () => recorder.changes.length === 3);
    expect(recorder.summary(1)).toEqual(['-10.0.0.1:8000', '+10.0.0.9:8000']);
  });

  it('follows a Kubernetes ConfigMap volume update (the ..data symlink is swapped; the file name never changes)', async () => {
    // The layout kubelet writes: pods.yaml -> ..data/pods.yaml, ..data -> ..<timestamp>/
    const version = (name: string, text: string): void => {
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, 'pods.yaml'), text);
    };
    version('..2026_01_01_00_00_00.1', podsYaml('10.0.0.1'));
    symlinkSync('..2026_01_01_00_00_00.1', join(dir, '..data'));
    symlinkSync(join('..data', 'pods.yaml'), join(dir, 'pods.yaml'));
    const { source: pods, errors } = source({ path: join(dir, 'pods.yaml'), pollIntervalMs: 0 });
    const recorder = recordPodChanges();
    await pods.start(recorder.onChange);

    version('..2026_01_01_00_05_00.2', podsYaml('10.0.0.1', '10.0.0.2'));
    symlinkSync('..2026_01_01_00_05_00.2', join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    rmSync(join(dir, '..2026_01_01_00_00_00.1'), { recursive: true });
    await until('the ConfigMap update to apply', () => recorder.changes.length === 2);
    expect(recorder.summary()).toEqual(['+10.0.0.1:8000', '+10.0.0.2:8000']);
    expect(errors).toEqual([]);
  });

  it('notices changes by polling alone (watchDirectory: false)', async () => {
    const path = join(dir, 'pods.json');
    writeAtomically(path, JSON.stringify({ pods: [{ address: '10.0.0.1' }] }));
    const { source: pods } = source({ path, watchDirectory: false, pollIntervalMs: 20 });
    const recorder = recordPodChanges();
    await pods.start(recorder.onChange);
    writeAtomically(path, JSON.stringify([{ address: '10.0.0.1' }, { address: '10.0.0.2', model: 'm' }]));
    await until('polling to pick up the rename', () => recorder.changes.length === 2);
    expect(recorder.changes[1]?.pod).toMatchObject({ id: '10.0.0.2:8000', model: 'm' });
  });

  it('rejects start() on an invalid or missing file with every problem listed, and emits nothing', async () => {
    const path = join(dir, 'pods.yaml');
    writeAtomically(path, 'pods:\n  - address: 10.0.0.1\n    zmqPort: 5557\n  - httpPort: 8000\n');
    const { source: invalid } = source({ path });
    const recorder = recordPodChanges();
    const error = await invalid.start(recorder.onChange).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(DiscoveryConfigError);
    expect((error as Error).message).toBe(
      `invalid pods file ${path}:\n` +
        '  - pods[0]: unknown key "zmqPort" (known: address, httpPort, id, zmqEndpoint, replayEndpoint, model, name)\n' +
        '  - pods[1].address: required',
    );
    expect(recorder.changes).toEqual([]);

    const { source: missing } = source({ path: join(dir, 'absent.yaml') });
    await expect(missing.start(recorder.onChange)).rejects.toThrow(/^cannot read pods file .*absent\.yaml:\n {2}- ENOENT/);

    const { source: deaf } = source({ path, watchDirectory: false, pollIntervalMs: 0 });
    await expect(deaf.start(recorder.onChange)).rejects.toThrow('nothing would notice a change');
  });
});
