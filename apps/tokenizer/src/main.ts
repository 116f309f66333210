import { TokenizerConfig } from '@kvr/config';
import { createLogger, createMetricsRegistry, startTracing } from '@kvr/telemetry';
import { registryOptionsFromSettings, TokenizerRegistry } from '@kvr/tokenization';
import { cachedBackend, localBackend, sidecarBackend, startTokenizerServer, vllmRenderBackend, type TokenizerBackend } from '@kvr/tokenizer-grpc';
import { announceReady, loadAppConfig, runAppCommand, startAdminServer, type CommandSpec, type FlagTarget, type ParsedValues } from '@kvr/runtime';
import type { Registry } from 'prom-client';

const APP = 'tokenizer';

export const tokenizerSpec: CommandSpec = {
  name: 'kvr tokenizer',
  summary: 'gRPC tokenization.TokenizationService (llm-d UDS tokenizer protocol) on a unix socket, rendering prompts exactly as vLLM does.',
  options: {
    config: { type: 'string', description: 'YAML config file (also KVR_CONFIG); see docs/configuration.md#tokenizer', placeholder: 'FILE' },
    socket: { type: 'string', description: 'Unix socket path (default /tmp/tokenizer/tokenizer-uds.socket; "" disables)', placeholder: 'PATH' },
    port: { type: 'string', description: 'Also listen for gRPC on TCP 127.0.0.1:N (0 picks a free port)', placeholder: 'N' },
    'probe-port': { type: 'string', description: 'HTTP port for /healthz, /health, /ready, /metrics (default 8082; 0 picks one)', placeholder: 'N' },
  },
  details: 'Prints {"event":"ready","app":"tokenizer","listen":{"grpc":"unix:///…","tcp":"…","http":"http://…"}} when serving.',
};

const FLAGS: Record<string, FlagTarget> = {
  socket: { path: ['socket'] },
  port: { path: ['tcp'], map: (port) => `127.0.0.1:${port}` },
  'probe-port': { path: ['probePort'], number: true },
};

function buildBackend(config: TokenizerConfig, registry: Registry): TokenizerBackend {
  const upstream = config.upstream;
  if (upstream.kind === 'sidecar') return cachedBackend(sidecarBackend(upstream.target, upstream.timeoutMs, config.maxMessageBytes), upstream.responseCacheEntries, registry);
  if (upstream.kind === 'vllm') return cachedBackend(vllmRenderBackend(upstream.target, upstream.timeoutMs), upstream.responseCacheEntries, registry);
  const tokenizers = new TokenizerRegistry(registryOptionsFromSettings(config.models));
  return localBackend(tokenizers);
}

async function start(values: ParsedValues): Promise<{ stop(): Promise<void> }> {
  const { config, logger } = loadAppConfig(TokenizerConfig, { app: APP, values, flags: FLAGS });
  const tracing = startTracing(APP);
  if (!tracing.enabled) logger.info({ reason: tracing.disabledReason }, 'tracing off');

  const registry = createMetricsRegistry({ app: APP });
  const backend = buildBackend(config, registry);
  for (const model of config.models.preload) {
    await backend.initialize(model);
    logger.info({ model }, 'model loaded');
  }
  const server = await startTokenizerServer({
    backend,
    socketPath: config.socket || undefined,
    tcp: config.tcp || undefined,
    maxMessageBytes: config.maxMessageBytes,
    logger,
    registry,
  });
  const admin = await startAdminServer({
    host: config.probeHost,
    port: config.probePort,
    registry,
    extraRoutes: (req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/healthz') return false;
      // The reference sidecar's probe answer, so existing probes and dashboards keep working.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'healthy', service: 'tokenizer-service', timestamp: Date.now() / 1000, backend: backend.description }));
      return true;
    },
  });
  announceReady(APP, { grpc: server.socketUrl ?? null, tcp: server.tcpAddress ?? null, http: admin.url });
  return {
    async stop() {
      await server.stop();
      await admin.close();
      await tracing.shutdown();
    },
  };
}

/** `kvr tokenizer [--socket PATH] [--port N] [--config FILE]` */
export function main(argv: readonly string[]): Promise<number | undefined> {
  return runAppCommand({ app: APP, spec: tokenizerSpec, argv, logger: createLogger({ app: APP }), start: (values) => start(values) });
}
