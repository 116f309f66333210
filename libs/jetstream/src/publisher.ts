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
 * The one order JetStream cannot promise: if message k was lost with a dying connection while a
 * later k+1 still reached the server, the retry stores k after k+1. The publisher reports such a
 * window as `possibleReorder` (counted); consumers must treat a sequence gap as loss (the indexer
 * clears the pod), so a reorder can cost cache hits but never index a block the pod does not hold.
 */
import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import { toHeaders } from './headers';

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
  readonly js: JetStreamClient;
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
  acked: boolean;
  failed: boolean;
  sentAt: number;
}

/** Bytes a message costs in the buffer: payload, subject and headers (rough but monotone). */
function sizeOf(message: OutboundMessage): number {
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
  private retryTimer: NodeJS.Timeout | null = null;
  private backoffMs = 50;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  private readonly maxPendingAcks: number;
  private readonly maxBufferBytes: number;
  private readonly ackTimeoutMs: number;

  constructor(private readonly options: OrderedPublisherOptions) {
    this.maxPendingAcks = options.maxPendingAcks ?? 256;
    this.maxBufferBytes = options.maxBufferBytes ?? 64 * 1024 * 1024;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 5_000;
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
    const bytes = sizeOf(message);
    if (!options.force && this.bytes + bytes > this.maxBufferBytes && this.unacked > 0) return false;
    this.slots.push({ message, bytes, acked: false, failed: false, sentAt: 0 });
    this.bytes += bytes;
    this.pump();
    return true;
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
    this.options.js
      .publish(message.subject, message.data, { msgID: message.msgId, headers: toHeaders(message.headers), timeout: this.ackTimeoutMs })
      .then(
        (ack) => this.acknowledged(slot, ack),
        (err: unknown) => this.failed(slot, err),
      )
      .finally(() => {
        this.inFlight--;
        if (this.retrying && this.inFlight === 0) this.scheduleRetry();
        this.pump();
      });
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
