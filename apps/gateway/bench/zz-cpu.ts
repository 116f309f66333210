import { createPrng, processCpuSeconds, startPipeline } from '@kvr/testing';
const WORDS = ['cache', 'block', 'router', 'prefix', 'token', 'latency', 'pod', 'index', 'stream', 'event', 'model', 'request', 'the', 'of', 'and', 'to', 'in', 'GPU', 'shared', 'queue'];
const prng = createPrng(17);
const words = (n: number): string => Array.from({ length: n }, () => prng.pick(WORDS)).join(' ');
async function main() {
  const p = await startPipeline({ pods: 8, timeScale: 10, env: { KVR_NO_BUILD: '1' }, gatewayEnv: process.env.PROF ? { NODE_OPTIONS: '' } : {} });
  const g = p.gateways[0]!;
  const names = ['sim', 'collector', 'indexer', 'tokenizer', 'load-scorer', 'gateway'];
  const prefixes = Array.from({ length: 8 }, (_, i) => `group ${i}: ${words(6000)}`);
  const qs = Array.from({ length: 400 }, (_, i) => `question ${i}: ${words(1000)}`);
  const send = (i: number) => fetch(`${g}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'Qwen/Qwen3-32B', prompt: `${prefixes[i % 8]} ${qs[i]}`, max_tokens: 1 }) }).then(async (r) => { await r.arrayBuffer(); return /dur=([\d.]+)/.exec(r.headers.get('server-timing') ?? '')?.[1]; });
  for (let i = 0; i < 20; i++) await send(i);
  const pids = names.map((n) => p.part(n)!.child.pid!);
  const before = pids.map(processCpuSeconds);
  const t: number[] = [];
  const N = 200;
  for (let i = 0; i < N; i++) t.push(Number(await send(20 + i)));
  const after = pids.map(processCpuSeconds);
  t.sort((a, b) => a - b);
  console.log('sequential: routing p50', t[N >> 1], 'p99', t[Math.floor(N * 0.99)]);
  console.log('CPU ms per request:', names.map((n, i) => `${n}=${(((after[i]! - before[i]!) * 1000) / N).toFixed(2)}`).join(' '));
  await p.stop();
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
