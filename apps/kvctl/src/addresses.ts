import { KvctlConfig, loadConfig } from '@kvr/config';
import type { OptionSpec, ParsedValues } from '@kvr/runtime';
import type { CommandIo } from './io';

/** Flags every kvctl command that talks to the system accepts. */
export const ADDRESS_OPTIONS: Record<string, OptionSpec> = {
  config: { type: 'string', description: 'YAML file with nats/redis/indexer/gateway (also KVR_CONFIG)', placeholder: 'FILE' },
  nats: { type: 'string', description: 'NATS URL(s) (KVR_NATS, default nats://127.0.0.1:4222)', placeholder: 'URL' },
  redis: { type: 'string', description: 'Redis URL (KVR_REDIS, default redis://127.0.0.1:6379)', placeholder: 'URL' },
  indexer: { type: 'string', description: 'Indexer gRPC host:port (KVR_INDEXER, default 127.0.0.1:50051)', placeholder: 'ADDR' },
  gateway: { type: 'string', description: 'Gateway URL (KVR_GATEWAY, default http://127.0.0.1:8080)', placeholder: 'URL' },
};

const ADDRESS_KEYS = ['nats', 'redis', 'indexer', 'gateway'] as const;

/** Addresses from flags > KVR_* environment > config file > defaults, validated. */
export function resolveAddresses(values: ParsedValues, io: CommandIo): KvctlConfig {
  const overrides: Record<string, unknown> = {};
  const labels: Record<string, string> = {};
  for (const key of ADDRESS_KEYS) {
    const value = values[key];
    if (typeof value === 'string') {
      overrides[key] = value;
      labels[key] = `--${key}`;
    }
  }
  const file = typeof values['config'] === 'string' ? values['config'] : io.env['KVR_CONFIG'];
  return loadConfig(KvctlConfig, { app: 'kvctl', file, env: io.env, overrides, overrideLabels: labels }).config;
}
