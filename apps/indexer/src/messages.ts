/** A JetStream message of the events stream → the index's PodMessage (or why it is not one). */
import { HEADER_ENGINE_SEQ, HEADER_EPOCH, HEADER_KIND, HEADER_MODEL, HEADER_POD, HEADER_RESET_REASON, parseEventsSubject } from '@kvr/contracts';
import { fromHeaders } from '@kvr/jetstream';
import { decodeKvEventBatch } from '@kvr/kv-events';
import type { PodMessage } from '@kvr/kv-index';

export type Parsed = { readonly ok: true; readonly message: PodMessage | null; readonly kind: string } | { readonly ok: false; readonly kind: string; readonly reason: string };

/** `message: null` for kinds the index ignores (`added`). */
export function parseStreamMessage(subject: string, headers: Record<string, string>, data: Uint8Array): Parsed {
  const kind = headers[HEADER_KIND] ?? 'batch';
  let target;
  try {
    target = parseEventsSubject(subject);
  } catch (err) {
    return { ok: false, kind, reason: (err as Error).message };
  }
  const pod = headers[HEADER_POD] || target.podId;
  const epoch = Number(headers[HEADER_EPOCH] ?? '0');
  if (!Number.isSafeInteger(epoch) || epoch < 0) return { ok: false, kind, reason: `bad ${HEADER_EPOCH} header` };
  if (kind === 'added') return { ok: true, message: null, kind };
  if (kind === 'removed') return { ok: true, message: { kind: 'removed', pod, epoch }, kind };
  if (kind === 'reset') return { ok: true, message: { kind: 'reset', pod, epoch, reason: headers[HEADER_RESET_REASON] ?? 'unknown' }, kind };
  if (kind !== 'batch') return { ok: false, kind, reason: `unknown message kind ${kind}` };
  const seqText = headers[HEADER_ENGINE_SEQ] ?? '';
  if (!/^\d+$/.test(seqText)) return { ok: false, kind, reason: `bad ${HEADER_ENGINE_SEQ} header` };
  const decoded = decodeKvEventBatch(data);
  if (!decoded.ok) return { ok: false, kind, reason: `${decoded.error.reason}: ${decoded.error.message}` };
  return { ok: true, message: { kind: 'batch', pod, model: headers[HEADER_MODEL] || target.model, epoch, seq: BigInt(seqText), batch: decoded.value }, kind };
}

export { fromHeaders };
