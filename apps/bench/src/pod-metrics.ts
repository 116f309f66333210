/** The pods' own prefix-cache counters (vLLM `/metrics`), summed over the fleet. */
const HITS = 'vllm:prefix_cache_hits_total';
const QUERIES = 'vllm:prefix_cache_queries_total';

export interface PrefixCounters {
  hits: number;
  queries: number;
}

function sumOf(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export async function prefixCounters(podUrls: readonly string[]): Promise<PrefixCounters> {
  const pages = await Promise.all(podUrls.map(async (url) => (await fetch(new URL('/metrics', url))).text()));
  return pages.reduce((acc, text) => ({ hits: acc.hits + sumOf(text, HITS), queries: acc.queries + sumOf(text, QUERIES) }), { hits: 0, queries: 0 });
}

export function hitRate(before: PrefixCounters, after: PrefixCounters): number {
  const queries = after.queries - before.queries;
  return queries > 0 ? (after.hits - before.hits) / queries : Number.NaN;
}

/** Empties every pod's prefix cache (`POST /reset_prefix_cache`), retrying while requests still run. */
export async function resetPrefixCaches(podUrls: readonly string[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const url of podUrls) {
    for (;;) {
      const res = await fetch(new URL('/reset_prefix_cache', url), { method: 'POST' });
      await res.arrayBuffer();
      if (res.ok) break;
      if (res.status !== 409 || Date.now() > deadline) throw new Error(`${url}/reset_prefix_cache answered ${res.status}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
