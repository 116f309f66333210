/**
 * Reading a /metrics page (Prometheus text format) in benchmarks and tests: sums of samples and
 * histogram buckets by metric name. Enough for prom-client's output; /metrics tests that check
 * the format itself use the reference parser (python3-prometheus-client) instead.
 */

interface Sample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function samples(text: string, name: string): Sample[] {
  const line = new RegExp(`^${escapeRegExp(name)}(?:\\{([^}]*)\\})? (\\S+)`, 'gm');
  return [...text.matchAll(line)].map((m) => ({
    labels: Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1] as string, l[2] as string])),
    value: Number(m[2]),
  }));
}

/** Sum of every sample of `name` whose labels include all of `labels` (e.g. a counter over partitions). */
export function sumSamples(text: string, name: string, labels: Readonly<Record<string, string>> = {}): number {
  return samples(text, name)
    .filter((s) => Object.entries(labels).every(([key, value]) => s.labels[key] === value))
    .reduce((sum, s) => sum + s.value, 0);
}

/** A histogram's cumulative buckets in the page's order (`+Inf` as Infinity). */
export function histogramBuckets(text: string, name: string): { le: number; count: number }[] {
  return samples(text, `${name}_bucket`).map((s) => ({ le: s.labels['le'] === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.labels['le']), count: s.value }));
}

/**
 * The /metrics page of the service at `base` (an origin, with or without a trailing slash).
 * Throws on anything but 200: a page that is not there must fail the caller, not read as all
 * counters at zero.
 */
export async function fetchMetrics(base: string | URL): Promise<string> {
  const url = new URL('/metrics', base);
  const res = await fetch(url);
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${url.href} answered ${res.status}: ${text.slice(0, 200)}`);
  return text;
}
