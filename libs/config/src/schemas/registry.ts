import type { SchemaClass } from '../describe';
import { CollectorConfig } from './collector';
import { IndexerConfig } from './indexer';
import { KvctlConfig } from './kvctl';
import { SimConfig } from './sim';
import { TokenizerConfig } from './tokenizer';

/**
 * The config schema of every app, by the name `kvr <app>` and `kvr config <app>` use. Each app
 * validates exactly this class at start; docs/configuration.md is generated from this table.
 */
export const APP_SCHEMAS: Readonly<Record<string, SchemaClass>> = {
  collector: CollectorConfig,
  indexer: IndexerConfig,
  kvctl: KvctlConfig,
  sim: SimConfig,
  tokenizer: TokenizerConfig,
};
