/**
 * One partition's consumer: a durable pull consumer on `kv.events.<N>.>` with one message in
 * flight (max_ack_pending 1), so each pod's batches reach the index in stream order. A message is
 * acknowledged only after the index holds it; an early batch (its predecessor not in yet) is
 * NAKed with a delay and, after `maxEarlyDeliveries`, applied as a gap (the pod is cleared first).
 * Losing the lease (a fenced write) stops the worker without acknowledging.
 */
import { AckPolicy, DeliverPolicy, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { partitionFilter } from '@kvr/contracts';
import { fromHeaders } from '@kvr/jetstream';
import type { BlockIndex } from '@kvr/kv-index';
import type { Logger } from '@kvr/telemetry';
import type { Lease } from './leases';
import { parseStreamMessage } from './messages';
import type { IndexerMetrics } from './metrics';

export interface WorkerSettings {
  readonly stream: string;
  readonly maxEarlyDeliveries: number;
  readonly earlyRedeliveryMs: number;
}

export function consumerName(partition: number): string {
  return `kvr-indexer-p${partition}`;
}

export class PartitionWorker {
  private messages: ConsumerMessages | null = null;
  private loop: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly labels: { partition: string };

  constructor(
    readonly lease: Lease,
    private readonly deps: { js: JetStreamClient; jsm: JetStreamManager; index: BlockIndex; metrics: IndexerMetrics; logger: Logger; settings: WorkerSettings; onLost: (partition: number) => void },
  ) {
    this.labels = { partition: String(lease.partition) };
  }

  async start(): Promise<void> {
    const { jsm, js, settings } = this.deps;
    const name = consumerName(this.lease.partition);
    try {
      await jsm.consumers.info(settings.stream, name);
    } catch {
      await jsm.consumers.add(settings.stream, {
        durable_name: name,
        filter_subject: partitionFilter(this.lease.partition),
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        max_ack_pending: 1,
        // A killed replica's in-flight message goes to the next owner after this long.
        ack_wait: 5_000_000_000,
      });
    }
    const consumer = await js.consumers.get(settings.stream, name);
    this.messages = await consumer.consume({ max_messages: 64 });
    this.loop = this.run(this.messages);
    this.deps.logger.info({ partition: this.lease.partition, fence: this.lease.fence }, 'consuming partition');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.messages?.close();
    await this.loop;
  }

  /**
   * The index lost everything (Redis restarted empty): delete this partition's durable consumer
   * and start a new one at the beginning of the stream, so every batch the stream still holds is
   * applied again (positions are gone too, so nothing is skipped as a duplicate).
   */
  async replayFromStart(): Promise<void> {
    await this.stop();
    try {
      await this.deps.jsm.consumers.delete(this.deps.settings.stream, consumerName(this.lease.partition));
    } catch {
      // no consumer yet: the new one starts at the beginning anyway
    }
    this.stopped = false;
    await this.start();
  }

  private async run(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const m of messages) {
        if (this.stopped) break;
        await this.handle(m);
      }
    } catch (err) {
      if (!this.stopped) this.deps.logger.error({ err, partition: this.lease.partition }, 'partition consumer failed');
    }
  }

  private async handle(m: JsMsg): Promise<void> {
    const { index, metrics, logger, settings } = this.deps;
    const parsed = parseStreamMessage(m.subject, fromHeaders(m.headers), m.data);
    if (!parsed.ok) {
      // The collector validated it; a message the index cannot read is a contract break: keep it
      // out of the way (terminated, not redelivered), loudly.
      metrics.messages.inc({ ...this.labels, kind: parsed.kind, outcome: 'invalid' });
      logger.error({ subject: m.subject, streamSeq: m.seq, reason: parsed.reason }, 'unreadable stream message terminated');
      m.term();
      return;
    }
    if (!parsed.message) {
      m.ack();
      return;
    }
    const acceptGap = m.info.deliveryCount >= settings.maxEarlyDeliveries;
    const started = performance.now();
    let result;
    try {
      result = await index.apply(parsed.message, { fence: this.lease.fence, acceptGap });
    } catch (err) {
      logger.warn({ err, partition: this.lease.partition, streamSeq: m.seq }, 'index write failed; the message will be redelivered');
      m.nak(1_000);
      return;
    }
    metrics.applySeconds.observe((performance.now() - started) / 1000);
    metrics.messages.inc({ ...this.labels, kind: parsed.kind, outcome: result.outcome });
    metrics.lag.set(this.labels, m.info.pending);
    switch (result.outcome) {
      case 'applied':
        if (acceptGap && parsed.message.kind === 'batch') {
          metrics.acceptedGaps.inc();
          logger.warn({ pod: parsed.message.pod, seq: parsed.message.seq.toString() }, 'batch applied after a gap: pod cleared first');
        }
        metrics.admissions.inc(result.admitted);
        metrics.evictions.inc(result.evicted);
        if (result.unknownParents > 0) metrics.unknownParents.inc(result.unknownParents);
        if (result.blockSizeMismatches > 0) {
          metrics.blockSizeMismatches.inc(result.blockSizeMismatches);
          logger.warn({ pod: parsed.message.pod, count: result.blockSizeMismatches }, 'events with another block size than configured: request keys will not match');
        }
        m.ack();
        return;
      case 'duplicate':
        m.ack();
        return;
      case 'early':
        m.nak(settings.earlyRedeliveryMs);
        return;
      case 'fenced':
        logger.warn({ partition: this.lease.partition, fence: this.lease.fence }, 'write fenced: the lease moved to another replica; stopping this partition');
        this.stopped = true;
        this.deps.onLost(this.lease.partition);
        return;
    }
  }
}
