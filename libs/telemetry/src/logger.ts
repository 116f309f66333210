import pino, { type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  app: string;
  /** @default 'info' */
  level?: LevelWithSilent;
  /** Where JSON lines go. @default stderr (stdout is reserved for the ready line and command output) */
  destination?: NodeJS.WritableStream | number;
}

/** Keys whose values are never logged, wherever they appear in a log record. */
const REDACT_PATHS = ['password', 'token', 'adminToken', '*.password', '*.token', '*.adminToken', 'headers.authorization'];

/** Structured JSON logs on stderr, one object per line, with `app` on every record. */
export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? 2;
  return pino(
    {
      level: options.level ?? 'info',
      base: { app: options.app },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '***' },
      formatters: { level: (label) => ({ level: label }) },
    },
    typeof destination === 'number' ? pino.destination({ fd: destination, sync: true }) : destination,
  );
}
