import { APP_SCHEMAS, ConfigError, configReferenceMarkdown, loadConfig, redactConfig } from '@kvr/config';
import { EXIT_CONFIG, helpText, parseCommand, UsageError, type CommandSpec } from '@kvr/runtime';
import { join } from 'node:path';

/**
 * Apps `kvr <name>` starts. Each entry is the compiled main module of an app (apps never import
 * each other; this launcher loads them by path at run time). Later capabilities add theirs:
 * sim, collector, indexer, tokenizer, load-scorer, gateway, bench, demo.
 */
const APPS: Record<string, { summary: string; module: string }> = {
  collector: {
    summary: 'ZMQ → NATS JetStream bridge for every pod: ordered, de-duplicated, gaps replayed, restarts detected',
    module: 'apps/kv-collector/src/main.js',
  },
  bench: {
    summary: 'The shared-prefix benchmark (Poisson rate ladder, streamed TTFT/ITL/throughput) against any OpenAI-compatible endpoint',
    module: 'apps/bench/src/main.js',
  },
  demo: {
    summary: 'Round-robin vs precise routing on a simulated 8-pod fleet (the reference benchmark, shortened); writes out/report.md',
    module: 'apps/bench/src/demo.js',
  },
  gateway: {
    summary: 'OpenAI-compatible router: tokenizes, scores every pod (prefix cache + load), forwards to the best one, explains why',
    module: 'apps/gateway/src/main.js',
  },
  'load-scorer': {
    summary: "Scrapes every pod's vLLM /metrics and serves the kv-cache-utilization and queue-size Scorers (gRPC)",
    module: 'apps/load-scorer/src/main.js',
  },
  up: {
    summary: 'The whole stack locally on free ports: Redis, NATS JetStream, a simulated fleet and the services',
    module: 'apps/stack/src/main.js',
  },
  indexer: {
    summary: 'Consumes the KV event stream by partition into the Redis block index; serves the precise-prefix Scorer (gRPC)',
    module: 'apps/indexer/src/main.js',
  },
  sim: {
    summary: 'Simulated vLLM pods (one, or a fleet with --pods N): OpenAI API, prefix cache, KV events, vLLM metrics',
    module: 'apps/vllm-sim/src/main.js',
  },
  tokenizer: {
    summary: 'gRPC tokenizer service (llm-d UDS protocol) on a unix socket, rendering prompts exactly as vLLM does',
    module: 'apps/tokenizer/src/main.js',
  },
};

const configSpec: CommandSpec = {
  name: 'kvr config',
  summary: "Validates an app's configuration (file + KVR_* environment) and prints the effective values, secrets redacted.",
  positionals: [{ name: 'app', description: `One of: ${Object.keys(APP_SCHEMAS).join(', ')}` }],
  options: {
    config: { type: 'string', description: 'YAML config file (also KVR_CONFIG)', placeholder: 'FILE' },
    reference: { type: 'boolean', description: "Print the app's configuration reference (Markdown) instead" },
  },
  details: 'Exit code 0 when the configuration is valid, 2 with every problem listed when it is not.',
};

function topLevelHelp(): string {
  const entries: [string, string][] = [
    ...Object.entries(APPS).map(([name, app]): [string, string] => [name, app.summary]),
    ['config', configSpec.summary],
  ];
  const width = Math.max(...entries.map(([name]) => name.length)) + 2;
  return [
    'Usage: kvr <command> [--config FILE] [options]',
    '',
    'Starts the parts of the prefix-cache router. Each app reads a YAML file (--config) plus KVR_* overrides,',
    'prints one JSON "ready" line on stdout with the addresses it listens on, logs JSON to stderr,',
    'and stops cleanly on SIGINT/SIGTERM.',
    '',
    'Commands:',
    ...entries.map(([name, summary]) => `  ${name.padEnd(width)}${summary}`),
    '',
    "Run 'kvr <command> --help' for its options.",
    '',
  ].join('\n');
}

function runConfigCommand(argv: readonly string[]): number {
  let parsed;
  try {
    parsed = parseCommand(configSpec, argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`kvr config: ${err.message}\n\n${helpText(configSpec)}`);
    return EXIT_CONFIG;
  }
  if (parsed.help) {
    process.stdout.write(helpText(configSpec));
    return 0;
  }
  const app = parsed.positionals[0] as string;
  const schema = APP_SCHEMAS[app];
  if (!schema) {
    process.stderr.write(`kvr config: no app named "${app}" (choose from ${Object.keys(APP_SCHEMAS).join(', ')})\n`);
    return EXIT_CONFIG;
  }
  if (parsed.values['reference'] === true) {
    process.stdout.write(`${configReferenceMarkdown(schema)}\n`);
    return 0;
  }
  const file = typeof parsed.values['config'] === 'string' ? parsed.values['config'] : process.env['KVR_CONFIG'];
  try {
    const { config, ignoredEnv } = loadConfig(schema, { app, file, env: process.env });
    if (ignoredEnv.length > 0) process.stderr.write(`kvr config: ignored KVR_ variables that ${app} does not use: ${ignoredEnv.join(', ')}\n`);
    process.stdout.write(`${JSON.stringify(redactConfig(schema, config), null, 2)}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return EXIT_CONFIG;
  }
}

/** Entry point, called by tools/bin/kvr.js. Returns an exit code for one-shot commands. */
export async function main(argv: readonly string[]): Promise<number | undefined> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(topLevelHelp());
    return name === undefined ? EXIT_CONFIG : 0;
  }
  if (name === 'config') return runConfigCommand(rest);
  const app = APPS[name];
  if (!app) {
    process.stderr.write(`kvr: unknown command "${name}"\n\n${topLevelHelp()}`);
    return EXIT_CONFIG;
  }
  // dist/apps/kvr/src/main.js → dist/<module>
  const entry = require(join(__dirname, '..', '..', '..', app.module)) as { main(argv: readonly string[]): Promise<number | undefined> };
  return entry.main(rest);
}
