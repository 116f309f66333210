// Shared jest settings for every project in the workspace.
// @swc/jest transpiles only (fast on 2 cores); type errors are caught by `npm run typecheck`.
// Decorator metadata is on because class-validator and NestJS read `design:*` metadata.
const path = require('node:path');

const root = __dirname;

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  // Integration tests start servers and child processes; on a loaded 2-core machine 5 s is tight.
  testTimeout: 30_000,
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
          keepClassNames: true,
        },
        module: { type: 'commonjs' },
        sourceMaps: 'inline',
      },
    ],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  // Mirrors the `@kvr/*` paths of tsconfig.base.json: `@kvr/<lib>` is the lib's index,
  // `@kvr/<lib>/testing` its test-helper entry.
  moduleNameMapper: {
    '^@kvr/([a-z0-9-]+)$': path.join(root, 'libs/$1/src/index.ts'),
    '^@kvr/([a-z0-9-]+)/testing$': path.join(root, 'libs/$1/src/testing.ts'),
  },
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  // Integration specs start real servers; the harness cleans them up, and this catches leaks.
  globalSetup: path.join(root, 'libs/testing/src/jest/global-setup.js'),
  globalTeardown: path.join(root, 'libs/testing/src/jest/global-teardown.js'),
};
