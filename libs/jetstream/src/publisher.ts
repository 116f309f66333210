/**
 * Ordered, pipelined JetStream publishing with a bounded buffer.
 *
 * Messages go out in the order they were offered, with up to `maxPendingAcks` awaiting their
 * PubAck at once (one by one would cap throughput at one round trip per batch). The buffer holds
 * every message from the oldest unacknowledged one on, bounded by `maxBufferBytes`: when it is
 * full, `offer` returns false and the caller counts a drop (for the collector, a drop is a gap
 * that replay from the pod, or a reset, repairs).
 *
 * When a publish fails (NATS down, timeout, no stream), sending stops; once everything in flight
 * has settled, every unacknowledged message is sent again, in order, from the oldest, after a
 * back-off, until it is acknowledged. Messages carry `Nats-Msg-Id`, so a re-sent message that had
 * in fact been stored is dropped by JetStream as a duplicate (within the stream's duplicate window).
 *
 * Publishing is JetStream's protocol spoken directly: a core publish with `Nats-Msg-Id` and a reply
 * subject under one inbox subscription of the publisher, the PubAck (or error) arriving there,
 * and one sweep timer for deadlines. nats.js's `js.publish` does the same per message through a
 * request with its own timer, promise and (on every ack) a cancellation error object: about a
 * third of the collector's CPU per batch (measured, docs/benchmarks.md).
 *
 * The one order JetStream cannot promise: if message k was lost with a dying connection while a
 * later k+1 still reached the server, the retry stores k after k+1. The publisher reports such a
 * window as `possibleReorder` (counted); consumers must treat a sequence gap as loss (the indexer
 * clears the pod), so a reorder can cost cache hits but never index a block the pod does not hold.
 */
import type { PubAck } from '@nats-io/jetstream';
import { createInbox, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { encodedHeaders } from './headers';

export interface OutboundMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
  readonly msgId: string;
  /** Called once, when JetStream acknowledged the message (stored or duplicate). */
  readonly onAck?: (ack: PubAck) => void;
}

export interface PublisherHooks {
  onPublished?(message: OutboundMessage, ack: PubAck, latencyMs: number): void;
  onRetry?(error: unknown, unacked: number): void;
  onPossibleReorder?(subjects: readonly string[]): void;
}

export interface OrderedPublisherOptions {
  /** The connection to publish on (JetStream enabled on the server). */
  readonly nc: NatsConnection;
  /** @default 256 */
  readonly maxPendingAcks?: number;
  /** @default 64 MiB */
  readonly maxBufferBytes?: number;
  /** PubAck deadline per message. @default 5000 */
  readonly ackTimeoutMs?: number;
  readonly hooks?: PublisherHooks;
}

interface Slot {
  readonly message: OutboundMessage;
  readonly bytes: number;
  /** The message's header block with its Nats-Msg-Id, encoded on first send. */
  headers?: MsgHdrs;
  acked: boolean;
  failed: boolean;
  sentAt: number;
}

/** A JetStream publish answer: a PubAck, or `{error: {code, err_code, description}}`. */
interface PubAckReply {
  readonly stream?: string;
  readonly seq?: number;
  readonly duplicate?: boolean;
  readonly domain?: string;
  readonly error?: { readonly code?: number; readonly description?: string };
}

const decoder = new TextDecoder();

/** The PubAck in a reply, or the error it stands for. */
function readPubAck(msg: Msg): PubAck | Error {
  // A status message: 503 no responders (no stream listens on the subject), timeouts, …
  if (msg.headers?.hasError) return new Error(`JetStream publish failed: ${msg.headers.code} ${msg.headers.description || 'no responders (no stream for the subject?)'}`);
  let reply: PubAckReply;
  try {
    reply = JSON.parse(decoder.decode(msg.data)) as PubAckReply;
  } catch {
    return new Error('JetStream publish failed: unreadable PubAck');
  }
  if (reply.error) return new Error(`JetStream publish failed: ${reply.error.code ?? ''} ${reply.error.description ?? ''}`.trim());
  if (!reply.stream || typeof reply.seq !== 'number') return new Error('JetStream publish failed: invalid PubAck');
  return { stream: reply.stream, seq: reply.seq, duplicate: reply.duplicate === true, domain: reply.domain } as PubAck;
}

/** Bytes a message costs in a buffer: payload, subject, id and headers (rough but monotone). */
export function messageBytes(message: Pick<OutboundMessage, 'subject' | 'data' | 'headers' | 'msgId'>): number {
  let size = message.data.byteLength + message.subject.length + message.msgId.length;
  for (const [key, value] of Object.entries(message.headers)) size += key.length + value.length + 4;
  return size;
}

