/**
 * A pod's load as the scorers need it, read from its vLLM /metrics text. Pure.
 *
 * A metric may appear with several label sets (several engines or models behind one port):
 * waiting and running requests are summed across them, KV-cache usage is the largest (the
 * fullest engine is the one a new request may hit).
 */
import { semconv } from '@kvr/telemetry';
import { parsePrometheusText, type PromParseError, type PromSample } from './prometheus-text';

export interface PodLoad {
  /** `vllm:num_requests_waiting`, summed over label sets. */
  readonly waiting: number;
  /** `vllm:num_requests_running`, summed; undefined when the pod does not expose it. */
  readonly running: number | undefined;
  /** `vllm:kv_cache_usage_perc`, a 0..1 fraction, the largest over label sets. */
  readonly kvUsage: number;
}

/** The metrics a scrape reads; every other line of the page is skipped unparsed. */
export const LOAD_METRIC_NAMES: ReadonlySet<string> = new Set([semconv.VLLM_NUM_REQUESTS_WAITING, semconv.VLLM_NUM_REQUESTS_RUNNING, semconv.VLLM_KV_CACHE_USAGE_PERC]);

export type PodLoadResult = { readonly ok: true; readonly load: PodLoad } | { readonly ok: false; readonly reason: string; readonly badLines: readonly PromParseError[] };

/** Aggregates the load metrics from parsed samples; a missing or non-finite required value is a failure. */
export function podLoadFromSamples(samples: readonly PromSample[]): PodLoadResult {
  let waiting: number | undefined;
  let running: number | undefined;
  let kvUsage: number | undefined;
  for (const sample of samples) {
    if (sample.name === semconv.VLLM_NUM_REQUESTS_WAITING) waiting = (waiting ?? 0) + sample.value;
    else if (sample.name === semconv.VLLM_NUM_REQUESTS_RUNNING) running = (running ?? 0) + sample.value;
    else if (sample.name === semconv.VLLM_KV_CACHE_USAGE_PERC) kvUsage = kvUsage === undefined ? sample.value : Math.max(kvUsage, sample.value);
  }
  const problems: string[] = [];
  if (waiting === undefined) problems.push(`no ${semconv.VLLM_NUM_REQUESTS_WAITING}`);
  else if (!Number.isFinite(waiting) || waiting < 0) problems.push(`${semconv.VLLM_NUM_REQUESTS_WAITING} is ${waiting}`);
  if (kvUsage === undefined) problems.push(`no ${semconv.VLLM_KV_CACHE_USAGE_PERC}`);
  else if (!Number.isFinite(kvUsage)) problems.push(`${semconv.VLLM_KV_CACHE_USAGE_PERC} is ${kvUsage}`);
  if (problems.length > 0 || waiting === undefined || kvUsage === undefined) return { ok: false, reason: problems.join('; '), badLines: [] };
  return { ok: true, load: { waiting, running: running !== undefined && Number.isFinite(running) ? running : undefined, kvUsage } };
}

/**
 * Reads a pod's load from its /metrics page. Strict: a malformed line of one of the load
 * metrics fails the whole read (its value cannot be trusted, nor the sum it belongs to).
 */
export function parsePodLoad(text: string): PodLoadResult {
  const { samples, errors } = parsePrometheusText(text, { names: LOAD_METRIC_NAMES });
  if (errors.length > 0) {
    const first = errors[0] as PromParseError;
    return { ok: false, reason: `malformed metrics line ${first.line}: ${first.reason}`, badLines: errors };
  }
  return podLoadFromSamples(samples);
}
