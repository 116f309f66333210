// real: the ESLint CLI with the repo's eslint.config.mjs (Nx project graph, typed rules), run as a
// child process on probe files written into real projects; mock: nothing.
//
// Proves the architecture rules fail on violations, so that a config change that silently
// disables them breaks CI. All probes are linted in one ESLint run (typed linting has a
// start-up cost of several seconds); each is removed afterwards.
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
const BOUNDARY = '@nx/enforce-module-boundaries';

interface Finding {
  ruleId: string | null;
  message: string;
}

const PROBES = {
  domainImportsIoredis: ['libs/kv-events/src/__lint_probe_ioredis__.ts', "import Redis from 'ioredis';\nexport const probe = Redis;\n"],
  domainImportsNats: ['libs/kv-events/src/__lint_probe_nats__.ts', "import { connect } from '@nats-io/transport-node';\nexport const probe = connect;\n"],
  domainImportsZeromq: ['libs/block-keys/src/__lint_probe_zeromq__.ts', "import { Publisher } from 'zeromq';\nexport const probe = Publisher;\n"],
  // contracts is reachable from no domain lib's dependencies, so this probe creates no cycle
  // (a cycle would be reported instead of the tag violation).
  contractImportsDomain: ['libs/contracts/src/__lint_probe_dep__.ts', "import { createBlockKeyer } from '@kvr/block-keys';\nexport const probe = createBlockKeyer;\n"],
  prodImportsTesting: ['libs/kv-events/src/__lint_probe_testing__.ts', "import { startRedis } from '@kvr/testing';\nexport const probe = startRedis;\n"],
  specImportsTesting: ['libs/kv-events/src/__lint_probe_testing__.spec.ts', "import { startRedis } from '@kvr/testing';\nexport const probe = startRedis;\n"],
  appImportsApp: ['apps/kvr/src/__lint_probe_app__.ts', "import { main } from '../../kvctl/src/main';\nexport const probe = main;\n"],
  domainImportsContracts: ['libs/kv-events/src/__lint_probe_ok__.ts', "import { eventsSubject } from '@kvr/contracts';\nexport const probe = eventsSubject;\n"],
  exportStar: ['libs/contracts/src/__lint_probe_star__.ts', "export * from './subjects';\n"],
  floatingPromise: ['libs/contracts/src/__lint_probe_float__.ts', 'async function work(): Promise<void> {}\nexport function probe(): void {\n  work();\n}\n'],
  bareDisable: ['libs/contracts/src/__lint_probe_bare__.ts', '// eslint-disable-next-line no-console\nconsole.log(1);\nexport {};\n'],
  explainedDisable: ['libs/contracts/src/__lint_probe_explained__.ts', '// eslint-disable-next-line no-console -- the probe prints on purpose\nconsole.log(1);\nexport {};\n'],
  hotPathSpread: ['libs/kv-events/src/__lint_probe_spread__.ts', 'export const probe = (a: object): object => ({ ...a, b: 1 });\n'],
  hotPathLiteral: ['libs/kv-events/src/__lint_probe_literal__.ts', 'export const probe = (a: object): object => Object.assign({}, a, { b: 1 });\n'],
  coldPathSpread: ['libs/contracts/src/__lint_probe_spread_ok__.ts', 'export const probe = (a: object): object => ({ ...a, b: 1 });\n'],
  hotPathExportStar: ['libs/kv-events/src/__lint_probe_star__.ts', "export * from './errors';\n"],
} as const;

type ProbeName = keyof typeof PROBES;
const findings = new Map<ProbeName, Finding[]>();

beforeAll(() => {
  const files = Object.values(PROBES).map(([path, source]) => {
    writeFileSync(join(ROOT, path), source);
    return path;
  });
  try {
    // The boundary rule reads Nx's cached project graph and silently skips itself when there is
    // none (a fresh clone): compute it first, exactly as `npm run lint` does.
    const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' };
    const graph = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'nx', 'dist', 'bin', 'nx.js'), 'show', 'projects'], { cwd: ROOT, env, encoding: 'utf8' });
    if (graph.status !== 0) throw new Error(`nx show projects failed: ${graph.stderr}`);
    const result = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'eslint', 'bin', 'eslint.js'), '--format', 'json', '--no-warn-ignored', ...files], {
      cwd: ROOT,
      env,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    if (result.status !== 0 && result.status !== 1) throw new Error(`eslint failed to run (exit ${result.status}): ${result.stderr}`);
    const report = JSON.parse(result.stdout) as { filePath: string; messages: Finding[] }[];
    for (const [name, [path]] of Object.entries(PROBES) as [ProbeName, readonly [string, string]][]) {
      const entry = report.find((r) => relative(ROOT, r.filePath) === path);
      if (!entry) throw new Error(`eslint did not report on ${path}`);
      findings.set(name, entry.messages.map((m) => ({ ruleId: m.ruleId, message: m.message })));
    }
  } finally {
    for (const path of files) rmSync(join(ROOT, path), { force: true });
  }
}, 120_000);

function rulesOf(name: ProbeName): (string | null)[] {
  return (findings.get(name) ?? []).map((f) => f.ruleId);
}

function boundaryMessages(name: ProbeName): string[] {
  return (findings.get(name) ?? []).filter((f) => f.ruleId === BOUNDARY).map((f) => f.message);
}

describe('module boundaries', () => {
  it.each([
    ['domainImportsIoredis', 'ioredis'],
    ['domainImportsNats', '@nats-io/transport-node'],
    ['domainImportsZeromq', 'zeromq'],
  ] as const)('%s is an error naming %s', (probe, pkg) => {
    const messages = boundaryMessages(probe);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain(pkg);
  });

  it('a contract lib importing a domain lib is an error', () => {
    expect(boundaryMessages('contractImportsDomain')).toEqual([
      expect.stringContaining('A project tagged with "type:contract" can only depend on libs tagged with "type:contract"'),
    ]);
  });

  it('production code may not import the test harness; spec files may', () => {
    expect(boundaryMessages('prodImportsTesting')).toHaveLength(1);
    expect(boundaryMessages('specImportsTesting')).toHaveLength(0);
  });

  it('an app importing another app is an error', () => {
    expect(boundaryMessages('appImportsApp')).toHaveLength(1);
  });

  it('a domain lib may import contracts (control case: the probes themselves lint clean)', () => {
    expect(findings.get('domainImportsContracts')).toEqual([]);
  });
});

describe('code rules', () => {
  it('bans export *', () => {
    expect(rulesOf('exportStar')).toContain('no-restricted-syntax');
  });

  it('bans floating promises', () => {
    expect(rulesOf('floatingPromise')).toContain('@typescript-eslint/no-floating-promises');
  });

  it('bans spread-then-extend object literals in hot-path files only', () => {
    expect((findings.get('hotPathSpread') ?? []).map((f) => f.message)).toEqual([expect.stringContaining('Hot path')]);
    expect(findings.get('hotPathLiteral')).toEqual([]);
    expect(findings.get('coldPathSpread')).toEqual([]);
  });

  it('still bans export * in hot-path files, whose no-restricted-syntax list replaces the general one', () => {
    expect(rulesOf('hotPathExportStar')).toContain('no-restricted-syntax');
  });

  it('requires a reason on eslint-disable comments', () => {
    expect(rulesOf('bareDisable')).toContain('@eslint-community/eslint-comments/require-description');
    expect(findings.get('explainedDisable')).toEqual([]);
  });
});
