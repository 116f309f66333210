/**
 * Where a pod's ingest hands its messages: the seam between the per-pod ordering logic and the
 * bus. Two implementations: `JetStreamSink` (the product: NATS JetStream, shared epochs in a KV
 * bucket, resume points from the stream) and `InProcessBus` (one process, nothing shared: the
 * standalone stack for machines without nats-server).
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import { lastStoredPosition, type EpochStore, type OrderedPublisher, type StoredPosition } from '@kvr/jetstream';

export interface IngestMessage {
  readonly subject: string;
  /** The pod's payload bytes, unchanged (empty for control messages). */
  readonly data: Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
  /** Idempotency key: a second message with the same id within the duplicate window is dropped. */
  readonly msgId: string;
  /** Called once the bus holds the message (`duplicate`: it already held one with this id). */
  readonly onAck?: (ack: { readonly duplicate: boolean }) => void;
}

export interface IngestSink {
  /** Hands a message on, in offer order. False (nothing taken) when the buffer is full, unless `force`. */
  offer(message: IngestMessage, options?: { force?: boolean }): boolean;
  /** Share of the buffer in use, 0–1 (may exceed 1 after forced offers). */
  readonly fill: number;
  readonly bufferedBytes: number;
  /** Messages offered and not yet held by the bus. */
  readonly unacked: number;
  /** The pod's engine epoch (0 for a pod never seen). */
  currentEpoch(pod: string): Promise<number>;
  /** Moves the pod to a new epoch after `seenEpoch` (one restart moves it once, whoever reports it). */
  bumpEpoch(pod: string, seenEpoch: number): Promise<number>;
  /** What the bus last holds on `subject`: where a restarted ingest resumes. */
  lastStored(subject: string): Promise<StoredPosition | null>;
  /** Resolves when every message offered so far is held by the bus. */
  flush(): Promise<void>;
  close(): void;
}

/** The product's sink: ordered pipelined JetStream publishing, epochs in a NATS KV bucket. */
export class JetStreamSink implements IngestSink {
  constructor(
    private readonly publisher: OrderedPublisher,
    private readonly epochs: EpochStore,
    private readonly jsm: JetStreamManager,
    private readonly stream: string,
  ) {}

  offer(message: IngestMessage, options?: { force?: boolean }): boolean {
    return this.publisher.offer(message, options);
  }

  get fill(): number {
    return this.publisher.fill;
  }

  get bufferedBytes(): number {
    return this.publisher.bufferedBytes;
  }

  get unacked(): number {
    return this.publisher.unacked;
  }

  currentEpoch(pod: string): Promise<number> {
    return this.epochs.current(pod);
  }

  bumpEpoch(pod: string, seenEpoch: number): Promise<number> {
    return this.epochs.bump(pod, seenEpoch);
  }

  lastStored(subject: string): Promise<StoredPosition | null> {
    return lastStoredPosition(this.jsm, this.stream, subject);
  }

  flush(): Promise<void> {
    return this.publisher.flush();
  }

  close(): void {
    this.publisher.close();
  }
}
