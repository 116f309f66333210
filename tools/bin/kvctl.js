#!/usr/bin/env node
// `npx kvctl <command>`: the operator CLI (see `kvctl --help`).
require('./launch.js')
  .launch('apps/kvctl/src/main.js', process.argv.slice(2))
  // A CLI command is done when main resolves: exit with its code rather than waiting for
  // client libraries to release their sockets and timers.
  .then((code) => process.exit(typeof code === 'number' ? code : 0))
  .catch((err) => {
    process.stderr.write(`kvctl: ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  });
