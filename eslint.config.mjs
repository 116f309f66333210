// Lint carries the architecture (see docs/architecture.md, "Boundaries"):
//  - Nx tags + @nx/enforce-module-boundaries: what may depend on what, and which I/O packages a
//    domain lib may never import;
//  - type-aware rules for promise handling;
//  - no `export *`, and every eslint-disable must say why.
import nx from '@nx/eslint-plugin';
import comments from '@eslint-community/eslint-plugin-eslint-comments/configs';

/** Packages that do I/O: never in a `type:domain` lib (those stay pure and unit-testable). */
const IO_PACKAGES = ['ioredis', 'nats', '@nats-io/*', 'zeromq', '@nestjs/*', '@grpc/*', 'prom-client', 'pino'];

/** Who may depend on whom. Tests may additionally use `type:testing` (see the spec override). */
const depConstraints = [
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:domain', 'type:adapter', 'type:contract', 'type:util'] },
  {
    sourceTag: 'type:domain',
    onlyDependOnLibsWithTags: ['type:domain', 'type:contract', 'type:util'],
    bannedExternalImports: IO_PACKAGES,
  },
  { sourceTag: 'type:adapter', onlyDependOnLibsWithTags: ['type:adapter', 'type:domain', 'type:contract', 'type:util'] },
  { sourceTag: 'type:contract', onlyDependOnLibsWithTags: ['type:contract'] },
  { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util', 'type:contract'] },
  { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:testing', 'type:domain', 'type:adapter', 'type:contract', 'type:util'] },
  { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:testing', 'type:domain', 'type:adapter', 'type:contract', 'type:util'] },
];

/** The same rules for spec files, where every project may also use the test harness. */
const specDepConstraints = depConstraints.map((c) =>
  c.sourceTag === 'type:testing' || c.sourceTag === 'type:tool'
    ? c
    : { ...c, onlyDependOnLibsWithTags: [...c.onlyDependOnLibsWithTags, 'type:testing'] },
);

const boundaries = (constraints) => [
  'error',
  {
    enforceBuildableLibDependency: false,
    allow: [],
    banTransitiveDependencies: false,
    checkDynamicDependenciesExceptions: [],
    depConstraints: constraints,
  },
];

export default [
  {
    ignores: ['**/node_modules/**', '**/dist/**', '**/tmp/**', '**/coverage/**', '.nx/**', 'libs/contracts/src/generated/**'],
  },
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  comments.recommended,
  {
    rules: {
      '@eslint-community/eslint-comments/require-description': ['error', { ignore: [] }],
      '@eslint-community/eslint-comments/no-unused-disable': 'error',
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportAllDeclaration', message: 'Export names explicitly: no `export *` (keeps each public surface deliberate).' },
      ],
    },
  },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@nx/enforce-module-boundaries': boundaries(depConstraints),
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': 'error',
      // noUncheckedIndexedAccess is on, so every `arr[i]` is `T | undefined`; in bounds-checked
      // hot loops (decoders, hashing) `arr[i]!` states that check without a runtime cost.
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // Per-event and per-request code. On Node 20 (V8 11) an object that starts with a spread and
    // then gets more properties (`{ ...a, b }`, `{ ...a, ...b }`) receives a hidden class of its
    // own every time: ≈ 1–3 µs and an old-space allocation each (docs/architecture.md). These
    // files build literals or use `Object.assign({}, a, { b })`.
    files: [
      'libs/kv-events/src/**/*.ts',
      'libs/jetstream/src/publisher.ts',
      'libs/jetstream/src/headers.ts',
      'libs/collector/src/pod-ingest.ts',
      'libs/kv-index/src/**/*.ts',
      'libs/block-keys/src/**/*.ts',
      'libs/scoring/src/**/*.ts',
      'libs/tokenization/src/{chat,chunking,encoder,fast-bpe,jinja-python,lru,doorkeeper,model-tokenizer}.ts',
      'apps/indexer/src/partition-worker.ts',
      'apps/gateway/src/{router,gateway,forwarder,redis-index-access,in-process-tokenizer}.ts',
    ],
    ignores: ['**/*.spec.ts', '**/src/testing.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportAllDeclaration', message: 'Export names explicitly: no `export *` (keeps each public surface deliberate).' },
        {
          selector: 'ObjectExpression > SpreadElement:first-child ~ *',
          message: 'Hot path: `{ ...a, b }` costs V8 11 a new hidden class per object; write the literal out or use Object.assign({}, a, { b }) (docs/architecture.md).',
        },
      ],
    },
  },
  {
    // Test code: specs, fixtures, benchmarks, and each lib's `src/testing.ts` entry (test helpers
    // behind `@kvr/<lib>/testing`, never imported by production code).
    files: ['**/*.spec.ts', '**/__fixtures__/**/*.ts', '**/bench/**/*.ts', '**/src/testing.ts'],
    rules: {
      '@nx/enforce-module-boundaries': boundaries(specDepConstraints),
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: { globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', process: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
];
