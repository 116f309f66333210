import { createBlockKeyer } from '@kvr/block-keys';
import { GatewayConfig } from '@kvr/config';
import { RedisBlockIndex } from '@kvr/kv-index-redis';
import { podSourceFromSettings, type PodSource } from '@kvr/discovery';
import { announceReady, loadAppConfig, runAppCommand, type CommandSpec, type FlagTarget, type ParsedValues } from '@kvr/runtime';
import { createLogger, createMetricsRegistry, startTracing, type Logger } from '@kvr/telemetry';
import { TokenizerClient } from '@kvr/tokenizer-grpc';
import { InProcessTokenizer } from './in-process-tokenizer';
import { CachedScoringService } from './load-score-cache';
import Redis from 'ioredis';
import type { Registry } from 'prom-client';
import { Forwarder } from './forwarder';
import { Gateway } from './gateway';
import { startHttpServer } from './http';
import { createGatewayMetrics } from './metrics';
import { LocalNoHitLru, SharedNoHitLru } from './no-hit-lru';
import { PodCatalog } from './pod-catalog';
import { RedisPrefixScorer, RedisSpeculativeWriter } from './redis-index-access';
import { grpcFailureReason, IndexerClient, ScorerClient, type ScoringService, type SpeculativeWriter } from './remote';
import { Router } from './router';

const APP = 'gateway';

export const gatewaySpec: CommandSpec = {
  name: 'kvr gateway',
  summary: 'OpenAI-compatible router: tokenizes each request, scores every pod (prefix cache + load), forwards to the best one.',
  options: {
    config: { type: 'string', description: 'YAML config file (also KVR_CONFIG); see docs/configuration.md#gateway', placeholder: 'FILE' },
    host: { type: 'string', description: 'Listen host (default 127.0.0.1)', placeholder: 'HOST' },
    port: { type: 'string', description: 'Listen port (default 8080; 0 picks one)', placeholder: 'N' },
    tokenizer: { type: 'string', description: 'Tokenizer service: unix:///path or host:port', placeholder: 'TARGET' },
    indexer: { type: 'string', description: 'Indexer gRPC address (default 127.0.0.1:50051)', placeholder: 'ADDR' },
    'load-scorer': { type: 'string', description: 'Load-scorer gRPC address (default 127.0.0.1:50052)', placeholder: 'ADDR' },
    tokenization: { type: 'string', description: 'service (the tokenizer service at --tokenizer, default) or in-process (tokenize in the gateway itself)', placeholder: 'MODE' },
    'index-access': { type: 'string', description: 'indexer (the indexer\'s Scorer over gRPC, default) or redis (the gateway reads the index from Redis itself)', placeholder: 'MODE' },
    redis: { type: 'string', description: 'Redis URL of the shared no-hit-LRU state (default redis://127.0.0.1:6379; --redis= for none: state local to this replica)', placeholder: 'URL' },
  },
  details: 'Prints {"event":"ready","app":"gateway","listen":{"http":"http://…"}} once it serves. Pods come from the discovery section of the config (KVR_DISCOVERY__PODS for a static list).',
};

const FLAGS: Record<string, FlagTarget> = {
  host: { path: ['host'] },
  port: { path: ['port'], number: true },
  tokenizer: { path: ['tokenizer'] },
  indexer: { path: ['indexer'] },
  'load-scorer': { path: ['loadScorer'] },
  redis: { path: ['redis'] },
  'index-access': { path: ['indexAccess'] },
  tokenization: { path: ['tokenization'] },
};

/** The index's two paths (precise-prefix reads, speculative writes) that config.indexAccess names. */
function indexAccess(config: GatewayConfig, redis: Redis | null): { indexer: ScoringService; indexerAdmin: SpeculativeWriter } {
  if (config.indexAccess === 'redis' && redis) {
    const index = new RedisBlockIndex({ redis, prefix: config.redisPrefix, keyer: createBlockKeyer({ modelName: 'unused', blockSize: config.blockSize, hashSeed: config.hashSeed }) });
    return { indexer: new RedisPrefixScorer(index, redis), indexerAdmin: new RedisSpeculativeWriter(index) };
  }
  return { indexer: new ScorerClient(config.indexer), indexerAdmin: new IndexerClient(config.indexer) };
}

export interface RunningGateway {
  readonly url: string;
  stop(): Promise<void>;
}

