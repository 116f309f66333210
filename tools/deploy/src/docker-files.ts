/**
 * A small, strict reader of the images in docker/: a parser for exactly the Dockerfile
 * instructions and forms those files use (anything else is an error, so that a new construct gets
 * a check instead of being skipped), `.dockerignore` matching with Docker's rules, and the image
 * model the deployment checks need: stages, the final stage's settings, the command, and the file
 * layout its COPY instructions produce.
 *
 * No Docker daemon is needed: this reads files only.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, posix, relative, sep } from 'node:path';

export type ImageCommand = { readonly form: 'exec'; readonly argv: readonly string[] } | { readonly form: 'shell'; readonly script: string };

export type Instruction =
  | { readonly kind: 'FROM'; readonly line: number; readonly image: string; readonly name: string | undefined }
  | { readonly kind: 'ENV'; readonly line: number; readonly vars: readonly (readonly [string, string])[] }
  | { readonly kind: 'LABEL'; readonly line: number; readonly labels: readonly (readonly [string, string])[] }
  | { readonly kind: 'WORKDIR'; readonly line: number; readonly path: string }
  | { readonly kind: 'COPY'; readonly line: number; readonly from: string | undefined; readonly chown: string | undefined; readonly sources: readonly string[]; readonly dest: string }
  | { readonly kind: 'RUN'; readonly line: number; readonly command: ImageCommand }
  | { readonly kind: 'USER'; readonly line: number; readonly user: string }
  | { readonly kind: 'EXPOSE'; readonly line: number; readonly ports: readonly { readonly port: number; readonly protocol: 'tcp' | 'udp' }[] }
  | { readonly kind: 'HEALTHCHECK'; readonly line: number; readonly none: true }
  | { readonly kind: 'HEALTHCHECK'; readonly line: number; readonly none: false; readonly options: Readonly<Record<string, string>>; readonly command: ImageCommand }
  | { readonly kind: 'ENTRYPOINT'; readonly line: number; readonly command: ImageCommand }
  | { readonly kind: 'CMD'; readonly line: number; readonly command: ImageCommand };

export interface Stage {
  readonly index: number;
  readonly name: string | undefined;
  readonly image: string;
  readonly line: number;
  /** The instructions after FROM. */
  readonly instructions: readonly Instruction[];
}

export interface Dockerfile {
  readonly path: string;
  /** Parser directives (`# syntax=…`). */
  readonly directives: Readonly<Record<string, string>>;
  readonly stages: readonly Stage[];
}

/** What a stage leaves in its image config once all its instructions ran. */
export interface StageSettings {
  readonly workdir: string;
  readonly env: Readonly<Record<string, string>>;
  readonly user: string | undefined;
  readonly exposed: readonly number[];
  readonly healthcheck: Extract<Instruction, { kind: 'HEALTHCHECK' }> | undefined;
  readonly entrypoint: ImageCommand | undefined;
  readonly cmd: ImageCommand | undefined;
}

export class DockerfileError extends Error {
  override readonly name = 'DockerfileError';
}

const HEALTHCHECK_OPTIONS = new Set(['interval', 'timeout', 'start-period', 'start-interval', 'retries']);
const COPY_FLAGS = new Set(['from', 'chown']);
/** Instructions whose arguments Docker expands `$VAR` in. */
const SUBSTITUTED = new Set(['FROM', 'ENV', 'LABEL', 'WORKDIR', 'COPY', 'USER', 'EXPOSE']);

