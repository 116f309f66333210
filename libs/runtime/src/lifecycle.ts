import { ConfigError } from '@kvr/config';
import type { Logger } from '@kvr/telemetry';
import { helpText, parseCommand, UsageError, type CommandSpec, type ParsedValues } from './cli';

/** What a started app hands back: how to stop it. */
export interface RunningApp {
  /** Stop taking work, flush what is in flight, close connections. Called once. */
  stop(): Promise<void>;
}

export interface RunAppOptions {
  name: string;
  logger: Logger;
  start(): Promise<RunningApp>;
  /** Longest a graceful stop may take before the process exits anyway. @default 10000 */
  stopTimeoutMs?: number;
  /** For tests: where exit codes go. @default process.exit */
  exit?: (code: number) => void;
  /** For tests: the process whose signals to handle. @default process */
  signals?: NodeJS.EventEmitter;
}

/** Exit codes every app uses. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
/** Configuration invalid: nothing was started. */
export const EXIT_CONFIG = 2;

/**
 * Runs an app the same way everywhere: starts it, and on SIGINT or SIGTERM stops it gracefully
 * (a second signal exits at once); a start-up failure exits non-zero with the reason logged.
 * A `ConfigError` lists every problem on stderr and exits with EXIT_CONFIG.
 */
export async function runApp(options: RunAppOptions): Promise<void> {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const signals = options.signals ?? process;
  // Handlers go in before start(): an app announces readiness from inside start(), and a signal
  // sent right after the ready line must not meet the default action (terminate, no clean-up).
  let running: RunningApp | undefined;
  let pendingSignal: string | undefined;
  let stopping = false;
  const stopNow = (app: RunningApp, signal: string): void => {
    stopping = true;
    options.logger.info({ signal }, 'stopping');
    const timer = setTimeout(() => {
      options.logger.error({ timeoutMs: options.stopTimeoutMs ?? 10_000 }, 'graceful stop timed out');
      exit(EXIT_FAILURE);
    }, options.stopTimeoutMs ?? 10_000);
    timer.unref();
    app
      .stop()
      .then(() => {
        clearTimeout(timer);
        options.logger.info('stopped');
        exit(EXIT_OK);
      })
      .catch((err: unknown) => {
        clearTimeout(timer);
        options.logger.error({ err }, 'error while stopping');
        exit(EXIT_FAILURE);
      });
  };
  const onSignal = (signal: string): void => {
    if (stopping || pendingSignal !== undefined) {
      options.logger.warn({ signal }, 'second signal: exiting without waiting for a graceful stop');
      exit(EXIT_FAILURE);
      return;
    }
    if (running) stopNow(running, signal);
    else pendingSignal = signal; // still starting: stop as soon as start() returns
  };
  signals.on('SIGINT', () => onSignal('SIGINT'));
  signals.on('SIGTERM', () => onSignal('SIGTERM'));
  try {
    running = await options.start();
  } catch (err) {
    reportStartFailure(options.name, options.logger, err);
    exit(err instanceof ConfigError ? EXIT_CONFIG : EXIT_FAILURE);
    return;
  }
  if (pendingSignal !== undefined) stopNow(running, pendingSignal);
}

/** Logs why an app could not start; config problems also go to stderr as a readable list. */
export function reportStartFailure(app: string, logger: Logger, err: unknown): void {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    logger.error({ problems: err.problems }, 'invalid configuration');
    return;
  }
  logger.error({ err }, `${app} failed to start`);
}

export interface RunAppCommandOptions {
  /** App name in logs (`sim`, `collector`, …). */
  readonly app: string;
  readonly spec: CommandSpec;
  readonly argv: readonly string[];
  readonly logger: Logger;
  /** Extra checks of the parsed flags; throw UsageError for a bad one. */
  readonly validate?: (values: ParsedValues) => void;
  readonly start: (values: ParsedValues) => Promise<RunningApp>;
  readonly stopTimeoutMs?: number;
}

/**
 * The `main(argv)` of every long-running app: parse the flags (`--help` prints the help, a
 * usage error prints it with the problem and exits EXIT_CONFIG), then {@link runApp}.
 */
export async function runAppCommand(options: RunAppCommandOptions): Promise<number | undefined> {
  let values: ParsedValues;
  try {
    const parsed = parseCommand(options.spec, options.argv);
    if (parsed.help) {
      process.stdout.write(helpText(options.spec));
      return EXIT_OK;
    }
    values = parsed.values;
    options.validate?.(values);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${options.spec.name}: ${err.message}\n\n${helpText(options.spec)}`);
    return EXIT_CONFIG;
  }
  await runApp({
    name: options.app,
    logger: options.logger,
    start: () => options.start(values),
    ...(options.stopTimeoutMs !== undefined ? { stopTimeoutMs: options.stopTimeoutMs } : {}),
  });
  return undefined;
}
