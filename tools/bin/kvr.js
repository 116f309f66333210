#!/usr/bin/env node
// `npx kvr <app> [--config FILE] [flags]`: starts one app of the product (see `kvr --help`).
require('./launch.js')
  .launch('apps/kvr/src/main.js', process.argv.slice(2))
  // Long-running apps resolve main once started and keep the process alive themselves; one-shot
  // commands resolve with their exit code.
  .then((code) => {
    if (typeof code === 'number') process.exit(code);
  })
  .catch((err) => {
    process.stderr.write(`kvr: ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  });