/** Parses Dockerfile text. `path` is only used in error messages. */
export function parseDockerfile(text: string, path: string): Dockerfile {
  const fail = (line: number, message: string): never => {
    throw new DockerfileError(`${path}:${line}: ${message}`);
  };
  const lines = text.split('\n');
  const directives: Record<string, string> = {};
  let i = 0;
  // Parser directives are only recognised before anything else, comments and blank lines included.
  for (; i < lines.length; i++) {
    const match = /^#\s*([a-zA-Z]+)\s*=\s*(\S+)\s*$/.exec(lines[i] ?? '');
    if (!match) break;
    const key = (match[1] as string).toLowerCase();
    if (key !== 'syntax') fail(i + 1, `unsupported parser directive "${key}"`);
    directives[key] = match[2] as string;
  }

  const logical: { line: number; text: string }[] = [];
  let current: { line: number; text: string } | undefined;
  for (; i < lines.length; i++) {
    const raw = (lines[i] ?? '').replace(/\r$/, '');
    const trimmed = raw.trim();
    // Docker drops comment and blank lines, also in the middle of a continued instruction.
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const continued = /\\\s*$/.test(raw);
    const body = continued ? raw.replace(/\\\s*$/, '') : raw;
    if (current) current.text += ` ${body.trim()}`;
    else current = { line: i + 1, text: body.trim() };
    if (!continued) {
      logical.push(current);
      current = undefined;
    }
  }
  if (current) fail(current.line, 'the last instruction ends with a line continuation');

  const stages: { index: number; name: string | undefined; image: string; line: number; instructions: Instruction[] }[] = [];
  for (const { line, text: source } of logical) {
    const match = /^([A-Za-z]+)\s+(.*)$/.exec(source);
    if (!match) fail(line, `cannot read "${source}"`);
    const keyword = (match![1] as string).toUpperCase();
    const rest = (match![2] as string).trim();
    if (keyword !== 'FROM' && stages.length === 0) fail(line, `${keyword} before the first FROM`);
    // Build-time substitution would make paths and values depend on build arguments this reader
    // does not model; commands (RUN, CMD, …) are left to the shell and may use `$`.
    if (SUBSTITUTED.has(keyword) && rest.includes('$')) fail(line, `${keyword}: variable substitution is not supported by this reader`);
    const instruction = parseInstruction(keyword, rest, line, fail);
    if (instruction.kind === 'FROM') {
      if (stages.some((stage) => stage.name !== undefined && stage.name === instruction.name)) fail(line, `duplicate stage name "${instruction.name}"`);
      stages.push({ index: stages.length, name: instruction.name, image: instruction.image, line, instructions: [] });
    } else {
      (stages[stages.length - 1] as (typeof stages)[number]).instructions.push(instruction);
    }
  }
  if (stages.length === 0) throw new DockerfileError(`${path}: no FROM instruction`);
  return { path, directives, stages };
}

