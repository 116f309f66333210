import type { ScorerName } from './scorers';

/** How one scorer took part in a decision. */
export interface ScorerOutcome {
  readonly scorer: ScorerName;
  readonly weight: number;
  /** ok: its scores count; skipped: weight 0 or nothing to score; failed: left out (see reason). */
  readonly status: 'ok' | 'skipped' | 'failed';
  /** Why it was skipped or failed, e.g. `deadline_exceeded`, `unavailable`, `no_tokens`. */
  readonly reason?: string;
  readonly latencyMs?: number;
}

/** One candidate pod of a decision, with what each scorer gave it. */
export interface PodExplanation {
  readonly pod: string;
  readonly total: number;
  /** Normalised score per scorer that scored the pod. */
  readonly scores: Readonly<Partial<Record<ScorerName, number>>>;
  /** Leading request blocks the index says the pod holds (0 when the index was not asked). */
  readonly matchedBlocks: number;
  /** Raw inputs per scorer, e.g. `waiting=3`. */
  readonly details: Readonly<Partial<Record<ScorerName, string>>>;
}

/**
 * Everything about one routing decision: what the span records, what `POST /debug/route`
 * returns and what `kvctl explain` prints. The JSON shape is a contract between the gateway and
 * kvctl; add fields, never rename them.
 */
export interface RouteExplanation {
  readonly requestId: string;
  readonly model: string;
  /** Prompt tokens as the pod will count them; null when the tokenizer failed. */
  readonly promptTokens: number | null;
  /** Full blocks of the prompt (what the precise-prefix scorer matched against). */
  readonly requestBlocks: number;
  /** True when no candidate held the request's first block (no-hit-LRU then spreads it). */
  readonly cold: boolean;
  readonly scorers: readonly ScorerOutcome[];
  /** Candidates, best first (the order the forwarder tries them in). */
  readonly pods: readonly PodExplanation[];
  /** The chosen pod; null when there was no candidate. */
  readonly chosen: string | null;
  /** Blocks the chosen pod is predicted to serve from its prefix cache. */
  readonly predictedCachedBlocks: number;
  /** Reasons the decision was made with less than every scorer, e.g. `tokenizer:deadline_exceeded`. */
  readonly fallbacks: readonly string[];
}

function formatScore(value: number | undefined): string {
  return value === undefined ? '-' : value.toFixed(3);
}

/** A plain-text table of a decision, for terminals (kvctl explain). */
export function formatExplanation(explanation: RouteExplanation): string {
  const scorerNames = explanation.scorers.filter((s) => s.status !== 'skipped').map((s) => s.scorer);
  const header = ['pod', ...scorerNames.map((name) => `${name}×${explanation.scorers.find((s) => s.scorer === name)?.weight ?? 0}`), 'total', 'blocks'];
  const rows = explanation.pods.map((p) => [
    `${p.pod === explanation.chosen ? '* ' : '  '}${p.pod}`,
    ...scorerNames.map((name) => formatScore(p.scores[name])),
    p.total.toFixed(3),
    `${p.matchedBlocks}/${explanation.requestBlocks}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length + (i === 0 ? 2 : 0), ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  const lines = [
    `request ${explanation.requestId}  model ${explanation.model}  prompt tokens ${explanation.promptTokens ?? 'unknown'}  blocks ${explanation.requestBlocks}${explanation.cold ? '  (cold: no pod holds its first block)' : ''}`,
    line([`  ${header[0] as string}`, ...header.slice(1)]),
    ...rows.map(line),
    `chosen ${explanation.chosen ?? 'none'}  predicted cached blocks ${explanation.predictedCachedBlocks}`,
  ];
  for (const s of explanation.scorers) {
    if (s.status !== 'ok') lines.push(`${s.scorer}: ${s.status}${s.reason ? ` (${s.reason})` : ''}`);
  }
  if (explanation.fallbacks.length > 0) lines.push(`fallbacks: ${explanation.fallbacks.join(', ')}`);
  return lines.join('\n');
}
