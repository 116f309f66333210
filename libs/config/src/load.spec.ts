import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import {
  APP_SCHEMAS,
  ConfigError,
  configurationDoc,
  isGrpcTarget,
  isHostPort,
  TokenizerConfig,
  configReference,
  configReferenceMarkdown,
  Doc,
  envNameFor,
  IsGrpcTarget,
  IsServiceUrl,
  KvctlConfig,
  loadConfig,
  redactConfig,
  Section,
  type CrossFieldRules,
} from './index';

class NatsSection {
  @Doc('NATS URL') @IsServiceUrl(['nats'], { list: true }) url = 'nats://127.0.0.1:4222';
  @Doc('Stream name') @IsString() stream = 'KV_EVENTS';
  @Doc('Password', { secret: true }) @IsString() password = '';
}

class SampleConfig implements CrossFieldRules {
  @Doc('Tokens per block') @IsInt() @Min(1) @Max(1024) blockSize = 64;
  @Doc('Verbose?') @IsBoolean() verbose = false;
  @Doc('Mode') @IsIn(['precise', 'load']) mode = 'precise';
  @Doc('Pods', { items: 'string' }) @IsString({ each: true }) pods: string[] = [];
  @Doc('Ports', { items: 'number' }) @IsInt({ each: true }) ports: number[] = [];
  @Doc('Indexer') @IsGrpcTarget() indexer = '127.0.0.1:50051';
  @Doc('Optional label') @IsOptional() @IsString() label?: string = undefined;
  @Doc('NATS') @Section(() => NatsSection) nats = new NatsSection();

  crossFieldProblems(): string[] {
    return this.mode === 'load' && this.pods.length === 0 ? ['mode: load needs at least one pod in pods'] : [];
  }
}

function yamlFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kvr-config-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, text);
  return file;
}

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('returns the documented defaults when nothing is set', () => {
    const { config } = loadConfig(SampleConfig, { app: 'sample', env: {} });
    expect(config).toBeInstanceOf(SampleConfig);
    expect(config.blockSize).toBe(64);
    expect(config.nats).toBeInstanceOf(NatsSection);
    expect(config.nats.url).toBe('nats://127.0.0.1:4222');
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.nats)).toBe(true);
  });

  it('layers file < environment < overrides', () => {
    const file = yamlFile('blockSize: 16\nverbose: true\nnats:\n  stream: FROM_FILE\n  url: nats://file:4222\n');
    const { config } = loadConfig(SampleConfig, {
      app: 'sample',
      file,
      env: { KVR_BLOCK_SIZE: '32', KVR_NATS__STREAM: 'FROM_ENV', KVR_PODS: 'a:1, b:2', KVR_PORTS: '1,2' },
      overrides: { blockSize: 128 },
    });
    expect(config.blockSize).toBe(128);
    expect(config.verbose).toBe(true);
    expect(config.nats.stream).toBe('FROM_ENV');
    expect(config.nats.url).toBe('nats://file:4222');
    expect(config.pods).toEqual(['a:1', 'b:2']);
    expect(config.ports).toEqual([1, 2]);
  });

  it('lists every problem at once, naming where each value came from', () => {
    const file = yamlFile('blockSize: 0\nmode: fancy\ntypo: 1\nnats:\n  url: http://x\n');
    const problems = problemsOf(() =>
      loadConfig(SampleConfig, {
        app: 'sample',
        file,
        env: { KVR_VERBOSE: 'maybe', KVR_INDEXER: 'nohost', KVR_PORTS: '1,x' },
      }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        `blockSize (from ${file}): blockSize must not be less than 1`,
        expect.stringMatching(/^mode \(from .*\): mode must be one of the following values: precise, load$/),
        expect.stringMatching(/^typo \(from .*\): unknown setting$/),
        expect.stringMatching(/^nats\.url \(from .*\): url must be a URL with scheme nats:\/\/$/),
        "verbose (from KVR_VERBOSE): 'maybe' is not a boolean (use true or false)",
        "ports (from KVR_PORTS): '1,x' is not a list of numbers",
        'indexer (from KVR_INDEXER): indexer must be host:port or unix:///path',
      ]),
    );
    expect(problems).toHaveLength(7);
  });

  it('reports bad YAML and unreadable files as problems, not crashes', () => {
    expect(problemsOf(() => loadConfig(SampleConfig, { app: 'sample', file: yamlFile('a: [1, 2\n'), env: {} }))[0]).toMatch(
      /invalid YAML/,
    );
    expect(problemsOf(() => loadConfig(SampleConfig, { app: 'sample', file: '/nonexistent/c.yaml', env: {} }))[0]).toMatch(
      /cannot read config file \(ENOENT\)/,
    );
    expect(problemsOf(() => loadConfig(SampleConfig, { app: 'sample', file: yamlFile('- 1\n'), env: {} }))[0]).toMatch(
      /top level must be a map/,
    );
  });

  it('applies cross-field rules once the fields themselves are valid', () => {
    expect(problemsOf(() => loadConfig(SampleConfig, { app: 'sample', env: { KVR_MODE: 'load' } }))).toEqual([
      'mode: load needs at least one pod in pods',
    ]);
  });

  it.each([
    ['collector', {}, true],
    ['gateway', {}, true],
    ['load-scorer', {}, true],
    ['indexer', { KVR_STANDALONE: 'true' }, true],
    ['indexer', {}, false],
  ])('%s: a file discovery needs its file (%j)', (app, env, reported) => {
    const schema = APP_SCHEMAS[app]!;
    const load = (): unknown => loadConfig(schema, { app, env: { ...env, KVR_DISCOVERY__KIND: 'file' } });
    if (reported) expect(problemsOf(load)).toContain('discovery.file is required when discovery.kind is file');
    else expect(load).not.toThrow();
  });

  it('gateway: indexAccess redis needs a Redis, and takes only the two known paths', () => {
    const gateway = APP_SCHEMAS['gateway']!;
    expect(problemsOf(() => loadConfig(gateway, { app: 'gateway', env: { KVR_INDEX_ACCESS: 'redis', KVR_REDIS: '' } }))).toEqual([
      'indexAccess: `redis` reads the index from Redis, so `redis` must name one',
    ]);
    expect(problemsOf(() => loadConfig(gateway, { app: 'gateway', env: { KVR_INDEX_ACCESS: 'direct' } }))[0]).toMatch(/^indexAccess/);
    expect(loadConfig(gateway, { app: 'gateway', env: { KVR_INDEX_ACCESS: 'redis' } }).config).toMatchObject({ indexAccess: 'redis', redis: 'redis://127.0.0.1:6379' });
  });

  it('reports KVR_ variables that match no field, but ignores tooling variables', () => {
    const { ignoredEnv } = loadConfig(SampleConfig, {
      app: 'sample',
      env: { KVR_BLOK_SIZE: '1', KVR_TEST_RUN_DIR: '/tmp/x', KVR_REDIS_SERVER_BIN: '/x', OTHER: '1' },
    });
    expect(ignoredEnv).toEqual(['KVR_BLOK_SIZE']);
  });

  it('error message names the app and every problem', () => {
    try {
      loadConfig(SampleConfig, { app: 'indexer', env: { KVR_BLOCK_SIZE: 'x', KVR_MODE: 'y' } });
      throw new Error('unreachable');
    } catch (err) {
      expect(String((err as Error).message)).toMatch(/^invalid configuration for indexer \(2 problems\):\n {2}- /);
    }
  });
});

describe('envNameFor', () => {
  it('maps camelCase and sections to KVR_ names', () => {
    expect(envNameFor(['blockSize'])).toBe('KVR_BLOCK_SIZE');
    expect(envNameFor(['nats', 'url'])).toBe('KVR_NATS__URL');
    expect(envNameFor(['nats'])).toBe('KVR_NATS');
  });
});