function parseInstruction(keyword: string, rest: string, line: number, fail: (line: number, message: string) => never): Instruction {
  switch (keyword) {
    case 'FROM': {
      const words = rest.split(/\s+/);
      if (words[0]?.startsWith('--platform=')) words.shift();
      if (words.length === 1) return { kind: 'FROM', line, image: words[0] as string, name: undefined };
      if (words.length === 3 && (words[1] as string).toUpperCase() === 'AS') return { kind: 'FROM', line, image: words[0] as string, name: (words[2] as string).toLowerCase() };
      return fail(line, `FROM: expected "FROM image [AS name]", got "${rest}"`);
    }
    case 'ENV':
      return { kind: 'ENV', line, vars: parsePairs(rest, line, 'ENV', fail) };
    case 'LABEL':
      return { kind: 'LABEL', line, labels: parsePairs(rest, line, 'LABEL', fail) };
    case 'WORKDIR':
      if (!rest.startsWith('/') || /\s/.test(rest)) fail(line, `WORKDIR must be one absolute path, got "${rest}"`);
      return { kind: 'WORKDIR', line, path: posix.normalize(rest) };
    case 'COPY': {
      const words = rest.startsWith('[') ? [] : rest.split(/\s+/);
      const flags: Record<string, string> = {};
      while (words[0]?.startsWith('--')) {
        const flag = /^--([a-z-]+)=(\S+)$/.exec(words.shift() as string);
        if (!flag || !COPY_FLAGS.has(flag[1] as string)) fail(line, `COPY: unsupported flag in "${rest}"`);
        flags[flag![1] as string] = flag![2] as string;
      }
      const args = rest.startsWith('[') ? parseJsonArray(rest, line, fail) : words;
      if (args.some((arg) => /["'*?[]/.test(arg))) fail(line, `COPY: quotes and wildcards are not supported by this reader: "${rest}"`);
      if (args.length < 2) fail(line, 'COPY needs at least one source and a destination');
      // Stage names are case-insensitive, as in FROM … AS name.
      return { kind: 'COPY', line, from: flags['from']?.toLowerCase(), chown: flags['chown'], sources: args.slice(0, -1), dest: args[args.length - 1] as string };
    }
    case 'RUN':
      return { kind: 'RUN', line, command: parseCommand(rest, line, fail) };
    case 'USER':
      if (!/^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?$/.test(rest)) fail(line, `USER: expected user[:group], got "${rest}"`);
      return { kind: 'USER', line, user: rest };
    case 'EXPOSE':
      return {
        kind: 'EXPOSE',
        line,
        ports: rest.split(/\s+/).map((word) => {
          const match = /^(\d{1,5})(?:\/(tcp|udp))?$/.exec(word);
          if (!match || Number(match[1]) < 1 || Number(match[1]) > 65535) return fail(line, `EXPOSE: not a port: "${word}"`);
          return { port: Number(match[1]), protocol: (match[2] ?? 'tcp') as 'tcp' | 'udp' };
        }),
      };
    case 'HEALTHCHECK': {
      const options: Record<string, string> = {};
      let remaining = rest;
      for (;;) {
        const option = /^--([a-z-]+)=(\S+)\s+/.exec(remaining);
        if (!option) break;
        const name = option[1] as string;
        const value = option[2] as string;
        if (!HEALTHCHECK_OPTIONS.has(name)) fail(line, `HEALTHCHECK: unknown option --${name}`);
        if (name === 'retries' ? !/^\d+$/.test(value) : !/^\d+(ms|s|m|h)$/.test(value)) fail(line, `HEALTHCHECK: bad --${name} value "${value}"`);
        options[name] = value;
        remaining = remaining.slice(option[0].length);
      }
      if (remaining === 'NONE') {
        if (Object.keys(options).length > 0) fail(line, 'HEALTHCHECK NONE takes no options');
        return { kind: 'HEALTHCHECK', line, none: true };
      }
      const cmd = /^CMD\s+(.*)$/.exec(remaining);
      if (!cmd) return fail(line, `HEALTHCHECK: expected CMD or NONE, got "${remaining}"`);
      return { kind: 'HEALTHCHECK', line, none: false, options, command: parseCommand(cmd[1] as string, line, fail) };
    }
    case 'ENTRYPOINT':
    case 'CMD':
      return { kind: keyword, line, command: parseCommand(rest, line, fail) };
    default:
      return fail(line, `unsupported instruction ${keyword}`);
  }
}

function parseCommand(rest: string, line: number, fail: (line: number, message: string) => never): ImageCommand {
  // Docker silently runs a malformed JSON array as a shell command; here it is an error.
  if (rest.startsWith('[')) return { form: 'exec', argv: parseJsonArray(rest, line, fail) };
  return { form: 'shell', script: rest };
}

function parseJsonArray(text: string, line: number, fail: (line: number, message: string) => never): string[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail(line, `not a JSON array: ${text}`);
  }
  if (!Array.isArray(value) || value.length === 0 || !value.every((item) => typeof item === 'string')) return fail(line, `expected a non-empty JSON array of strings: ${text}`);
  return value as string[];
}

/** `KEY=value KEY2="quoted value"` (the legacy `ENV KEY value` form is rejected). */
function parsePairs(text: string, line: number, keyword: string, fail: (line: number, message: string) => never): [string, string][] {
  const pairs: [string, string][] = [];
  let rest = text.trim();
  while (rest !== '') {
    const match = /^([A-Za-z_][A-Za-z0-9_.-]*)=("(?:[^"\\]|\\.)*"|[^\s"']*)(?:\s+|$)/.exec(rest);
    if (!match) return fail(line, `${keyword}: expected KEY=value pairs, got "${rest}"`);
    const raw = match[2] as string;
    pairs.push([match[1] as string, raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw]);
    rest = rest.slice(match[0].length);
  }
  if (pairs.length === 0) fail(line, `${keyword} without KEY=value`);
  return pairs;
}

/** The settings a stage ends with (WORKDIR, ENV, USER, EXPOSE, HEALTHCHECK, ENTRYPOINT, CMD). */
export function stageSettings(stage: Stage): StageSettings {
  let workdir = '/';
  const env: Record<string, string> = {};
  let user: string | undefined;
  const exposed: number[] = [];
  let healthcheck: StageSettings['healthcheck'];
  let entrypoint: ImageCommand | undefined;
  let cmd: ImageCommand | undefined;
  for (const instruction of stage.instructions) {
    switch (instruction.kind) {
      case 'WORKDIR':
        workdir = instruction.path;
        break;
      case 'ENV':
        for (const [key, value] of instruction.vars) env[key] = value;
        break;
      case 'USER':
        user = instruction.user;
        break;
      case 'EXPOSE':
        exposed.push(...instruction.ports.map((p) => p.port));
        break;
      case 'HEALTHCHECK':
        healthcheck = instruction;
        break;
      case 'ENTRYPOINT':
        entrypoint = instruction.command;
        // As in Docker: setting ENTRYPOINT clears a CMD inherited or set before it.
        cmd = undefined;
        break;
      case 'CMD':
        cmd = instruction.command;
        break;
      default:
        break;
    }
  }
  return { workdir, env, user, exposed, healthcheck, entrypoint, cmd };
}

/** The WORKDIR in force at each instruction of a stage (COPY destinations are relative to it). */
function workdirAt(stage: Stage, instruction: Instruction): string {
  let workdir = '/';
  for (const candidate of stage.instructions) {
    if (candidate === instruction) return workdir;
    if (candidate.kind === 'WORKDIR') workdir = candidate.path;
  }
  throw new Error('instruction not in stage');
}

/** `.dockerignore` with Docker's rules: the last matching pattern wins, `!` re-includes, a match on a parent directory covers everything below it. */
export class DockerIgnore {
  private readonly patterns: { readonly negate: boolean; readonly regex: RegExp }[];

  constructor(text: string) {
    this.patterns = text
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => {
        const negate = line.startsWith('!');
        const pattern = posix.normalize((negate ? line.slice(1) : line).trim()).replace(/^\/+/, '').replace(/\/+$/, '');
        return { negate, regex: patternRegex(pattern) };
      });
  }

  /** Whether a context path (relative, `/`-separated) is left out of the build context. */
  ignores(path: string): boolean {
    const parts = posix.normalize(path).split('/');
    const candidates = parts.map((_, index) => parts.slice(0, index + 1).join('/'));
    let ignored = false;
    for (const { negate, regex } of this.patterns) {
      if (candidates.some((candidate) => regex.test(candidate))) ignored = !negate;
    }
    return ignored;
  }
}

