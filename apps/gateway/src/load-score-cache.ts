/**
 * The load scorers' answers, reused for a short while. The load-scorer's values change once per
 * scrape (50 ms by default), so asking it on every request recomputes the same numbers and puts a
 * gRPC round trip on the request's critical path. This wrapper answers from the last response for
 * the same scorer and candidate set while it is younger than `maxAgeMs`, starts one refresh in the
 * background once it is older than half of that, and waits for a call only when it has nothing
 * fresh enough. A failed refresh leaves the entry to age out: a load-scorer that stays away makes
 * calls fail (and count as fallbacks) after at most `maxAgeMs`, as without the cache.
 */
import type { ScoreRequest, ScoreResponse__Output } from '@kvr/contracts';
import type { ScoringService } from './remote';

interface Entry {
  response: ScoreResponse__Output;
  at: number;
  refreshing: boolean;
}

/** Entries kept (scorer × model × candidate set): far more than a fleet's live combinations. */
const MAX_ENTRIES = 256;

/** What happened to one request for a load score (counted by the gateway's metrics). */
export type CacheOutcome = 'hit' | 'miss' | 'refresh' | 'refresh_failed';

export interface CachedScoringOptions {
  /** Called once per outcome; a failed refresh also passes its error. */
  readonly onOutcome?: (outcome: CacheOutcome, err?: unknown) => void;
  /** Milliseconds clock. @default performance.now */
  readonly now?: () => number;
}

export class CachedScoringService implements ScoringService {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  private readonly onOutcome: (outcome: CacheOutcome, err?: unknown) => void;

  constructor(
    private readonly inner: ScoringService,
    private readonly maxAgeMs: number,
    options: CachedScoringOptions = {},
  ) {
    this.now = options.now ?? (() => performance.now());
    this.onOutcome = options.onOutcome ?? (() => undefined);
  }

  async score(request: ScoreRequest, timeoutMs: number): Promise<ScoreResponse__Output> {
    if (this.maxAgeMs <= 0) return this.inner.score(request, timeoutMs);
    const key = `${request.scorer ?? ''}\u0000${request.model ?? ''}\u0000${request.lora_name ?? ''}\u0000${(request.pods ?? []).join('\u0000')}`;
    const entry = this.entries.get(key);
    const now = this.now();
    if (entry && now - entry.at <= this.maxAgeMs) {
      if (now - entry.at > this.maxAgeMs / 2 && !entry.refreshing) {
        entry.refreshing = true;
        this.onOutcome('refresh');
        this.inner.score(request, timeoutMs).then(
          (response) => this.store(key, response),
          (err: unknown) => {
            entry.refreshing = false;
            this.onOutcome('refresh_failed', err);
          },
        );
      }
      this.onOutcome('hit');
      return entry.response;
    }
    this.onOutcome('miss');
    const response = await this.inner.score(request, timeoutMs);
    this.store(key, response);
    return response;
  }

  private store(key: string, response: ScoreResponse__Output): void {
    if (!this.entries.has(key) && this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(key, { response, at: this.now(), refreshing: false });
  }

  connect(timeoutMs: number): Promise<boolean> {
    return this.inner.connect(timeoutMs);
  }

  close(): void {
    this.inner.close();
  }
}
