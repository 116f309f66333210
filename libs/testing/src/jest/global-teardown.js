// Jest global teardown: kills any server a test or a crashed worker left running (the harness
// removes the pid file of every server it stopped itself), then removes the run directory.
const { existsSync, readdirSync, readFileSync, rmSync } = require('node:fs');
const { join } = require('node:path');

module.exports = async function globalTeardown() {
  const dir = process.env.KVR_TEST_RUN_DIR;
  if (!dir || !existsSync(dir)) return;
  const leaked = [];
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.pid')) continue;
    const pid = Number(readFileSync(join(dir, name), 'utf8'));
    try {
      process.kill(pid, 'SIGKILL');
      leaked.push(pid);
    } catch {
      // already gone
    }
  }
  rmSync(dir, { recursive: true, force: true });
  delete process.env.KVR_TEST_RUN_DIR;
  if (leaked.length > 0) {
    process.stderr.write(`test harness: killed ${leaked.length} leaked server process(es): ${leaked.join(', ')}\n`);
  }
};
