import { loadConfig, redactConfig, type SchemaClass } from '@kvr/config';
import { createLogger, type Logger } from '@kvr/telemetry';
import { configOverrides, type FlagTarget, type ParsedValues } from './cli';

/**
 * The start of every app: its config from defaults < `--config FILE` (or `KVR_CONFIG`) < `KVR_*`
 * < flags, validated (a `ConfigError` lists every problem); a logger at the configured level; a
 * warning for `KVR_*` variables the app does not use; the effective config logged, secrets redacted.
 * `adjust` may add overrides that follow from the flags (e.g. a pods file choosing the file source).
 */
export function loadAppConfig<T extends object & { logLevel: string }>(
  schema: SchemaClass<T>,
  options: { app: string; values: ParsedValues; flags: Readonly<Record<string, FlagTarget>>; adjust?: (overrides: Record<string, unknown>) => void },
): { config: T; logger: Logger } {
  const { overrides, labels } = configOverrides(options.values, options.flags);
  options.adjust?.(overrides);
  const file = typeof options.values['config'] === 'string' ? options.values['config'] : process.env['KVR_CONFIG'];
  const { config, ignoredEnv } = loadConfig(schema, { app: options.app, file, env: process.env, overrides, overrideLabels: labels });
  const logger = createLogger({ app: options.app, level: config.logLevel as 'info' });
  if (ignoredEnv.length > 0) logger.warn({ ignoredEnv }, `KVR_ variables that ${options.app} does not use`);
  logger.info({ config: redactConfig(schema, config) }, 'starting');
  return { config, logger };
}
