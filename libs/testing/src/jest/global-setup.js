// Jest global setup (runs once in the parent process, before any worker starts): creates the
// directory where the server harness records the pid of every server it starts. Workers inherit
// KVR_TEST_RUN_DIR through the environment. Idempotent, because every project of a multi-project
// run calls it.
const { mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

module.exports = async function globalSetup() {
  if (!process.env.KVR_TEST_RUN_DIR) {
    process.env.KVR_TEST_RUN_DIR = mkdtempSync(join(tmpdir(), 'kvr-test-run-'));
  }
};
