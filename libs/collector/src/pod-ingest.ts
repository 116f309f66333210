/**
 * One pod's path from its PUB socket to the bus (JetStream). Messages are handled strictly one at a time
 * (a lane), so replays and epoch bumps happen in order with the live stream: while a gap is being
 * filled, newer live batches wait in the lane, and afterwards the ones already replayed are
 * recognised as duplicates.
 */
import { Subscriber } from 'zeromq';
import { context, propagation, trace, type Span } from '@opentelemetry/api';
import {
  HEADER_DLQ_REASON,
  HEADER_ENGINE_SEQ,
  HEADER_ENGINE_TS,
  HEADER_EPOCH,
  HEADER_KIND,
  HEADER_MODEL,
  HEADER_POD,
  HEADER_RECEIVED_AT,
  HEADER_RESET_REASON,
  deadLetterSubject,
  eventsSubject,
  messageId,
  partitionForPod,
  type MessageKind,
  type ResetReason,
} from '@kvr/contracts';
import type { DiscoveredPod } from '@kvr/discovery';
import { fillGap, PodPosition } from '@kvr/ingest';
import { inspectKvEventMessage, type DecodeError } from '@kvr/kv-events';
import { productTracer, semconv, type Logger } from '@kvr/telemetry';
import { requestReplay, type ReplayedBatch, type ReplayResult } from '@kvr/zmq-events';
import type { CollectorMetrics } from './metrics';
import type { IngestSink } from './sink';

export interface IngestSettings {
  readonly partitions: number;
  readonly topicPrefix: string;
  readonly maxQueuedBatches: number;
  readonly replayIdleTimeoutMs: number;
  readonly replayTimeoutMs: number;
  readonly replayEnabled: boolean;
}

export interface IngestDeps {
  readonly settings: IngestSettings;
  /** The bus: JetStream, or the in-process bus of the standalone stack. */
  readonly sink: IngestSink;
  readonly metrics: CollectorMetrics;
  readonly logger: Logger;
}

/** What waits in a pod's lane: a live message, a batch from a catch-up replay, or the catch-up itself. */
type LaneItem =
  | { readonly kind: 'live'; readonly frames: Buffer[]; readonly receivedAt: number }
  | { readonly kind: 'replayed'; readonly batch: ReplayedBatch; readonly receivedAt: number }
  | { readonly kind: 'catch-up' };

type Received = Extract<LaneItem, { kind: 'live' }>;

/** Above this share of the publish buffer, batches are dropped (and repaired later) rather than replayed into it. */
const BUFFER_HIGH_WATER = 0.9;

/** NATS header values are one line of printable text. */
function headerText(text: string, max = 400): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, max);
}

export class PodIngest {
  private readonly sub = new Subscriber({ linger: 0 });
  private readonly queue: LaneItem[] = [];
  private draining = false;
  private drained: Promise<void> = Promise.resolve();
  private announced: Promise<void> = Promise.resolve();
  private announcedDone = false;
  private loop: Promise<void> = Promise.resolve();
  private stopped = false;
  private position: PodPosition | null = null;
  private subject = '';
  private model = '';
  private deadLetterCount = 0;
  private readonly partition: number;
  /** Per-batch series, bound once: prom-client hashes a label set on every unbound call. */
  private readonly receivedLive: { inc(): void };
  private readonly duplicateLive: { inc(): void };
  private readonly duplicateStream: { inc(): void };
  private readonly publishedBatch: { inc(): void };
  private readonly lag: { set(value: number): void };

  constructor(
    readonly pod: DiscoveredPod,
    private readonly deps: IngestDeps,
  ) {
    this.partition = partitionForPod(pod.id, deps.settings.partitions);
    const metrics = deps.metrics;
    this.receivedLive = metrics.received.labels({ pod: pod.id, source: 'live' });
    this.duplicateLive = metrics.duplicates.labels({ pod: pod.id, where: 'live' });
    this.duplicateStream = metrics.duplicates.labels({ pod: pod.id, where: 'stream' });
    this.publishedBatch = metrics.published.labels({ pod: pod.id, kind: 'batch' });
    this.lag = metrics.podLag.labels({ pod: pod.id });
    this.model = pod.model ?? '';
  }

