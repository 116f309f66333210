#!/usr/bin/env node
// Compiles apps/ and libs/ to dist/ with tsc (incremental), so that `npx kvr` and `npx kvctl`
// run plain JavaScript instead of a transpiler at every start. Runs from `npm ci` (prepare) and,
// when a source is newer than the last build, on the next start of a command.
//   node tools/bin/build.js           build if stale
//   node tools/bin/build.js --force   always build
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..', '..');
const DIST = path.join(ROOT, 'dist');
const STAMP = path.join(DIST, '.build-stamp');
const LOCK = path.join(ROOT, 'dist.build-lock');
const INPUT_ROOTS = ['apps', 'libs'];
const INPUT_FILES = ['tsconfig.base.json', 'tsconfig.build.json', 'package-lock.json'];

function newestInput() {
  let newest = 0;
  const visit = (dir) => {
    let entries;
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(full);
      else if (entry.name.endsWith('.ts') || entry.name.endsWith('.proto')) newest = Math.max(newest, fs.statSync(full).mtimeMs);
    }
  };
  for (const root of INPUT_ROOTS) visit(path.join(ROOT, root));
  for (const file of INPUT_FILES) {
    try {
      newest = Math.max(newest, fs.statSync(path.join(ROOT, file)).mtimeMs);
    } catch {
      // optional input
    }
  }
  return newest;
}

function isStale() {
  try {
    return fs.statSync(STAMP).mtimeMs < newestInput();
  } catch {
    return true;
  }
}

/** One build at a time: concurrent starts (parallel tests) wait for the first to finish. */
function withLock(fn) {
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      const fd = fs.openSync(LOCK, 'wx');
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      const holder = Number(fs.readFileSync(LOCK, 'utf8') || 0);
      let alive = false;
      try {
        if (holder > 0) process.kill(holder, 0);
        alive = holder > 0;
      } catch {
        alive = false;
      }
      if (!alive) {
        fs.rmSync(LOCK, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`another build (pid ${holder}) holds ${LOCK}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(LOCK, { force: true });
  }
}

function build({ force = false, quiet = false } = {}) {
  if (!force && !isStale()) return;
  withLock(() => {
    if (!force && !isStale()) return; // someone else built it while we waited
    const started = Date.now();
    if (!quiet) process.stderr.write('kvr: compiling TypeScript to dist/ ...\n');
    const tsc = require.resolve('typescript/bin/tsc');
    const result = spawnSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    if (result.status !== 0) {
      throw new Error(`TypeScript build failed (tsc exit ${result.status}); see the errors above`);
    }
    fs.mkdirSync(DIST, { recursive: true });
    fs.writeFileSync(STAMP, new Date().toISOString());
    if (!quiet) process.stderr.write(`kvr: build done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  });
}

module.exports = { build, isStale, ROOT, DIST };

if (require.main === module) {
  try {
    build({ force: process.argv.includes('--force') });
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
}
