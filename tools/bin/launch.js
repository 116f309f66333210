// Shared start-up of the `kvr` and `kvctl` commands: make sure dist/ is built and fresh, map the
// `@kvr/*` path aliases onto the compiled files, then run the app's exported `main(argv)`.
// Set KVR_NO_BUILD=1 (container images) to skip the freshness check.
const fs = require('node:fs');
const path = require('node:path');
const { build, ROOT, DIST } = require('./build.js');

function registerAliases() {
  const base = JSON.parse(fs.readFileSync(path.join(ROOT, 'tsconfig.base.json'), 'utf8'));
  const paths = {};
  for (const [alias, targets] of Object.entries(base.compilerOptions.paths)) {
    if (!alias.startsWith('@kvr/')) continue; // other entries only steer type resolution
    paths[alias] = targets.map((target) => target.replace(/\.ts$/, '.js'));
  }
  require('tsconfig-paths').register({ baseUrl: DIST, paths, addMatchAll: false });
}

async function launch(mainModule, argv) {
  if (process.env.KVR_NO_BUILD !== '1') build({ quiet: false });
  registerAliases();
  const entry = require(path.join(DIST, mainModule));
  return entry.main(argv);
}

module.exports = { launch };