/** Builds and starts the gateway from a validated config (also used by in-process benchmarks). */
export async function startGateway(config: GatewayConfig, logger: Logger, registry: Registry, source: PodSource = podSourceFromSettings(config.discovery, logger.child({ component: 'discovery' }))): Promise<RunningGateway> {
  const metrics = createGatewayMetrics(registry);
  const catalog = new PodCatalog(source, logger.child({ component: 'pods' }), config.modelsRefreshMs);
  const tokenizer = config.tokenization === 'in-process' ? new InProcessTokenizer(config.models) : new TokenizerClient({ target: config.tokenizer, timeoutMs: config.tokenizerTimeoutMs });
  const loadScorer = new CachedScoringService(new ScorerClient(config.loadScorer), config.loadScoreMaxAgeMs, {
    onOutcome: (outcome, err) => {
      metrics.loadScoreCache.inc({ outcome });
      // The entry ages out and the next request asks again (a failure then is a counted fallback).
      if (err !== undefined) logger.debug({ err: grpcFailureReason(err) }, 'load-score refresh failed');
    },
  });
  // Fail fast while Redis is away (the LRU falls back to its local copy) and reconnect quickly.
  // No Redis configured: the state stays in this process.
  const redis = config.redis === '' ? null : new Redis(config.redis, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 1_000,
    retryStrategy: (times) => Math.min(100 * times, 1_000),
    lazyConnect: true,
  });
  if (redis) {
    redis.on('error', (err: Error) => logger.debug({ err: err.message }, 'redis connection error'));
    redis.connect().catch((err: unknown) => logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'redis not reachable yet; no-hit-LRU runs on its local copy until it is'));
  } else {
    logger.info('no Redis configured: the no-hit-LRU state is local to this replica');
  }
  const lru = redis ? new SharedNoHitLru(redis, config.redisPrefix) : new LocalNoHitLru();
  // The config check guarantees a Redis for `indexAccess: redis`.
  const { indexer, indexerAdmin } = indexAccess(config, redis);
  const router = new Router({ config, catalog, tokenizer, indexer, indexerAdmin, loadScorer, lru, metrics, logger });
  const forwarder = new Forwarder({ maxRetries: config.maxRetries, headersTimeoutMs: config.upstreamHeadersTimeoutMs, retryAfterSeconds: config.retryAfterSeconds, metrics, logger, catalog });
  // Connect the channels before taking traffic, so that the first requests do not spend their
  // scorer deadlines on connection set-up. A service that is not up yet is no reason to wait:
  // requests route without it (counted) until it is.
  const catalogStarted = catalog.start().then(() => true);
  // In process, the tokenizer loads the base models the fleet serves, once discovery knows them.
  const tokenizerReady =
    tokenizer instanceof InProcessTokenizer
      ? catalogStarted.then(() => tokenizer.connect(catalog.models().filter((m) => m.parent === null).map((m) => m.id)))
      : tokenizer.connect(2_000);
  const connected = await Promise.all([tokenizerReady, indexer.connect(2_000), indexerAdmin.connect(2_000), loadScorer.connect(2_000), catalogStarted]);
  const indexName = config.indexAccess === 'redis' ? 'redis (index)' : 'indexer';
  const names = [config.tokenization === 'in-process' ? 'tokenizer (in-process models)' : 'tokenizer', indexName, indexName, 'load-scorer'];
  const missing = [...new Set(names.filter((_, i) => !connected[i]))];
  if (missing.length > 0) logger.warn({ services: missing }, 'not reachable at start; requests route without them until they are');
  const gateway = new Gateway({ config, router, forwarder, catalog, metrics, logger });
  const http = await startHttpServer(gateway, registry, logger, config.host, config.port);
  return {
    url: http.url,
    async stop() {
      await http.close();
      forwarder.close();
      await catalog.stop();
      tokenizer.close();
      indexer.close();
      indexerAdmin.close();
      loadScorer.close();
      redis?.disconnect();
    },
  };
}

async function start(values: ParsedValues): Promise<{ stop(): Promise<void> }> {
  const { config, logger } = loadAppConfig(GatewayConfig, { app: APP, values, flags: FLAGS });
  const tracing = startTracing(APP);
  if (tracing.disabledReason) logger.info({ reason: tracing.disabledReason }, 'tracing off');
  const registry = createMetricsRegistry({ app: APP });
  const gateway = await startGateway(config, logger, registry);
  announceReady(APP, { http: gateway.url });
  return {
    async stop() {
      await gateway.stop();
      await tracing.shutdown();
    },
  };
}

/** `kvr gateway [--config FILE] [--port N] [--tokenizer TARGET] [--indexer ADDR] …` */
export function main(argv: readonly string[]): Promise<number | undefined> {
  return runAppCommand({ app: APP, spec: gatewaySpec, argv, logger: createLogger({ app: APP }), start: (values) => start(values) });
}
