/**
 * A bus inside one process, for the standalone stack (no nats-server on the machine): the
 * collector's pod ingests offer into it and one consumer (the in-memory index) takes every
 * message in offer order. It keeps the JetStream contracts the ingest relies on:
 *
 * - offer order is delivery order, across all pods (so per-pod order holds);
 * - a message id seen within the duplicate window is acknowledged as a duplicate and not delivered;
 * - the bytes waiting for the consumer are bounded: a full buffer refuses unforced offers, which
 *   the ingest counts as drops and repairs as gaps (replay from the pod, else a reset);
 * - `lastStored(subject)` and the epochs answer as the stream and the epoch bucket would, for
 *   the life of the process.
 *
 * What it does not give: durability, replay after a restart, sharing between processes. The
 * standalone stack states this (its ready line and the demo report name the backends).
 */
import { messageBytes, positionFromHeaders, type StoredPosition } from '@kvr/jetstream';
import type { IngestMessage, IngestSink } from './sink';

export interface BusMessage {
  readonly subject: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly data: Uint8Array;
  /** Position in the bus, from 1, as a stream sequence. */
  readonly seq: number;
}

export type BusConsumer = (message: BusMessage) => Promise<void> | void;

export interface InProcessBusOptions {
  /** Bytes waiting for the consumer before unforced offers are refused. @default 64 MiB */
  readonly maxBufferBytes?: number;
  /** Message ids remembered for de-duplication, in ms. @default 120 000 (JetStream's default window) */
  readonly duplicateWindowMs?: number;
  /** Called when the consumer throws (the message counts as consumed). */
  readonly onConsumerError?: (err: unknown, message: BusMessage) => void;
  /** ms clock. @default Date.now */
  readonly now?: () => number;
}

interface Queued extends BusMessage {
  readonly bytes: number;
}

export class InProcessBus implements IngestSink {
  private readonly queue: Queued[] = [];
  private head = 0;
  private queuedBytes = 0;
  private seq = 0;
  /** msgId → when it was stored; insertion order is time order, so pruning walks from the front. */
  private readonly seen = new Map<string, number>();
  private readonly last = new Map<string, StoredPosition>();
  private readonly epochs = new Map<string, number>();
  private consumer: BusConsumer | null = null;
  private draining = false;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  private readonly maxBufferBytes: number;
  private readonly duplicateWindowMs: number;
  private readonly now: () => number;

  constructor(private readonly options: InProcessBusOptions = {}) {
    this.maxBufferBytes = options.maxBufferBytes ?? 64 * 1024 * 1024;
    this.duplicateWindowMs = options.duplicateWindowMs ?? 120_000;
    this.now = options.now ?? Date.now;
  }

  /** Messages stored so far (the last sequence). */
  get lastSeq(): number {
    return this.seq;
  }

  /** Messages waiting for the consumer. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  get fill(): number {
    return this.queuedBytes / this.maxBufferBytes;
  }

  get bufferedBytes(): number {
    return this.queuedBytes;
  }

  /** Held as soon as offered: nothing is ever waiting for an acknowledgement. */
  get unacked(): number {
    return 0;
  }

  offer(message: IngestMessage, options: { force?: boolean } = {}): boolean {
    if (this.closed) return false;
    const now = this.now();
    this.forgetIdsBefore(now - this.duplicateWindowMs);
    if (this.seen.has(message.msgId)) {
      message.onAck?.({ duplicate: true });
      return true;
    }
    const bytes = messageBytes(message);
    if (!options.force && this.queuedBytes + bytes > this.maxBufferBytes) return false;
    this.seen.set(message.msgId, now);
    const seq = ++this.seq;
    this.last.set(message.subject, positionFromHeaders(message.headers, seq));
    this.queue.push({ subject: message.subject, headers: message.headers, data: message.data, seq, bytes });
    this.queuedBytes += bytes;
    message.onAck?.({ duplicate: false });
    this.kick();
    return true;
  }

  /** Sets the one consumer; it gets every message, one at a time (the next after its promise settles). */
  consume(consumer: BusConsumer): void {
    if (this.consumer) throw new Error('the in-process bus has one consumer');
    this.consumer = consumer;
    this.kick();
  }

  async currentEpoch(pod: string): Promise<number> {
    return this.epochs.get(pod) ?? 0;
  }

  async bumpEpoch(pod: string, seenEpoch: number): Promise<number> {
    const current = this.epochs.get(pod) ?? 0;
    // As the shared store's compare-and-set: a second report of the same restart does not move it again.
    const next = current > seenEpoch ? current : seenEpoch + 1;
    this.epochs.set(pod, next);
    return next;
  }

  async lastStored(subject: string): Promise<StoredPosition | null> {
    return this.last.get(subject) ?? null;
  }

  /** Held on offer: nothing to wait for (see `drained` for the consumer). */
  async flush(): Promise<void> {
    return undefined;
  }

  /** Resolves when the consumer has taken every message offered so far. */
  drained(): Promise<void> {
    if (this.pending === 0 && !this.draining) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Refuses further offers; what is queued is still delivered. */
  close(): void {
    this.closed = true;
  }

  private forgetIdsBefore(cutoff: number): void {
    for (const [id, storedAt] of this.seen) {
      if (storedAt >= cutoff) break;
      this.seen.delete(id);
    }
  }

  private kick(): void {
    if (this.draining || !this.consumer || this.pending === 0) return;
    this.draining = true;
    void this.drain(this.consumer);
  }

  private async drain(consumer: BusConsumer): Promise<void> {
    try {
      while (this.head < this.queue.length) {
        const item = this.queue[this.head] as Queued;
        this.queue[this.head] = undefined as unknown as Queued;
        this.head++;
        this.queuedBytes -= item.bytes;
        if (this.head > 1024 && this.head * 2 > this.queue.length) {
          this.queue.splice(0, this.head);
          this.head = 0;
        }
        try {
          await consumer(item);
        } catch (err) {
          this.options.onConsumerError?.(err, item);
        }
      }
    } finally {
      this.draining = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }
}
