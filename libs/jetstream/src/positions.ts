/**
 * What the stream already holds for one pod: the headers of the last message on the pod's
 * subject. A collector that (re)starts resumes from there instead of from its own memory, so two
 * replicas, or one replica across restarts, continue each other's numbering.
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import { HEADER_ENGINE_SEQ, HEADER_ENGINE_TS, HEADER_EPOCH, HEADER_KIND, type MessageKind } from '@kvr/contracts';
import { fromHeaders } from './headers';
import { isNotFound } from './streams';

export interface StoredPosition {
  readonly kind: MessageKind;
  readonly epoch: number;
  /** Engine sequence of the last batch (or the one a reset preceded); null for control messages without one. */
  readonly seq: bigint | null;
  readonly ts: number | null;
  /** Stream sequence of that message. */
  readonly streamSeq: number;
}

export async function lastStoredPosition(jsm: JetStreamManager, stream: string, subject: string): Promise<StoredPosition | null> {
  let message;
  try {
    message = await jsm.streams.getMessage(stream, { last_by_subj: subject });
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
  if (!message) return null;
  return positionFromHeaders(fromHeaders(message.header), message.seq);
}

/** The resume point a stored message's `Kvr-*` headers describe (`streamSeq`: where it is stored). */
export function positionFromHeaders(headers: Readonly<Record<string, string>>, streamSeq: number): StoredPosition {
  const seqText = headers[HEADER_ENGINE_SEQ];
  const tsText = headers[HEADER_ENGINE_TS];
  return {
    kind: (headers[HEADER_KIND] ?? 'batch') as MessageKind,
    epoch: Number(headers[HEADER_EPOCH] ?? 0),
    seq: seqText !== undefined && seqText !== '' ? BigInt(seqText) : null,
    ts: tsText !== undefined && tsText !== '' ? Number(tsText) : null,
    streamSeq,
  };
}
