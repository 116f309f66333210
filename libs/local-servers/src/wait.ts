import { setTimeout as delay } from 'node:timers/promises';

export interface WaitOptions {
  /** Give up after this long. @default 15000 */
  timeoutMs?: number;
  /** Pause between attempts; grows by half each time up to 250 ms. @default 10 */
  intervalMs?: number;
  /** What we were waiting for, for the error message. */
  what: string;
  /** Checked before each attempt: a reason string stops the wait early (e.g. "process exited"). */
  abortIf?: () => string | undefined;
}

/**
 * Polls `probe` until it returns a value other than `undefined`, or throws once the timeout is
 * reached with the last probe error. This is readiness polling, not a sleep: it returns as soon
 * as the condition holds.
 */
export async function waitFor<T>(probe: () => Promise<T | undefined>, options: WaitOptions): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  let interval = options.intervalMs ?? 10;
  let lastError: unknown;
  for (;;) {
    const abortReason = options.abortIf?.();
    if (abortReason) throw new Error(`gave up waiting for ${options.what}: ${abortReason}`);
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const detail = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out waiting for ${options.what}${detail}`);
    }
    await delay(interval);
    interval = Math.min(250, Math.ceil(interval * 1.5));
  }
}