describe('configReference and redactConfig', () => {
  it('lists every leaf with env name, type and default; hides secrets', () => {
    const rows = configReference(SampleConfig);
    expect(rows.map((row) => row.path)).toEqual([
      'blockSize', 'verbose', 'mode', 'pods', 'ports', 'indexer', 'label', 'nats.url', 'nats.stream', 'nats.password',
    ]);
    expect(rows[0]).toEqual({ path: 'blockSize', env: 'KVR_BLOCK_SIZE', type: 'number', defaultValue: '64', doc: 'Tokens per block' });
    expect(rows.find((row) => row.path === 'nats.password')?.defaultValue).toBe('(secret)');
    expect(configReferenceMarkdown(SampleConfig)).toContain('| `nats.url` | `KVR_NATS__URL` | string | `"nats://127.0.0.1:4222"` | NATS URL |');
  });

  it('redacts secret fields and passwords inside URLs', () => {
    const { config } = loadConfig(SampleConfig, {
      app: 'sample',
      env: { KVR_NATS__PASSWORD: 'hunter2', KVR_NATS__URL: 'nats://u:pw@h:4222' },
    });
    const redacted = JSON.stringify(redactConfig(SampleConfig, config));
    expect(redacted).not.toContain('hunter2');
    expect(redacted).not.toContain(':pw@');
    expect(redacted).toContain('nats://u:***@h:4222');
  });
});

describe('KvctlConfig', () => {
  it('takes its addresses from KVR_NATS, KVR_REDIS, KVR_INDEXER, KVR_GATEWAY', () => {
    const { config } = loadConfig(KvctlConfig, {
      app: 'kvctl',
      env: { KVR_NATS: 'nats://n:1', KVR_REDIS: 'redis://r:2', KVR_INDEXER: 'i:3', KVR_GATEWAY: 'http://g:4' },
    });
    expect([config.nats, config.redis, config.indexer, config.gateway]).toEqual(['nats://n:1', 'redis://r:2', 'i:3', 'http://g:4']);
  });
});

describe('docs/configuration.md', () => {
  it('is generated from the current schemas (run `npm run docs:config` after changing one)', () => {
    const doc = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'configuration.md'), 'utf8');
    expect(doc).toBe(configurationDoc());
  });

  it('documents every field of every app schema', () => {
    for (const [app, schema] of Object.entries(APP_SCHEMAS)) {
      const rows = configReference(schema);
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) expect(`${app}:${row.path}:${row.doc.trim().length > 0}`).toBe(`${app}:${row.path}:true`);
    }
  });
});

describe('address checks shared by schemas', () => {
  it('isHostPort and isGrpcTarget accept what gRPC dials and nothing else', () => {
    expect(['127.0.0.1:0', 'indexer:50051', '[::1]:65535'].every(isHostPort)).toBe(true);
    expect(['no-port', 'h:65536', 'unix:///x', ':80'].some(isHostPort)).toBe(false);
    expect(['unix:///run/tok.sock', 'tok:9000'].every(isGrpcTarget)).toBe(true);
    expect(['unix://', 'unix:///', 'unix://relative', 'http://h:1'].some(isGrpcTarget)).toBe(false);
  });

  it('the tokenizer schema uses them for tcp and the sidecar target', () => {
    const problems = problemsOf(() =>
      loadConfig(TokenizerConfig, { app: 'tokenizer', env: { KVR_TCP: 'localhost:70000', KVR_UPSTREAM__KIND: 'sidecar', KVR_UPSTREAM__TARGET: 'unix://relative.sock' } }),
    );
    expect(problems).toEqual([
      'tcp: "localhost:70000" is not host:port',
      'upstream.target must be unix:///path or host:port when upstream.kind is sidecar',
    ]);
  });
});
