/**
 * One partition's consumer: a durable pull consumer on `kv.events.<N>.>` with one message in
 * flight (max_ack_pending 1), so each pod's batches reach the index in stream order. A message is
 * acknowledged only after the index holds it; an early batch (its predecessor not in yet) is
 * NAKed with a delay and, after `maxEarlyDeliveries`, applied as a gap (the pod is cleared first).
 * Losing the lease (a fenced write) stops the worker without acknowledging.
 *
 * Snapshots and rebuilds (see `snapshot()` and `rebuild()`) take turns with each other through
 * one queue per worker; consumption goes on during a snapshot (it reads a consistent state per
 * pod and covers only what the ack floor says is in).
 */
import { AckPolicy, DeliverPolicy, type ConsumerConfig, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { indexerConsumerName, partitionFilter, partitionForPod, type PartitionRebuildReport } from '@kvr/contracts';
import { fromHeaders, isNotFound, type SnapshotInfo, type SnapshotStore } from '@kvr/jetstream';
import type { BlockIndex, IndexSnapshot, PodMessage, PodState } from '@kvr/kv-index';
import type { Logger } from '@kvr/telemetry';
import type { Lease } from './leases';
import { recordApplied } from './applied';
import { parseStreamMessage } from './messages';
import type { IndexerMetrics } from './metrics';

export interface WorkerSettings {
  readonly stream: string;
  readonly maxEarlyDeliveries: number;
  readonly earlyRedeliveryMs: number;
  /** Partition count, block size and hash seed: a snapshot taken under other values is not restored. */
  readonly partitions: number;
  readonly blockSize: number;
  readonly hashSeed: string;
}

export interface WorkerDeps {
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly index: BlockIndex;
  readonly snapshots: SnapshotStore;
  readonly metrics: IndexerMetrics;
  readonly logger: Logger;
  readonly settings: WorkerSettings;
  readonly onLost: (partition: number) => void;
  /** The generation this replica believes the index has (set when it notices a loss). */
  readonly generation: () => string | null;
  /** The generation key in Redis now (null when missing: the index was lost). */
  readonly redisGeneration: () => Promise<string | null>;
}

/** Why a partition is rebuilt: Redis lost the index, or an operator asked (`kvctl reindex`). */
export type RebuildTrigger = 'index_lost' | 'operator';

export class PartitionWorker {
  private messages: ConsumerMessages | null = null;
  private loop: Promise<void> = Promise.resolve();
  /** Consumption paused (a rebuild in progress) or ended. */
  private stopped = false;
  /** Ended for good (lease lost or given back): nothing restarts the consumer. */
  private closed = false;
  /** Snapshots and rebuilds of this partition, one at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Stream sequence of the newest snapshot stored for this partition (0: none). */
  private snapshotSeq = 0;
  /**
   * The index generation this partition's state in Redis belongs to: null until rebuilt after
   * a loss. A snapshot is taken only while Redis still has that generation, so a wiped or
   * half-rebuilt index never replaces a good snapshot.
   */
  private builtFor: string | null;
  /**
   * Pods of this partition the index holds by this worker's own writes: added when one of their
   * messages applies (or is a duplicate of what the index holds), removed when a `removed`
   * message or a rebuild forgets them. A pod in this set that Redis no longer lists lost its
   * state behind the indexer's back (keys deleted or evicted, generation kept): a snapshot then
   * would store the damage over a good snapshot, so it is skipped until a rebuild repairs it.
   */
  private readonly resident = new Set<string>();
  /** The damage was logged (once, until a snapshot succeeds again; the metric counts every round). */
  private damageLogged = false;
  private readonly labels: { partition: string };

  /** `rebuildDue`: the index was lost and `rebuild()` follows: no snapshot before it. */
  constructor(
    readonly lease: Lease,
    private readonly deps: WorkerDeps,
    rebuildDue = false,
  ) {
    this.labels = { partition: String(lease.partition) };
    this.builtFor = rebuildDue ? null : deps.generation();
  }

  get partition(): number {
    return this.lease.partition;
  }

  /** True when the pod's events go to this partition (the index holds every partition's pods). */
  private owns(pod: string): boolean {
    return partitionForPod(pod, this.deps.settings.partitions) === this.partition;
  }

  /** Starts consuming where the durable consumer stands (created at the stream's start when missing). */
  async start(): Promise<void> {
    const stored = await this.deps.snapshots.info(this.partition).catch(() => null);
    this.snapshotSeq = stored?.streamSeq ?? 0;
    await this.consume(null);
  }

  /** `from`: recreate the durable consumer to deliver from this stream sequence (null: keep it). */
  private async consume(from: number | null): Promise<void> {
    if (this.closed) return;
    const { jsm, js, settings } = this.deps;
    const name = indexerConsumerName(this.partition);
    const config: Partial<ConsumerConfig> = {
      durable_name: name,
      filter_subject: partitionFilter(this.partition),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: from === null || from <= 1 ? DeliverPolicy.All : DeliverPolicy.StartSequence,
      ...(from !== null && from > 1 ? { opt_start_seq: from } : {}),
      max_ack_pending: 1,
      // A killed replica's in-flight message goes to the next owner after this long.
      ack_wait: 5_000_000_000,
    };
    if (from !== null) {
      await jsm.consumers.delete(settings.stream, name).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
      await jsm.consumers.add(settings.stream, config);
    } else {
      try {
        await jsm.consumers.info(settings.stream, name);
      } catch (err) {
        if (!isNotFound(err)) throw err;
        await jsm.consumers.add(settings.stream, config);
      }
    }
    this.stopped = false;
    const consumer = await js.consumers.get(settings.stream, name);
    this.messages = await consumer.consume({ max_messages: 64 });
    this.loop = this.run(this.messages);
    this.deps.logger.info({ partition: this.partition, fence: this.lease.fence, from: from ?? 'ack floor' }, 'consuming partition');
  }

  private async pause(): Promise<void> {
    this.stopped = true;
    await this.messages?.close();
    await this.loop;
    this.messages = null;
  }

  /** Stops for good (lease lost or handed back); a queued snapshot or rebuild finishes first. */
  async stop(): Promise<void> {
    this.closed = true;
    await this.pause();
    await this.queue.catch(() => undefined);
    // A rebuild that was already past its closed check may have restarted consumption.
    await this.pause();
    // Per-partition series belong to the owner: a replica that gave the partition up must not
    // keep reporting its last lag (the indexer autoscaler sums lag over replicas).
    this.deps.metrics.lag.remove(this.labels);
    this.deps.metrics.snapshotStreamSeq.remove(this.labels);
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Stores the partition's state, tagged with the stream sequence it covers: the consumer's ack
   * floor read *before* the state, so everything up to it is in (acks follow writes), and what
   * was applied after it is skipped on replay by the pods' positions. Skipped when nothing was
   * acknowledged since the last snapshot, and when the index is damaged (see `resident`).
   * Returns what was stored, or null.
   */
  snapshot(): Promise<SnapshotInfo | null> {
    return this.exclusive(async () => {
      if (this.closed) return null;
      const { jsm, index, snapshots, settings, metrics } = this.deps;
      const started = performance.now();
      if (!(await this.sameIndex())) return this.skipSnapshot();
      const consumer = await jsm.consumers.info(settings.stream, indexerConsumerName(this.partition));
      const streamSeq = consumer.ack_floor.stream_seq;
      // Checked on every round, changed or not, so the metric keeps alarming until a rebuild.
      // What this worker expects is read before what Redis lists: a pod applied in between is
      // then listed too (its write lands before the set is updated).
      const expected = [...this.resident];
      const listed = await index.pods();
      const present = new Set(listed);
      const missing = expected.filter((pod) => !present.has(pod) && this.resident.has(pod));
      if (missing.length > 0) return this.skipSnapshot('pods_missing', missing);
      if (streamSeq <= this.snapshotSeq) {
        metrics.snapshots.inc({ partition: this.labels.partition, outcome: 'unchanged' });
        return null;
      }
      const pods: PodState[] = [];
      for (const pod of listed) {
        if (!this.owns(pod)) continue;
        const state = await index.exportPod(pod);
        if (state) pods.push(state);
      }
      if (!(await this.sameIndex())) return this.skipSnapshot();
      const info = await snapshots.put({ partition: this.partition, partitions: settings.partitions, streamSeq, takenAt: Date.now(), blockSize: settings.blockSize, hashSeed: settings.hashSeed, pods });
      this.snapshotSeq = streamSeq;
      this.damageLogged = false;
      metrics.snapshots.inc({ partition: this.labels.partition, outcome: 'taken' });
      metrics.snapshotSeconds.observe((performance.now() - started) / 1000);
      metrics.snapshotStreamSeq.set(this.labels, streamSeq);
      return info;
    });
  }

  /** The snapshot rule's view of the index after this worker's own write for `pod`. */
  private track(message: PodMessage): void {
    if (message.kind === 'removed') this.resident.delete(message.pod);
    else this.resident.add(message.pod);
  }

  private async sameIndex(): Promise<boolean> {
    return this.builtFor !== null && (await this.deps.redisGeneration()) === this.builtFor;
  }

  private skipSnapshot(outcome: 'index_lost' | 'pods_missing' = 'index_lost', missing: readonly string[] = []): null {
    this.deps.metrics.snapshots.inc({ partition: this.labels.partition, outcome });
    if (outcome === 'index_lost') this.deps.logger.warn({ partition: this.partition }, 'snapshot skipped: the index in Redis was lost (a rebuild follows)');
    else if (!this.damageLogged) {
      this.damageLogged = true;
      this.deps.logger.error(
        { partition: this.partition, missing: missing.slice(0, 10), missingCount: missing.length },
        'snapshot skipped: Redis lost pods this partition applied (keys deleted or evicted); `kvctl reindex` restores them from the last good snapshot',
      );
    }
    return null;
  }

  /**
   * Rebuilds the partition: pause consumption, restore the newest usable snapshot (each pod
   * replaced atomically, so readers see a pod's old or new state, never half), forget the pods the
   * snapshot does not know, then replay the stream from the snapshot's sequence + 1 (from the
   * start without one). With `model`, only pods whose last batch named it are touched; the replay
   * passes the others' batches as duplicates. Safe while gateways read.
   */
  rebuild(trigger: RebuildTrigger, options: { model?: string } = {}): Promise<PartitionRebuildReport> {
    return this.exclusive(async () => {
      const { jsm, index, snapshots, settings, metrics, logger } = this.deps;
      const report = { partition: this.partition, snapshotSeq: null as number | null, snapshotSkipped: undefined as string | undefined, restoredPods: 0, restoredBlocks: 0, forgottenPods: 0, replayFrom: 1, streamFirstSeq: 0, lostMessages: false };
      if (this.closed) return Object.assign({}, report, { error: 'partition no longer owned by this replica' });
      await this.pause();
      this.builtFor = this.deps.generation();
      let snapshot: IndexSnapshot | null = null;
      try {
        snapshot = await snapshots.get(this.partition);
      } catch (err) {
        report.snapshotSkipped = `unreadable: ${(err as Error).message}`;
      }
      if (snapshot) {
        const mismatch = [
          snapshot.partitions !== settings.partitions ? `partitions ${snapshot.partitions} ≠ ${settings.partitions}` : '',
          snapshot.blockSize !== settings.blockSize ? `block size ${snapshot.blockSize} ≠ ${settings.blockSize}` : '',
          snapshot.hashSeed !== settings.hashSeed ? 'another hash seed' : '',
        ].filter(Boolean);
        if (mismatch.length > 0) {
          report.snapshotSkipped = `taken under ${mismatch.join(', ')}`;
          snapshot = null;
        }
      }
      if (report.snapshotSkipped) logger.warn({ partition: this.partition, reason: report.snapshotSkipped }, 'snapshot not used: rebuilding from the stream alone');

      const wanted = (model: string | null): boolean => options.model === undefined || model === options.model;
      const restored = new Set<string>();
      const fence = this.lease.fence;
      for (const state of snapshot?.pods ?? []) {
        if (!wanted(state.model) || !this.owns(state.pod)) continue;
        if ((await index.replacePod(state, { fence })) === 'fenced') return this.fenced(report);
        restored.add(state.pod);
        this.resident.add(state.pod);
        report.restoredPods++;
        report.restoredBlocks += state.blocks.length;
      }
      for (const pod of await index.pods()) {
        if (restored.has(pod) || !this.owns(pod)) continue;
        if (options.model !== undefined && !wanted((await index.exportPod(pod))?.model ?? null)) continue;
        if ((await index.forgetPod(pod, { fence })) === 'fenced') return this.fenced(report);
        this.resident.delete(pod);
        report.forgottenPods++;
      }
      report.snapshotSeq = snapshot?.streamSeq ?? null;
      report.replayFrom = (snapshot?.streamSeq ?? 0) + 1;
      const stream = await jsm.streams.info(settings.stream, { subjects_filter: partitionFilter(this.partition) });
      report.streamFirstSeq = stream.state.first_seq;
      // Messages before the stream's first sequence are gone. Without a snapshot that covers them,
      // pods that had blocks from then are incomplete: their next batch after the hole clears them
      // (the ordering rule), so the index under-reports rather than keeps a wrong picture. Without
      // any snapshot, whether this partition lost something is only known when it still has pods
      // in the stream (a partition no pod hashes to lost nothing).
      const hasPods = Object.keys(stream.state.subjects ?? {}).length > 0;
      report.lostMessages = report.replayFrom < report.streamFirstSeq && (snapshot !== null || hasPods);
      metrics.rebuilds.inc({ trigger, source: snapshot ? 'snapshot' : 'stream' });
      if (report.lostMessages) {
        metrics.rebuildLostMessages.inc();
        logger.warn({ partition: this.partition, replayFrom: report.replayFrom, streamFirstSeq: report.streamFirstSeq }, 'the stream no longer holds every message after the snapshot: affected pods are cleared at their next batch');
      }
      await this.consume(report.replayFrom);
      logger.info(Object.assign({}, report, { trigger }), 'partition rebuilt');
      return report;
    });
  }

  private fenced(report: PartitionRebuildReport): PartitionRebuildReport {
    this.deps.logger.warn({ partition: this.partition, fence: this.lease.fence }, 'rebuild fenced: the lease moved to another replica');
    this.closed = true;
    this.deps.onLost(this.partition);
    return Object.assign({}, report, { error: 'fenced: the lease moved to another replica' });
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
      metrics.messages.inc({ partition: this.labels.partition, kind: parsed.kind, outcome: 'invalid' });
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
    metrics.messages.inc({ partition: this.labels.partition, kind: parsed.kind, outcome: result.outcome });
    metrics.lag.set(this.labels, m.info.pending);
    switch (result.outcome) {
      case 'applied':
        // After the redelivery limit an early batch is applied as a gap.
        recordApplied(metrics, logger, parsed.message, result, acceptGap);
        this.track(parsed.message);
        m.ack();
        return;
      case 'duplicate':
        this.track(parsed.message);
        m.ack();
        return;
      case 'early':
        m.nak(settings.earlyRedeliveryMs);
        return;
      case 'fenced':
        logger.warn({ partition: this.lease.partition, fence: this.lease.fence }, 'write fenced: the lease moved to another replica; stopping this partition');
        this.stopped = true;
        this.closed = true;
        this.deps.onLost(this.lease.partition);
        return;
    }
  }
}
