import type { SchemaClass } from '../describe';
import { CollectorConfig } from './collector';
import { GatewayConfig } from './gateway';
import { IndexerConfig } from './indexer';
import { KvctlConfig } from './kvctl';
import { LoadScorerConfig } from './load-scorer';
import { SimConfig } from './sim';
import { TokenizerConfig } from './tokenizer';

/**
 * The config schema of every app, by the name `kvr <app>` and `kvr config <app>` use. Each app
 * validates exactly this class at start; docs/configuration.md is generated from this table.
 */
export const APP_SCHEMAS: Readonly<Record<string, SchemaClass>> = {
  collector: CollectorConfig,
  gateway: GatewayConfig,
  indexer: IndexerConfig,
  kvctl: KvctlConfig,
  'load-scorer': LoadScorerConfig,
  sim: SimConfig,
  tokenizer: TokenizerConfig,
};