export class OrderedPublisher {
  private readonly slots: Slot[] = [];
  /** Index in `slots` of the oldest unacknowledged message. */
  private head = 0;
  /** Index of the next message to send. */
  private next = 0;
  private inFlight = 0;
  private bytes = 0;
  private retrying = false;
  private pumpScheduled = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private backoffMs = 50;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  private readonly maxPendingAcks: number;
  private readonly maxBufferBytes: number;
  private readonly ackTimeoutMs: number;
  /** Reply subjects are `<inbox>.<n>`; `waiting` maps n to the slot sent under it, in send order. */
  private readonly inbox: string;
  private readonly replies: Subscription;
  private readonly waiting = new Map<number, Slot>();
  private replySeq = 0;
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly options: OrderedPublisherOptions) {
    this.maxPendingAcks = options.maxPendingAcks ?? 256;
    this.maxBufferBytes = options.maxBufferBytes ?? 64 * 1024 * 1024;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 5_000;
    this.inbox = createInbox();
    this.replies = options.nc.subscribe(`${this.inbox}.*`, { callback: (err, msg) => (err ? undefined : this.onReply(msg)) });
    this.sweeper = setInterval(() => this.expire(), Math.max(5, Math.floor(this.ackTimeoutMs / 4)));
    this.sweeper.unref();
  }

  /** Bytes held (sent or not) until acknowledged. */
  get bufferedBytes(): number {
    return this.bytes;
  }

  /** Messages not yet acknowledged. */
  get unacked(): number {
    return this.slots.length - this.head;
  }

  /** Whether the last attempt failed and the publisher is waiting to re-send. */
  get stalled(): boolean {
    return this.retrying;
  }

  /** Share of the byte budget in use, 0–1 (may exceed 1 after forced offers). */
  get fill(): number {
    return this.bytes / this.maxBufferBytes;
  }

  /**
   * Queues a message; false when the buffer is full (nothing queued). `force` ignores the bound:
   * for small control messages (resets, dead letters) that must not be lost.
   */
  offer(message: OutboundMessage, options: { force?: boolean } = {}): boolean {
    if (this.closed) throw new Error('publisher is closed');
    const bytes = messageBytes(message);
    if (!options.force && this.bytes + bytes > this.maxBufferBytes && this.unacked > 0) return false;
    this.slots.push({ message, bytes, acked: false, failed: false, sentAt: 0 });
    this.bytes += bytes;
    this.schedulePump();
    return true;
  }

  /**
   * Offers are sent together once the current turn of the event loop is over: ZMQ hands a burst of
   * messages to the collector as a chain of resolved promises in one turn, and nats.js writes what
   * was published before its own flush (a microtask) in one socket write. Sent one by one, every
   * batch cost a write system call of its own (≈ 9 % of the collector's CPU, docs/benchmarks.md).
   */
  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Resolves when every message offered so far is acknowledged. */
  flush(): Promise<void> {
    if (this.unacked === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops sending; unacknowledged messages are abandoned (the caller flushes first if it wants them). */
  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    clearInterval(this.sweeper);
    this.waiting.clear();
    if (!this.options.nc.isClosed()) this.replies.unsubscribe();
  }

  private pump(): void {
    while (!this.retrying && !this.closed && this.inFlight < this.maxPendingAcks && this.next < this.slots.length) {
      const slot = this.slots[this.next++] as Slot;
      if (slot.acked) continue; // acknowledged before a retry rewound `next`
      this.send(slot);
    }
  }

  private send(slot: Slot): void {
    this.inFlight++;
    slot.sentAt = performance.now();
    slot.failed = false;
    const { message } = slot;
    const id = ++this.replySeq;
    this.waiting.set(id, slot);
    // Encoded once per message: a re-send after a failure reuses the bytes.
    slot.headers ??= encodedHeaders(message.headers, { 'Nats-Msg-Id': message.msgId });
    const headers = slot.headers;
    try {
      // While disconnected, nats.js holds this in its reconnect buffer; the deadline still runs.
      this.options.nc.publish(message.subject, message.data, { headers, reply: `${this.inbox}.${id}` });
    } catch (err) {
      this.waiting.delete(id);
      this.settle(slot, err instanceof Error ? err : new Error(String(err)));
    }
  }

  private onReply(msg: Msg): void {
    const id = Number(msg.subject.slice(this.inbox.length + 1));
    const slot = this.waiting.get(id);
    if (!slot) return; // answered after its deadline: the re-send is dropped by JetStream as a duplicate
    this.waiting.delete(id);
    this.settle(slot, readPubAck(msg));
  }

  /** Fails every send older than the deadline (the map is in send order: stop at the first younger). */
  private expire(): void {
    const cutoff = performance.now() - this.ackTimeoutMs;
    for (const [id, slot] of this.waiting) {
      if (slot.sentAt > cutoff) break;
      this.waiting.delete(id);
      this.settle(slot, new Error(`JetStream publish timed out after ${this.ackTimeoutMs} ms`));
    }
  }

  private settle(slot: Slot, outcome: PubAck | Error): void {
    this.inFlight--;
    if (outcome instanceof Error) this.failed(slot, outcome);
    else this.acknowledged(slot, outcome);
    if (this.retrying && this.inFlight === 0) this.scheduleRetry();
    this.pump();
  }

  private acknowledged(slot: Slot, ack: PubAck): void {
    if (slot.acked) return;
    slot.acked = true;
    this.backoffMs = 50;
    this.options.hooks?.onPublished?.(slot.message, ack, performance.now() - slot.sentAt);
    slot.message.onAck?.(ack);
    while (this.head < this.slots.length && (this.slots[this.head] as Slot).acked) {
      this.bytes -= (this.slots[this.head] as Slot).bytes;
      this.head++;
    }
    if (this.head > 4096 && this.head * 2 > this.slots.length) {
      this.slots.splice(0, this.head);
      this.next -= this.head;
      this.head = 0;
    }
    if (this.unacked === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private failed(slot: Slot, err: unknown): void {
    slot.failed = true;
    if (!this.retrying) {
      this.retrying = true;
      this.options.hooks?.onRetry?.(err, this.unacked);
    }
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.closed) return;
    // Later messages acknowledged while an earlier one failed may now sit before it in the stream.
    const firstFailed = this.slots.findIndex((s, i) => i >= this.head && s.failed);
    const overtaken = this.slots.slice(firstFailed + 1, this.next).filter((s) => s.acked).map((s) => s.message.subject);
    if (firstFailed >= 0 && overtaken.length > 0) this.options.hooks?.onPossibleReorder?.([...new Set(overtaken)]);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.retrying = false;
      this.next = this.head;
      this.backoffMs = Math.min(this.backoffMs * 2, 2_000);
      this.pump();
    }, this.backoffMs);
  }
}