  start(): void {
    this.sub.connect(this.pod.zmqEndpoint);
    this.sub.subscribe(this.deps.settings.topicPrefix);
    // `added` goes out before any batch of the pod: the lane waits for it.
    this.announced = this.publishControl('added', null).finally(() => (this.announcedDone = true));
    this.announced.catch((err: unknown) => this.deps.logger.warn({ err, pod: this.pod.id }, 'could not announce the pod (added message)'));
    // Catch up first: whatever the pod did before we subscribed (or while this collector was
    // away) is in its replay buffer; without this, a quiet pod's cache would stay unindexed
    // until its next batch revealed the gap.
    this.enqueue({ kind: 'catch-up' });
    this.loop = this.receive();
    this.deps.logger.info({ pod: this.pod.id, zmq: this.pod.zmqEndpoint, replay: this.pod.replayEndpoint, partition: this.partition }, 'subscribed to pod');
  }

  /** Stops receiving and finishes what is queued. `removed`: also tell the indexer the pod is gone. */
  async stop(removed: boolean): Promise<void> {
    this.stopped = true;
    this.sub.close();
    await this.loop;
    await this.drained;
    await this.announced.catch(() => undefined);
    if (removed) await this.publishControl('removed', this.position?.seq ?? null);
  }

  private async receive(): Promise<void> {
    try {
      for await (const frames of this.sub) {
        if (this.queue.length >= this.deps.settings.maxQueuedBatches) {
          // Not lost: the next batch handled shows a gap, repaired by replay or a reset.
          this.deps.metrics.dropped.inc({ pod: this.pod.id, reason: 'queue_full' });
          continue;
        }
        this.enqueue({ kind: 'live', frames, receivedAt: Date.now() });
      }
    } catch (err) {
      if (!this.stopped) this.deps.logger.error({ err, pod: this.pod.id }, 'ZMQ receive failed');
    }
  }

