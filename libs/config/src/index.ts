export { loadConfig, envNameFor, ENV_PREFIX } from './load';
export type { LoadConfigOptions, LoadedConfig, CrossFieldRules } from './load';
export { ConfigError } from './errors';
export { Doc, Section, fieldsOf } from './describe';
export type { FieldInfo, FieldOptions, SchemaClass } from './describe';
export { IsServiceUrl, IsGrpcTarget } from './validators';
export { configReference, configReferenceMarkdown, redactConfig, redactUrlPassword } from './reference';
export type { ReferenceRow } from './reference';
export { KvctlConfig } from './schemas/kvctl';
