/**
 * How long one scheduler step takes on the GPU pod being imitated. Step time is what turns cache
 * hits into lower time-to-first-token: cached prompt tokens are not prefilled, so they cost nothing.
 *
 *   step = baseMs                                  weights read once per forward pass
 *        + prefillTokens / prefillTokensPerSecond  compute-bound prefill of uncached tokens
 *        + decodeSeqs × decodeMsPerSeq             per-sequence decode work (sampling, MLP rows)
 *        + contextTokens / 1000 × msPerKiloContextToken   KV reads of the sequences in the step
 *
 * Defaults resemble Qwen3-32B on two H100s with tensor parallelism 2 (the reference guide's pods),
 * derived from public hardware figures rather than measured (no GPU here):
 * - baseMs 12: 65.5 GB of bf16 weights, 32.8 GB per GPU, read at ~3 TB/s effective HBM3 bandwidth
 *   ≈ 11 ms, plus launch overhead. This is the single-stream inter-token latency.
 * - decodeMsPerSeq 0.12: brings a 256-sequence decode step to ≈ 45 ms, the high-batch ITL the
 *   reference deployment reports for this model and hardware class.
 * - prefillTokensPerSecond 12,000: ≈ 66 GFLOP per token (2 × 32.8 B parameters) against ≈ 2 PFLOP/s
 *   of dense bf16 on two H100s at ~40% utilisation, less attention cost at 6–8k context. A cold
 *   7,200-token prompt therefore takes ≈ 0.6 s to prefill; with its 6,000-token shared prefix cached,
 *   ≈ 0.1 s.
 * - msPerKiloContextToken 0.04: one token of KV is 64 layers × 8 KV heads × 128 × 2 (K, V) × 2 B
 *   = 256 KiB; a full pod (≈ 307k tokens, the guide's capacity) is ≈ 80 GB over two GPUs ≈ 12 ms.
 */
export interface LatencyModelOptions {
  readonly baseMs: number;
  readonly prefillTokensPerSecond: number;
  readonly decodeMsPerSeq: number;
  readonly msPerKiloContextToken: number;
}

export const DEFAULT_LATENCY_MODEL: LatencyModelOptions = Object.freeze({
  baseMs: 12,
  prefillTokensPerSecond: 12_000,
  decodeMsPerSeq: 0.12,
  msPerKiloContextToken: 0.04,
});

/** What a step does, as the latency model sees it. */
export interface StepLoad {
  readonly prefillTokens: number;
  readonly decodeSeqs: number;
  readonly contextTokens: number;
}

/** Milliseconds of GPU time for one step (before any time scaling). */
export function stepMilliseconds(load: StepLoad, model: LatencyModelOptions = DEFAULT_LATENCY_MODEL): number {
  return (
    model.baseMs +
    (load.prefillTokens * 1000) / model.prefillTokensPerSecond +
    load.decodeSeqs * model.decodeMsPerSeq +
    (load.contextTokens / 1000) * model.msPerKiloContextToken
  );
}
