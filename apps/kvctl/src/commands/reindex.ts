import { jetstreamManager } from '@nats-io/jetstream';
import { connect as connectNats, createInbox, type NatsConnection } from '@nats-io/transport-node';
import { EVENTS_STREAM, indexerConsumerName, reindexSubject, type PartitionRebuildReport, type ReindexReply } from '@kvr/contracts';
import { redactUrlPassword } from '@kvr/config';
import { DEFAULT_SNAPSHOT_BUCKET, SnapshotStore } from '@kvr/jetstream';
import { UsageError, type CommandSpec, type ParsedCommand } from '@kvr/runtime';
import { ADDRESS_OPTIONS, resolveAddresses } from '../addresses';
import type { CommandIo } from '../io';

export const reindexSpec: CommandSpec = {
  name: 'kvctl reindex',
  summary: 'Rebuilds the block index: every indexer restores its partitions\' newest snapshot and replays the stream after it.',
  options: {
    config: ADDRESS_OPTIONS['config']!,
    nats: ADDRESS_OPTIONS['nats']!,
    model: { type: 'string', description: 'Only pods serving this model (the others keep their entries)', placeholder: 'M' },
    stream: { type: 'string', description: `Events stream the indexers consume (default ${EVENTS_STREAM})`, placeholder: 'NAME' },
    timeout: { type: 'string', description: 'Seconds to wait for every partition to be rebuilt and caught up (default 120)', placeholder: 'S' },
    'no-wait': { type: 'boolean', description: 'Return once the replays started, without waiting for them to catch up' },
    json: { type: 'boolean', description: 'One JSON object' },
  },
  details: [
    'Safe while gateways read: each pod is replaced atomically; lookups see its old or its restored state.',
    'Exit 0 when every partition was rebuilt (and, unless --no-wait, replayed to the end of the stream);',
    '1 when a partition is not owned by any indexer, an indexer reported an error, or the wait timed out.',
  ].join('\n'),
};

export const snapshotsSpec: CommandSpec = {
  name: 'kvctl snapshots',
  summary: 'Lists the stored index snapshots: per partition, the stream sequence covered, age, pods and size.',
  options: {
    config: ADDRESS_OPTIONS['config']!,
    nats: ADDRESS_OPTIONS['nats']!,
    bucket: { type: 'string', description: `Object Store bucket (default ${DEFAULT_SNAPSHOT_BUCKET}, as the indexers' snapshotBucket)`, placeholder: 'NAME' },
    json: { type: 'boolean', description: 'One JSON object per line' },
  },
};

