import { unwatchFile, watch, watchFile, type FSWatcher, type Stats } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { DiscoveryConfigError, DiscoveryError, errorMessage } from './errors';
import { parsePodsFile } from './pod-spec';
import { PodSet, SourceReporter } from './pod-set';
import type { DiscoveredPod, PodChangeListener, PodSource, PodSourceHooks, PodSourceStats } from './types';

export interface FilePodSourceOptions extends PodSourceHooks {
  /** The pods file, YAML or JSON (see `parsePodsFile` for the format); relative to the working directory. */
  path: string;
  /**
   * Watch the file's directory (inotify on Linux) and re-read on any event there. Watching the
   * directory, not the file, is what catches editors that write a new file and rename it over
   * the old one, and Kubernetes ConfigMap volumes, which swap a `..data` symlink. @default true
   */
  watchDirectory?: boolean;
  /**
   * Also poll the file's status (`fs.watchFile`, follows symlinks) this often: the safety net
   * when directory events are lost (network file systems, a file symlinked from another
   * directory, inotify limits). 0 turns polling off. @default 2000
   */
  pollIntervalMs?: number;
  /** Read this long after the first event of a burst, so one save is one reload. @default 50 */
  settleMs?: number;
}

const UNREADABLE = Symbol('unreadable');

/**
 * Pods from a watched file, hot-reloaded. On every change the file is read whole, validated and
 * diffed by pod id against the current set. A reload that fails (unreadable, invalid YAML,
 * invalid pod) keeps the last good set and is reported once per distinct content with reason
 * `file_invalid`; the next valid content applies as usual. At start, an unreadable or invalid
 * file is fatal: `start()` rejects with a {@link DiscoveryConfigError} listing the problems.
 *
 * Write the file atomically (write a temp file, rename it over) where you can: an in-place
 * write can be read half-done, which is reported and then fixed by the event of the rest.
 */
export function filePodSource(options: FilePodSourceOptions): PodSource {
  return new FilePodSource(options);
}

class FilePodSource implements PodSource {
  readonly kind = 'file' as const;
  private readonly path: string;
  private readonly reporter: SourceReporter;
  private readonly set: PodSet;
  private state: 'idle' | 'starting' | 'running' | 'stopped' = 'idle';
  private directoryWatcher: FSWatcher | undefined;
  private polling = false;
  private settleTimer: NodeJS.Timeout | undefined;
  private changedWhileStarting = false;
  private reloading: Promise<void> | undefined;
  private reloadAgain = false;
  /** The text last read, valid or not (or UNREADABLE): reading the same again is a no-op. */
  private lastText: string | typeof UNREADABLE | undefined;
  private lastReadValid = true;

  constructor(private readonly options: FilePodSourceOptions) {
    this.path = resolve(options.path);
    this.reporter = new SourceReporter('file', options);
    this.set = new PodSet(this.reporter);
  }

  async start(onChange: PodChangeListener): Promise<void> {
    if (this.state !== 'idle') throw new Error(`pods file source ${this.path}: start() called twice`);
    this.state = 'starting';
    const problems = this.optionProblems();
    if (problems.length > 0) {
      this.state = 'stopped';
      throw new DiscoveryConfigError(`invalid options for pods file source ${this.path}`, problems);
    }
    // Watch before the first read, so that a write between the read and the watch is not lost.
    this.startWatching();
    let pods: DiscoveredPod[];
    try {
      pods = await this.readInitialSet();
    } catch (err) {
      await this.stop();
      throw err;
    }
    if (this.state !== 'starting') return; // stopped while reading: emit nothing
    this.state = 'running';
    this.set.open(onChange);
    this.set.replace(pods);
    this.reporter.info({ path: this.path, pods: pods.length }, 'pods file loaded');
    if (this.changedWhileStarting) this.scheduleReload();
  }

  current(): DiscoveredPod[] {
    return this.set.current();
  }

  stats(): PodSourceStats {
    return this.reporter.stats(this.set.size);
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.set.close();
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.settleTimer = undefined;
    this.directoryWatcher?.close();
    this.directoryWatcher = undefined;
    if (this.polling) unwatchFile(this.path, this.onPoll);
    this.polling = false;
    await this.reloading;
  }

