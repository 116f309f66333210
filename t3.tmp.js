const fs = require('node:fs'), path = require('node:path');
const DIST = path.join(process.cwd(), 'dist');
const base = JSON.parse(fs.readFileSync('tsconfig.base.json', 'utf8'));
const paths = {}; for (const [a, t] of Object.entries(base.compilerOptions.paths)) if (a.startsWith('@kvr/')) paths[a] = t.map((x) => x.replace(/\.ts$/, '.js'));
require('tsconfig-paths').register({ baseUrl: DIST, paths, addMatchAll: false });
const { TokenizerRegistry } = require(DIST + '/libs/tokenization/src/index.js');
let seed = 17; const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const WORDS = ['cache','block','router','prefix','token','latency','pod','index','stream','event','model','request','the','of','and','to','in','GPU','shared','queue'];
const words = (n) => Array.from({ length: n }, () => WORDS[Math.floor(rnd() * WORDS.length)]).join(' ');
const prefixes = Array.from({ length: 8 }, (_, g) => `group ${g}: ${words(6000)}`);
const questions = Array.from({ length: 1400 }, (_, q) => `question ${q}: ${words(1000)}`);
(async () => {
  const reg = new TokenizerRegistry({});
  const t = await reg.get('Qwen/Qwen3-32B');
  for (let i = 0; i < 50; i++) t.renderCompletion(`${prefixes[i % 8]} ${questions[i]}`);
  const N = 600; const lat = [];
  for (let i = 0; i < N; i++) { const s = performance.now(); t.renderCompletion(`${prefixes[i % 8]} ${questions[(50 + i) % 1400]}`); lat.push(performance.now() - s); }
  lat.sort((a, b) => a - b); console.log('renderCompletion p50', lat[N/2].toFixed(3), 'p90', lat[Math.floor(N*0.9)].toFixed(3), 'mean', (lat.reduce((a,b)=>a+b)/N).toFixed(3));
})();