  private enqueue(item: LaneItem): void {
    this.queue.push(item);
    if (!this.draining) this.drained = this.drain();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const item = this.queue.shift() as LaneItem;
        try {
          // Most batches are handled synchronously (decode, decide, offer); only first contact,
          // gaps and restarts wait for NATS or the pod.
          const pending = this.handle(item);
          if (pending) await pending;
        } catch (err) {
          // The batch is not published and the position did not move: the next batch shows a gap.
          this.deps.metrics.dropped.inc({ pod: this.pod.id, reason: 'error' });
          this.deps.logger.error({ err, pod: this.pod.id }, 'batch handling failed; it will be repaired as a gap');
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /** Handles one lane item; returns a promise only when it had to wait for something. */
  private handle(item: LaneItem): Promise<void> | undefined {
    if (!this.announcedDone) return this.announced.catch(() => undefined).then(() => this.handle(item));
    if (item.kind === 'catch-up') return this.catchUp();
    if (item.kind === 'replayed') return this.handleBatch(this.model, item.batch.seq, item.batch.batch.ts, item.batch.payload, item.receivedAt);
    // Validated in full (garbage goes to the dead-letter stream), but only ts and counts are kept:
    // the original bytes are what gets published.
    const decoded = inspectKvEventMessage(item.frames);
    if (!decoded.ok) return void this.deadLetter(item, decoded.error);
    const { topic, seq, summary: batch } = decoded.value;
    this.receivedLive.inc();
    return this.handleBatch(topic.model || this.model, seq, batch.ts, item.frames[2] as Buffer, item.receivedAt);
  }

  /**
   * Asks the pod's replay socket for everything after the position (from 0 for a pod never seen)
   * and puts what comes back at the head of the lane, ahead of live batches, where the usual
   * rules handle it (publish, duplicate, gap → replay or reset). Nothing comes back from a pod
   * that never published, or when the socket does not answer: then the first live batch finds
   * any gap, as before. Needs the pod's model (from discovery) to know its subject.
   */
  private async catchUp(): Promise<void> {
    const endpoint = this.replayEndpoint();
    if (!endpoint || !this.model) return;
    const position = await this.ensurePosition(this.model);
    const from = position.seq === null ? 0n : position.seq + 1n;
    const result = await this.replay(endpoint, from);
    const receivedAt = Date.now();
    this.queue.unshift(...result.batches.map((batch): LaneItem => ({ kind: 'replayed', batch, receivedAt })));
    if (result.batches.length > 0) this.deps.metrics.received.inc({ pod: this.pod.id, source: 'replay' }, result.batches.length);
    this.deps.logger.info({ pod: this.pod.id, from: from.toString(), batches: result.batches.length, error: result.error }, 'caught up from the replay socket');
  }

  private handleBatch(model: string, seq: bigint, ts: number, payload: Buffer, receivedAt: number): Promise<void> | undefined {
    if (this.deps.sink.fill > BUFFER_HIGH_WATER) {
      this.deps.metrics.dropped.inc({ pod: this.pod.id, reason: 'buffer_full' });
      return undefined;
    }
    const position = this.position;
    if (position && model === this.model) {
      const decision = position.decide(seq, ts);
      if (decision.kind === 'publish') return void this.publishBatch(seq, ts, payload, receivedAt);
      if (decision.kind === 'duplicate') return void this.duplicateLive.inc();
    }
    return this.handleSlowly(model, seq, ts, payload, receivedAt);
  }

  private async handleSlowly(model: string, seq: bigint, ts: number, payload: Buffer, receivedAt: number): Promise<void> {
    const position = await this.ensurePosition(model);
    for (;;) {
      const decision = position.decide(seq, ts);
      if (decision.kind === 'publish') return void this.publishBatch(seq, ts, payload, receivedAt);
      if (decision.kind === 'duplicate') return void this.duplicateLive.inc();
      if (decision.kind === 'restart') {
        const epoch = await this.deps.sink.bumpEpoch(this.pod.id, position.epoch);
        this.deps.logger.warn({ pod: this.pod.id, epoch, seq: seq.toString() }, 'engine restart: sequence went back; new epoch, pod reset');
        position.newEpoch(epoch);
        this.publishReset('engine_restart', seq, ts);
        continue;
      }
      // A gap: [from, to] never reached us (collector away, ZMQ drop, first contact with a running pod).
      this.deps.metrics.gaps.inc({ pod: this.pod.id });
      if (!(await this.repairGap(decision.from, decision.to, seq, ts))) return; // deferred: try with a later batch
    }
  }

  /**
   * Fills [from, to] from the pod's replay buffer; when it cannot, publishes a reset so the
   * indexer forgets the pod instead of keeping a wrong picture. False when the repair must wait
   * (the publish buffer filled up mid-replay): the position stays, a later batch retries.
   */
  private async repairGap(from: bigint, to: bigint, currentSeq: bigint, currentTs: number): Promise<boolean> {
    const position = this.position as PodPosition;
    const endpoint = this.replayEndpoint();
    let reason = 'no replay socket';
    if (endpoint) {
      const span = productTracer().startSpan(semconv.SPAN_COLLECTOR_REPLAY, { attributes: { [semconv.ATTR_POD_ID]: this.pod.id, [semconv.ATTR_EVENT_SEQ]: from.toString() } });
      const result = await this.replay(endpoint, from);
      span.end();
      const { fill, complete } = fillGap(from, to, result.batches);
      for (const replayed of fill) {
        this.deps.metrics.received.inc({ pod: this.pod.id, source: 'replay' });
        if (!this.publishBatch(replayed.seq, replayed.batch.ts, replayed.payload, Date.now())) {
          this.deps.metrics.replays.inc({ pod: this.pod.id, outcome: 'deferred' });
          return false;
        }
      }
      if (complete) {
        this.deps.metrics.replays.inc({ pod: this.pod.id, outcome: 'filled' });
        this.deps.logger.info({ pod: this.pod.id, from: from.toString(), to: to.toString() }, 'gap filled by replay');
        return true;
      }
      reason = result.error ?? (fill.length === 0 ? "the pod's replay buffer no longer holds the gap" : `replay stopped at ${(from + BigInt(fill.length)).toString()}`);
      this.deps.metrics.replays.inc({ pod: this.pod.id, outcome: 'unrecoverable' });
    } else {
      this.deps.metrics.replays.inc({ pod: this.pod.id, outcome: 'unavailable' });
    }
    const missingFrom = position.seq === null ? from : position.seq + 1n;
    this.deps.logger.warn({ pod: this.pod.id, from: missingFrom.toString(), to: to.toString(), reason }, 'unrecoverable gap: pod reset');
    this.publishReset('unrecoverable_gap', currentSeq, currentTs);
    position.skipTo(to, currentTs);
    return true;
  }

  /** The pod's replay socket, unless there is none or replay is turned off. */
  private replayEndpoint(): string | null {
    return this.deps.settings.replayEnabled ? this.pod.replayEndpoint : null;
  }

  private replay(endpoint: string, from: bigint): Promise<ReplayResult> {
    return requestReplay(endpoint, from, { idleTimeoutMs: this.deps.settings.replayIdleTimeoutMs, totalTimeoutMs: this.deps.settings.replayTimeoutMs });
  }

  /** The pod's position: epoch from the shared store, last published batch from the stream. */
  private async ensurePosition(model: string): Promise<PodPosition> {
    if (this.position && model === this.model) return this.position;
    if (this.position) {
      // Discovery named one model and the event topic another (or the engine now serves another):
      // the pod's batches move to another subject, and the index records the new name.
      this.deps.logger.warn({ pod: this.pod.id, was: this.model, now: model }, "the pod's events name another model than before; publishing on that model's subject from here on");
    }
    this.model = model;
    this.subject = eventsSubject({ partition: this.partition, model, podId: this.pod.id });
    const epoch = await this.deps.sink.currentEpoch(this.pod.id);
    const stored = await this.deps.sink.lastStored(this.subject);
    let start = { epoch, seq: null as bigint | null, ts: null as number | null };
    if (stored && stored.epoch === epoch) {
      if (stored.kind === 'batch') start = { epoch, seq: stored.seq, ts: stored.ts };
      // A reset was published just before batch `seq` (which may not have made it): resume before it.
      else if (stored.kind === 'reset' && stored.seq !== null && stored.seq > 0n) start = { epoch, seq: stored.seq - 1n, ts: stored.ts };
    } else if (stored && stored.epoch > epoch) {
      this.deps.logger.warn({ pod: this.pod.id, stored: stored.epoch, kv: epoch }, 'the stream holds a newer epoch than the epoch store; using the stream');
      start = { epoch: stored.epoch, seq: stored.kind === 'batch' ? stored.seq : null, ts: stored.kind === 'batch' ? stored.ts : null };
    }
    this.position = new PodPosition(start);
    this.deps.logger.info({ pod: this.pod.id, epoch: start.epoch, resumeAfter: start.seq?.toString() ?? null, subject: this.subject }, 'pod position');
    return this.position;
  }

  private headers(kind: MessageKind, epoch: number, seq: bigint | null, ts: number | null, receivedAt: number): Record<string, string> {
    return {
      [HEADER_KIND]: kind,
      [HEADER_POD]: this.pod.id,
      [HEADER_MODEL]: headerText(this.model),
      [HEADER_EPOCH]: String(epoch),
      [HEADER_ENGINE_SEQ]: seq === null ? '' : seq.toString(),
      [HEADER_ENGINE_TS]: ts === null ? '' : String(ts),
      [HEADER_RECEIVED_AT]: String(receivedAt),
    };
  }

  /** Offers one batch; false (position unchanged) when the buffer is full. */
  private publishBatch(seq: bigint, ts: number, payload: Buffer, receivedAt: number): boolean {
    const position = this.position as PodPosition;
    const epoch = position.epoch;
    const span: Span = productTracer().startSpan(semconv.SPAN_COLLECTOR_PUBLISH, {
      attributes: { [semconv.ATTR_POD_ID]: this.pod.id, [semconv.ATTR_EVENT_SEQ]: seq.toString(), [semconv.ATTR_PARTITION]: this.partition },
    });
    const headers = this.headers('batch', epoch, seq, ts, receivedAt);
    propagation.inject(trace.setSpan(context.active(), span), headers);
    const accepted = this.deps.sink.offer({
      subject: this.subject,
      data: payload,
      headers,
      msgId: messageId('batch', this.pod.id, epoch, seq),
      onAck: (ack) => {
        span.end();
        if (ack.duplicate) this.duplicateStream.inc();
        else this.publishedBatch.inc();
        this.lag.set(Math.max(0, Date.now() / 1000 - ts));
      },
    });
    if (!accepted) {
      span.end();
      this.deps.metrics.dropped.inc({ pod: this.pod.id, reason: 'buffer_full' });
      return false;
    }
    position.published(seq, ts);
    return true;
  }

  private publishReset(reason: ResetReason, beforeSeq: bigint, ts: number): void {
    const position = this.position as PodPosition;
    this.deps.metrics.resets.inc({ pod: this.pod.id, reason });
    const headers = this.headers('reset', position.epoch, beforeSeq, ts, Date.now());
    headers[HEADER_RESET_REASON] = reason;
    // Same id from every replica that sees the same restart or gap, so JetStream keeps one.
    const id = messageId('reset', this.pod.id, position.epoch, reason === 'engine_restart' ? 0n : beforeSeq);
    this.deps.sink.offer({ subject: this.subject, data: Buffer.alloc(0), headers, msgId: id, onAck: (ack) => void (ack.duplicate || this.deps.metrics.published.inc({ pod: this.pod.id, kind: 'reset' })) }, { force: true });
  }

  /** `added` / `removed` lifecycle messages on the pod's subject. */
  private async publishControl(kind: 'added' | 'removed', lastSeq: bigint | null): Promise<void> {
    const epoch = this.position?.epoch ?? (await this.deps.sink.currentEpoch(this.pod.id));
    const subject = this.subject || eventsSubject({ partition: this.partition, model: this.model, podId: this.pod.id });
    const headers = this.headers(kind, epoch, lastSeq, null, Date.now());
    const id = messageId(kind, this.pod.id, epoch, lastSeq === null ? 0n : lastSeq + 1n);
    this.deps.sink.offer({ subject, data: Buffer.alloc(0), headers, msgId: id, onAck: (ack) => void (ack.duplicate || this.deps.metrics.published.inc({ pod: this.pod.id, kind })) }, { force: true });
  }

  private deadLetter(item: Received, error: DecodeError): void {
    this.deps.metrics.deadLetters.inc({ pod: this.pod.id, reason: error.reason });
    this.deps.logger.warn({ pod: this.pod.id, reason: error.reason, detail: error.message, frames: item.frames.length }, 'undecodable payload dead-lettered');
    const data = item.frames.length === 3 ? (item.frames[2] as Buffer) : Buffer.concat(item.frames);
    this.deps.sink.offer(
      {
        subject: deadLetterSubject(this.pod.id),
        data,
        headers: { [HEADER_POD]: this.pod.id, [HEADER_DLQ_REASON]: error.reason, 'Kvr-Dlq-Detail': headerText(error.message), [HEADER_RECEIVED_AT]: String(item.receivedAt) },
        msgId: `dlq:${this.pod.id}:${item.receivedAt}:${this.deadLetterCount++}`,
      },
      { force: true },
    );
  }
}
