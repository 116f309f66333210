const fs = require('node:fs'), path = require('node:path');
const DIST = path.join(process.cwd(), 'dist');
const base = JSON.parse(fs.readFileSync('tsconfig.base.json', 'utf8'));
const paths = {}; for (const [a, t] of Object.entries(base.compilerOptions.paths)) if (a.startsWith('@kvr/')) paths[a] = t.map((x) => x.replace(/\.ts$/, '.js'));
require('tsconfig-paths').register({ baseUrl: DIST, paths, addMatchAll: false });
const { TokenizerClient } = require(DIST + '/libs/tokenizer-grpc/src/index.js');
const c = new TokenizerClient({ target: process.argv[2], timeoutMs: 5000 });
const text = process.argv[3] === 'big' ? 'word '.repeat(8000) : 'hi';
(async () => {
  await c.connect(2000);
  for (const gap of [0, 20]) {
    const lat = [];
    for (let i = 0; i < 300; i++) { if (gap) await new Promise((r) => setTimeout(r, gap)); const t = performance.now(); await c.renderCompletion('Qwen/Qwen3-32B', text); lat.push(performance.now() - t); }
    lat.sort((a, b) => a - b);
    console.log(process.argv[3] || 'small', 'gap', gap, 'p50', lat[150].toFixed(2), 'p90', lat[270].toFixed(2));
  }
  c.close();
})();
