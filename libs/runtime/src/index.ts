export { announceReady, formatReadyLine, parseReadyLine } from './ready';
export type { ReadyLine } from './ready';
export { runApp, runAppCommand, reportStartFailure, EXIT_OK, EXIT_FAILURE, EXIT_CONFIG } from './lifecycle';
export type { RunningApp, RunAppOptions, RunAppCommandOptions } from './lifecycle';
export { startAdminServer } from './admin-server';
export type { AdminServer, AdminServerOptions, HealthReport } from './admin-server';
export { parseCommand, helpText, UsageError, configOverrides } from './cli';
export type { CommandSpec, OptionSpec, ParsedCommand, ParsedValues, FlagTarget } from './cli';
export { loadAppConfig } from './app-config';