function patternRegex(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i] as string;
    if (char === '*' && pattern[i + 1] === '*') {
      // `**/` matches any number of directories, none included; a trailing `**` anything.
      if (pattern[i + 2] === '/') {
        source += '(?:.*/)?';
        i += 2;
      } else {
        source += '.*';
        i += 1;
      }
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

export function loadDockerIgnore(root: string): DockerIgnore {
  const file = join(root, '.dockerignore');
  return new DockerIgnore(existsSync(file) ? readFileSync(file, 'utf8') : '');
}

/** One image of docker/: its Dockerfile and what it runs. */
export interface ImageSpec {
  /** `gateway` for docker/gateway.Dockerfile. */
  readonly name: string;
  /** Repository-relative path of the Dockerfile. */
  readonly file: string;
  readonly dockerfile: Dockerfile;
  readonly runtime: Stage;
  readonly settings: StageSettings;
  /** ENTRYPOINT followed by CMD (both exec form). */
  readonly command: readonly string[];
  /** `kvr` or `kvctl`, from the launcher script the command runs. */
  readonly launcher: string;
  /** The `kvr` subcommand the image starts, or `kvctl`. */
  readonly app: string;
}

/** The images in `<root>/docker`, by name. */
export function loadImages(root: string): Map<string, ImageSpec> {
  const images = new Map<string, ImageSpec>();
  for (const entry of readdirSync(join(root, 'docker')).sort()) {
    if (!entry.endsWith('.Dockerfile')) continue;
    const file = posix.join('docker', entry);
    images.set(entry.slice(0, -'.Dockerfile'.length), imageSpec(file, parseDockerfile(readFileSync(join(root, file), 'utf8'), file)));
  }
  return images;
}

function imageSpec(file: string, dockerfile: Dockerfile): ImageSpec {
  const runtime = dockerfile.stages[dockerfile.stages.length - 1] as Stage;
  const settings = stageSettings(runtime);
  const argv = (command: ImageCommand | undefined, what: string): readonly string[] => {
    if (!command) return [];
    if (command.form !== 'exec') throw new DockerfileError(`${file}: ${what} must use the exec (JSON) form, so that the app gets signals as PID 1`);
    return command.argv;
  };
  const command = [...argv(settings.entrypoint, 'ENTRYPOINT'), ...argv(settings.cmd, 'CMD')];
  const launcherMatch = /^tools\/bin\/(kvr|kvctl)\.js$/.exec(command[1] ?? '');
  const launcher = command[0] === 'node' && launcherMatch ? (launcherMatch[1] as string) : '';
  return {
    name: basename(file, '.Dockerfile'),
    file,
    dockerfile,
    runtime,
    settings,
    command,
    launcher,
    app: launcher === 'kvr' ? (command[2] ?? '') : launcher,
  };
}

/** The ENTRYPOINT + CMD an image runs when compose sets `command` (replacing CMD). */
export function commandWith(image: ImageSpec, cmd: readonly string[] | undefined): string[] {
  if (cmd === undefined) return [...image.command];
  const entrypoint = image.settings.entrypoint;
  return [...(entrypoint?.form === 'exec' ? entrypoint.argv : []), ...cmd];
}

/** One file or directory the final stage copies in: from the repository (context) or built by an earlier stage. */
export interface LayoutEntry {
  /** Repository-relative source (for a build-stage source: the same path in a built checkout). */
  readonly source: string;
  readonly isDirectory: boolean;
  readonly fromStage: string | undefined;
  /** Where it ends up, relative to the final stage's WORKDIR (a directory's contents go into it). */
  readonly target: string;
  readonly line: number;
}

/**
 * Where the final stage's COPY instructions put things, relative to its WORKDIR, checked against
 * the checkout at `root`: every source must exist there. A source copied from an earlier stage
 * must lie under that stage's WORKDIR, which holds the repository layout, so it maps to the same
 * path in a built checkout (`dist/` after `node tools/bin/build.js`).
 */
export function runtimeLayout(image: ImageSpec, root: string): LayoutEntry[] {
  return stageLayout(image, image.runtime, root);
}

/** The same for any stage of the image: what its COPY instructions put under its final WORKDIR. */
export function stageLayout(image: ImageSpec, runtime: Stage, root: string): LayoutEntry[] {
  const settings = stageSettings(runtime);
  const entries: LayoutEntry[] = [];
  const fail = (line: number, message: string): never => {
    throw new DockerfileError(`${image.file}:${line}: ${message}`);
  };
  for (const instruction of runtime.instructions) {
    if (instruction.kind !== 'COPY') continue;
    const dest = posix.resolve(workdirAt(runtime, instruction), instruction.dest);
    const destIsDir = instruction.dest.endsWith('/') || instruction.dest === '.' || instruction.sources.length > 1;
    const underWorkdir = posix.relative(settings.workdir, dest);
    if (underWorkdir.startsWith('..')) fail(instruction.line, `COPY destination ${dest} is outside the WORKDIR ${settings.workdir}`);
    let stage: Stage | undefined;
    if (instruction.from !== undefined) {
      stage = image.dockerfile.stages.find((candidate) => candidate.name === instruction.from && candidate.index < runtime.index);
      if (!stage) fail(instruction.line, `COPY --from=${instruction.from} names no earlier stage`);
    }
    for (const source of instruction.sources) {
      let repoPath: string;
      if (stage) {
        const stageWorkdir = stageSettings(stage).workdir;
        repoPath = posix.relative(stageWorkdir, posix.resolve(stageWorkdir, source));
        if (repoPath.startsWith('..') || repoPath === '') fail(instruction.line, `COPY --from=${stage.name} ${source} is not under that stage's WORKDIR ${stageWorkdir}`);
      } else {
        repoPath = posix.normalize(source);
        if (source.startsWith('/') || repoPath.startsWith('..')) fail(instruction.line, `COPY source ${source} is outside the build context`);
      }
      const full = join(root, ...repoPath.split('/'));
      if (!existsSync(full)) fail(instruction.line, `COPY source ${repoPath} does not exist in the repository${stage ? ' (after the build)' : ''}`);
      const isDirectory = statSync(full).isDirectory();
      // As Docker: a directory's contents go into the destination; a file into it when it is a directory.
      const target = isDirectory || !destIsDir ? underWorkdir : posix.join(underWorkdir, posix.basename(repoPath));
      entries.push({ source: repoPath, isDirectory, fromStage: stage?.name, target, line: instruction.line });
    }
  }
  return entries;
}

/**
 * Copies an image's runtime layout from a built checkout at `root` into `dir` (the WORKDIR), as
 * `docker build` would: context sources without what `.dockerignore` leaves out of the context.
 */
export function materializeLayout(layout: readonly LayoutEntry[], root: string, dir: string, ignore: DockerIgnore): void {
  for (const entry of layout) {
    const from = join(root, ...entry.source.split('/'));
    const to = join(dir, ...entry.target.split('/'));
    mkdirSync(entry.isDirectory ? to : dirname(to), { recursive: true });
    cpSync(from, to, {
      recursive: true,
      // The context excludes apply to files sent to the builder, not to what a stage built.
      filter: (path) => entry.fromStage !== undefined || !ignore.ignores(relative(root, path).split(sep).join('/')),
    });
  }
}

/** The argv of the `npm ci` the final stage runs (exactly one), from its shell-form RUN lines. */
export function runtimeNpmCi(image: ImageSpec): string[] {
  return stageNpmCi(image, image.runtime);
}

/** The argv of the one `npm ci` a stage runs. */
export function stageNpmCi(image: ImageSpec, stage: Stage): string[] {
  const found: string[][] = [];
  for (const instruction of stage.instructions) {
    if (instruction.kind !== 'RUN') continue;
    if (instruction.command.form !== 'shell') throw new DockerfileError(`${image.file}:${instruction.line}: RUN in the final stage must be shell form`);
    for (const part of instruction.command.script.split('&&').map((p) => p.trim())) {
      if (part.startsWith('npm ci')) found.push(part.split(/\s+/));
    }
  }
  if (found.length !== 1) throw new DockerfileError(`${image.file}: stage ${stage.name ?? stage.index} must run exactly one npm ci, found ${found.length}`);
  return found[0] as string[];
}

/** Every command of the final stage's RUN lines, split at `&&`. */
export function runtimeRunCommands(image: ImageSpec): { line: number; command: string }[] {
  return stageRunCommands(image.runtime);
}

/** Every command of a stage's RUN lines (shell form), split at `&&`. */
export function stageRunCommands(stage: Stage): { line: number; command: string }[] {
  return stage.instructions.flatMap((instruction) =>
    instruction.kind === 'RUN' && instruction.command.form === 'shell' ? instruction.command.script.split('&&').map((part) => ({ line: instruction.line, command: part.trim() })) : [],
  );
}
