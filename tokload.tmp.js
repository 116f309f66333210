require('tsconfig-paths').register({baseUrl: 'dist', paths: {'@kvr/*': ['libs/*/src/index.js']}});
const t0 = process.hrtime.bigint();
const { TokenizerRegistry } = require('@kvr/tokenization');
const reg = new TokenizerRegistry({});
(async () => {
  const t1 = process.hrtime.bigint();
  const tok = await reg.get('Qwen/Qwen3-32B');
  const t2 = process.hrtime.bigint();
  const words = []; for (let i = 0; i < 7000; i++) words.push('w' + (i*7919 % 5000));
  const text = words.join(' ');
  let r = tok.renderCompletion(text, {});
  const t3 = process.hrtime.bigint();
  r = tok.renderCompletion(text + ' more', {});
  const t4 = process.hrtime.bigint();
  console.log('require', Number(t1-t0)/1e6, 'load', Number(t2-t1)/1e6, 'first', Number(t3-t2)/1e6, 'warm', Number(t4-t3)/1e6, r.tokenIds ? r.tokenIds.length : Object.keys(r), process.cpuUsage());
})();
