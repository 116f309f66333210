// Jest global setup (runs once in the parent process, before any worker starts):
//  - creates the directory where the server harness records the pid of every server it starts
//    (workers inherit KVR_TEST_RUN_DIR through the environment);
//  - brings dist/ up to date once, so that tests which run `kvr`/`kvctl` as real processes in
//    parallel workers do not all compile at the same time.
// Idempotent, because every project of a multi-project run calls it.
const { mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

module.exports = async function globalSetup() {
  if (!process.env.KVR_TEST_RUN_DIR) {
    process.env.KVR_TEST_RUN_DIR = mkdtempSync(join(tmpdir(), 'kvr-test-run-'));
    require(join(__dirname, '..', '..', '..', '..', 'tools', 'bin', 'build.js')).build({ quiet: true });
  }
};
