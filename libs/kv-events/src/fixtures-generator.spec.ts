// Re-runs the Python fixture generator and compares its output with the checked-in fixtures, so
// neither the generator nor the JSON can change without the other.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const FIXTURES_DIR = join(__dirname, '..', 'fixtures');
// The system interpreter: Debian's python3-msgpack is installed for it, not for the pyenv shim on PATH.
const PYTHON = '/usr/bin/python3';
const INSTALL_HINT = 'apt-get install python3-msgpack';

describe('fixtures/make_fixtures.py', () => {
  it('regenerates exactly the checked-in vllm-kv-events.json', () => {
    if (!existsSync(PYTHON)) throw new Error(`${PYTHON} not found; the fixture check needs it (apt-get install python3 python3-msgpack)`);
    const run = spawnSync(PYTHON, [join(FIXTURES_DIR, 'make_fixtures.py'), '--stdout'], { encoding: 'utf8', timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
    if (run.error) throw run.error;
    if (run.status !== 0) {
      const missingMsgpack = /msgpack/.test(run.stderr) && /(ImportError|ModuleNotFound|missing)/.test(run.stderr);
      throw new Error(
        missingMsgpack
          ? `${PYTHON} has no msgpack module: ${INSTALL_HINT}\n${run.stderr}`
          : `make_fixtures.py exited with ${String(run.status)}:\n${run.stderr}`,
      );
    }
    const checkedIn = readFileSync(join(FIXTURES_DIR, 'vllm-kv-events.json'), 'utf8');
    // On a mismatch, regenerate with: /usr/bin/python3 libs/kv-events/fixtures/make_fixtures.py
    expect(run.stdout).toBe(checkedIn);
  });
});
