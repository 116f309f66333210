/**
 * Thrown by `loadConfig` when anything about the configuration is wrong. `problems` lists every
 * problem found (bad YAML, unknown keys, values of the wrong type, failed rules), one line each,
 * prefixed with where the value came from, so that one start-up attempt shows them all.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly app: string,
    readonly problems: readonly string[],
  ) {
    super(`invalid configuration for ${app} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  - ${problems.join('\n  - ')}`);
  }
}
