import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from 'jest';

// One jest run over every project (each has its own jest.config.ts): one process tree, one
// summary (see tools/scripts/test.sh). Listing folders rather than building the Nx project graph
// keeps start-up fast.
const projects = ['apps', 'libs', 'tools'].flatMap((group) =>
  existsSync(join(__dirname, group))
    ? readdirSync(join(__dirname, group))
        .map((name) => join(__dirname, group, name, 'jest.config.ts'))
        .filter((file) => existsSync(file))
    : [],
);

// testTimeout is a global option: in a multi-project run the projects' own value is ignored.
const config: Config = { projects, testTimeout: 30_000 };
export default config;