  private optionProblems(): string[] {
    const problems: string[] = [];
    const { pollIntervalMs, settleMs, watchDirectory } = this.options;
    if (pollIntervalMs !== undefined && !(Number.isFinite(pollIntervalMs) && pollIntervalMs >= 0)) problems.push(`pollIntervalMs: must be a number >= 0, got ${String(pollIntervalMs)}`);
    if (settleMs !== undefined && !(Number.isFinite(settleMs) && settleMs >= 0)) problems.push(`settleMs: must be a number >= 0, got ${String(settleMs)}`);
    if (watchDirectory === false && pollIntervalMs === 0) problems.push('watchDirectory is false and pollIntervalMs is 0: nothing would notice a change');
    return problems;
  }

  private async readInitialSet(): Promise<DiscoveredPod[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      throw new DiscoveryConfigError(`cannot read pods file ${this.path}`, [errorMessage(err)], { cause: err });
    }
    const { pods, problems } = parsePodsFile(text);
    if (problems.length > 0) throw new DiscoveryConfigError(`invalid pods file ${this.path}`, problems);
    this.lastText = text;
    return pods;
  }

  private startWatching(): void {
    if (this.options.watchDirectory !== false) {
      const directory = dirname(this.path);
      try {
        const watcher = watch(directory, { persistent: true }, () => this.scheduleReload());
        watcher.on('error', (err) => {
          watcher.close();
          if (this.directoryWatcher === watcher) this.directoryWatcher = undefined;
          this.reportWatchFailure(directory, err);
        });
        this.directoryWatcher = watcher;
      } catch (err) {
        this.reportWatchFailure(directory, err);
      }
    }
    const interval = this.options.pollIntervalMs ?? 2_000;
    if (interval > 0) {
      watchFile(this.path, { interval, persistent: true }, this.onPoll);
      this.polling = true;
    }
  }

  private reportWatchFailure(directory: string, err: unknown): void {
    const fallback = this.polling ? `relying on polling every ${this.options.pollIntervalMs ?? 2_000} ms` : 'changes will not be noticed';
    this.reporter.error(new DiscoveryError('file_watch', `cannot watch directory ${directory}: ${errorMessage(err)}; ${fallback}`, [], { cause: err }));
  }

  /** fs.watchFile listener; a stable reference so that unwatchFile removes exactly this one. */
  private readonly onPoll = (current: Stats, previous: Stats): void => {
    if (current.mtimeMs !== previous.mtimeMs || current.ino !== previous.ino || current.size !== previous.size) this.scheduleReload();
  };

  private scheduleReload(): void {
    if (this.state === 'starting') {
      this.changedWhileStarting = true;
      return;
    }
    if (this.state !== 'running' || this.settleTimer) return;
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      void this.reload();
    }, this.options.settleMs ?? 50);
  }

  /** Runs reloads one at a time; a request during a reload runs once more after it. Never rejects. */
  private reload(): Promise<void> {
    if (this.reloading) {
      this.reloadAgain = true;
      return this.reloading;
    }
    const run = async (): Promise<void> => {
      do {
        this.reloadAgain = false;
        try {
          await this.reloadOnce();
        } catch (err) {
          // reloadOnce handles every expected failure itself; this is the net that keeps reload() from rejecting.
          this.reporter.error(new DiscoveryError('file_invalid', `reloading pods file ${this.path} failed: ${errorMessage(err)}`, [], { cause: err }));
        }
      } while (this.reloadAgain && this.state === 'running');
    };
    this.reloading = run().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  private async reloadOnce(): Promise<void> {
    let text: string | typeof UNREADABLE;
    let readError: unknown;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      text = UNREADABLE;
      readError = err;
    }
    if (this.state !== 'running' || text === this.lastText) return;
    this.lastText = text;
    const keeping = `keeping the last good set of ${this.set.size} pod(s)`;
    if (text === UNREADABLE) {
      this.lastReadValid = false;
      this.reporter.error(new DiscoveryError('file_invalid', `cannot read pods file ${this.path}: ${errorMessage(readError)}; ${keeping}`, [], { cause: readError }));
      return;
    }
    const { pods, problems } = parsePodsFile(text);
    if (problems.length > 0) {
      this.lastReadValid = false;
      this.reporter.error(new DiscoveryError('file_invalid', `invalid pods file ${this.path}; ${keeping}`, problems));
      return;
    }
    const recovered = !this.lastReadValid;
    this.lastReadValid = true;
    const changes = this.set.replace(pods);
    this.reporter.reloaded();
    this.reporter.info(
      {
        path: this.path,
        pods: pods.length,
        added: changes.filter((c) => c.type === 'added').length,
        removed: changes.filter((c) => c.type === 'removed').length,
        ...(recovered ? { recovered } : {}),
      },
      'pods file reloaded',
    );
  }
}