function positiveSeconds(value: unknown, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${flag} must be a positive number of seconds, got "${String(value)}"`);
  return n;
}

/** Sends one request and gathers the answers until they cover every partition or time runs out. */
async function gatherReplies(nc: NatsConnection, subject: string, body: string, deadline: number): Promise<{ replies: ReindexReply[]; noResponders: boolean }> {
  const inbox = createInbox();
  const replies: ReindexReply[] = [];
  let noResponders = false;
  const sub = nc.subscribe(inbox);
  const timer = setTimeout(() => sub.unsubscribe(), Math.max(0, deadline - Date.now()));
  nc.publish(subject, body, { reply: inbox });
  try {
    for await (const msg of sub) {
      // The server answers "no responders" (503, no body) when nothing subscribes to the subject.
      if (msg.data.length === 0 && msg.headers?.code === 503) {
        noResponders = true;
        break;
      }
      replies.push(JSON.parse(new TextDecoder().decode(msg.data)) as ReindexReply);
      const total = replies[0]?.partitions ?? 0;
      const covered = new Set(replies.flatMap((r) => r.rebuilt.filter((p) => !p.error).map((p) => p.partition)));
      if (total > 0 && covered.size >= total) break;
    }
  } finally {
    clearTimeout(timer);
    sub.unsubscribe();
  }
  return { replies, noResponders };
}

export async function runReindex(parsed: ParsedCommand, io: CommandIo): Promise<number> {
  const addresses = resolveAddresses(parsed.values, io);
  const stream = typeof parsed.values['stream'] === 'string' ? parsed.values['stream'] : EVENTS_STREAM;
  const model = typeof parsed.values['model'] === 'string' ? parsed.values['model'] : undefined;
  const timeoutSeconds = positiveSeconds(parsed.values['timeout'], 120, 'timeout');
  const started = Date.now();
  const deadline = started + timeoutSeconds * 1000;
  const nc = await connectNats({ servers: addresses.nats.split(','), reconnect: false, timeout: 3_000, name: 'kvctl-reindex' });
  try {
    const subject = reindexSubject(stream);
    const { replies, noResponders } = await gatherReplies(nc, subject, JSON.stringify(model === undefined ? {} : { model }), deadline);
    if (noResponders) throw new Error(`no indexer listens on ${subject} at ${redactUrlPassword(addresses.nats)} (is one running for stream ${stream}?)`);
    if (replies.length === 0) throw new Error(`no indexer answered on ${subject} at ${redactUrlPassword(addresses.nats)} within ${timeoutSeconds} s (is one running for stream ${stream}?)`);
    const partitions = replies[0]!.partitions;
    const reports = new Map<number, PartitionRebuildReport & { instance: string }>();
    const problems: string[] = [];
    for (const reply of replies) {
      if (reply.error) problems.push(`${reply.instance}: ${reply.error}`);
      for (const report of reply.rebuilt) {
        if (report.error) problems.push(`partition ${report.partition} (${reply.instance}): ${report.error}`);
        else reports.set(report.partition, { ...report, instance: reply.instance });
      }
    }
    for (let p = 0; p < partitions; p++) if (!reports.has(p)) problems.push(`partition ${p}: no indexer rebuilt it (unowned, or its owner did not answer in time)`);

    let caughtUp: boolean | null = null;
    if (problems.length === 0 && parsed.values['no-wait'] !== true) caughtUp = await waitCaughtUp(nc, stream, partitions, deadline);
    if (caughtUp === false) problems.push(`the replays did not reach the end of the stream within ${timeoutSeconds} s`);

    const rows = [...reports.values()].sort((a, b) => a.partition - b.partition);
    const seconds = (Date.now() - started) / 1000;
    if (parsed.values['json'] === true) {
      io.stdout.write(`${JSON.stringify({ stream, model: model ?? null, partitions: rows, caughtUp, seconds, problems })}\n`);
    } else {
      const lines = [
        ['partition', 'indexer', 'snapshot seq', 'pods restored', 'blocks', 'pods forgotten', 'replay from', 'stream first', 'note'].join('\t'),
        ...rows.map((r) =>
          [r.partition, r.instance, r.snapshotSeq ?? '-', r.restoredPods, r.restoredBlocks, r.forgottenPods, r.replayFrom, r.streamFirstSeq, r.lostMessages ? 'trimmed messages not covered: affected pods are cleared at their next batch' : (r.snapshotSkipped ?? '')].join('\t'),
        ),
        '',
        problems.length === 0 ? `reindexed ${rows.length} partitions${model ? ` (model ${model})` : ''}${caughtUp ? ', replayed to the end of the stream' : ''} in ${seconds.toFixed(1)} s` : `reindex incomplete:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      ];
      io.stdout.write(`${lines.join('\n')}\n`);
    }
    return problems.length === 0 ? 0 : 1;
  } finally {
    await nc.close();
  }
}

/** Polls the partition consumers until none has pending or unacknowledged messages. */
async function waitCaughtUp(nc: NatsConnection, stream: string, partitions: number, deadline: number): Promise<boolean> {
  const jsm = await jetstreamManager(nc);
  for (let delayMs = 50; Date.now() < deadline; delayMs = Math.min(delayMs * 2, 1_000)) {
    let behind = 0;
    for (let p = 0; p < partitions; p++) {
      const info = await jsm.consumers.info(stream, indexerConsumerName(p));
      behind += info.num_pending + info.num_ack_pending;
    }
    if (behind === 0) return true;
    await new Promise((resolve) => setTimeout(resolve, delayMs)); // polling interval, bounded by the deadline
  }
  return false;
}

export async function runSnapshots(parsed: ParsedCommand, io: CommandIo): Promise<number> {
  const addresses = resolveAddresses(parsed.values, io);
  const bucket = typeof parsed.values['bucket'] === 'string' ? parsed.values['bucket'] : DEFAULT_SNAPSHOT_BUCKET;
  const nc = await connectNats({ servers: addresses.nats.split(','), reconnect: false, timeout: 3_000, name: 'kvctl-snapshots' });
  try {
    const list = await (await SnapshotStore.open(nc, { bucket })).list();
    if (parsed.values['json'] === true) {
      for (const info of list) io.stdout.write(`${JSON.stringify(info)}\n`);
      return 0;
    }
    if (list.length === 0) {
      io.stdout.write(`no snapshots in bucket ${bucket} (indexers take them every snapshotIntervalSeconds)\n`);
      return 0;
    }
    const lines = [
      ['partition', 'stream seq', 'age', 'pods', 'blocks', 'bytes', 'block size'].join('\t'),
      ...list.map((i) => [i.partition, i.streamSeq, `${Math.max(0, (Date.now() - i.takenAt) / 1000).toFixed(1)} s`, i.pods, i.blocks, i.bytes, i.blockSize].join('\t')),
    ];
    io.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } finally {
    await nc.close();
  }
}
