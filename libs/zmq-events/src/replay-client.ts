/**
 * The collector's side of vLLM's replay protocol (upstream-spec §1.5): a DEALER dials the pod's
 * ROUTER, sends `["", start_seq]`, and reads answers until the end marker. Both answer layouts
 * (with and without the topic frame) are accepted. A fresh socket per request, so a late answer
 * to an abandoned request can never be mistaken for the next one.
 */
import { Dealer } from 'zeromq';
import { decodeReplayResponse, encodeReplayRequest, type DecodedKvEventBatch } from '@kvr/kv-events';

export interface ReplayedBatch {
  readonly seq: bigint;
  /** The payload frame exactly as the pod sent it. */
  readonly payload: Buffer;
  readonly batch: DecodedKvEventBatch;
}

export interface ReplayResult {
  readonly batches: ReplayedBatch[];
  /** The end marker arrived. */
  readonly complete: boolean;
  /** Why it stopped early (timeout, undecodable answer). */
  readonly error?: string;
}

export async function requestReplay(endpoint: string, fromSeq: bigint, options: { idleTimeoutMs: number; totalTimeoutMs: number; maxBatches?: number }): Promise<ReplayResult> {
  const dealer = new Dealer({ linger: 0, receiveTimeout: options.idleTimeoutMs });
  const batches: ReplayedBatch[] = [];
  const deadline = performance.now() + options.totalTimeoutMs;
  try {
    dealer.connect(endpoint);
    await dealer.send(encodeReplayRequest(fromSeq));
    while (performance.now() < deadline && batches.length < (options.maxBatches ?? 100_000)) {
      let frames: Buffer[];
      try {
        frames = await dealer.receive();
      } catch (err) {
        return { batches, complete: false, error: `no answer within ${options.idleTimeoutMs} ms (${(err as Error).message})` };
      }
      const answer = decodeReplayResponse(frames);
      if (!answer.ok) return { batches, complete: false, error: `undecodable replay answer: ${answer.error.message}` };
      if (answer.value.kind === 'end') return { batches, complete: true };
      batches.push({ seq: answer.value.seq, payload: frames[frames.length - 1] as Buffer, batch: answer.value.batch });
    }
    return { batches, complete: false, error: 'replay took too long' };
  } finally {
    dealer.close();
  }
}
