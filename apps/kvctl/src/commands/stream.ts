import { jetstreamManager } from '@nats-io/jetstream';
import { connect as connectNats } from '@nats-io/transport-node';
import { DEAD_LETTER_STREAM, EVENTS_STREAM, parseEventsSubject } from '@kvr/contracts';
import { redactUrlPassword } from '@kvr/config';
import { isNotFound, lastStoredPosition } from '@kvr/jetstream';
import { UsageError, type CommandSpec, type ParsedCommand } from '@kvr/runtime';
import { ADDRESS_OPTIONS, resolveAddresses } from '../addresses';
import type { CommandIo } from '../io';

export const streamSpec: CommandSpec = {
  name: 'kvctl stream',
  summary: 'Shows the KV_EVENTS stream: its state, and per pod the last message the collectors published.',
  positionals: [{ name: 'info', description: 'The subcommand (only "info" so far)' }],
  options: {
    config: ADDRESS_OPTIONS['config']!,
    nats: ADDRESS_OPTIONS['nats']!,
    stream: { type: 'string', description: `Stream name (default ${EVENTS_STREAM})`, placeholder: 'NAME' },
    json: { type: 'boolean', description: 'One JSON object (sequences as decimal strings)' },
  },
  details: 'Per pod: partition, model, epoch, last engine sequence, its kind (batch/reset/added/removed) and age.',
};

export interface PodStreamRow {
  pod: string;
  model: string;
  partition: number;
  messages: number;
  kind: string;
  epoch: number;
  seq: string | null;
  engineTs: number | null;
  streamSeq: number;
}

export async function runStream(parsed: ParsedCommand, io: CommandIo): Promise<number> {
  if (parsed.positionals[0] !== 'info') throw new UsageError(`unknown subcommand "${parsed.positionals[0] ?? ''}" (want: info)`);
  const addresses = resolveAddresses(parsed.values, io);
  const streamName = typeof parsed.values['stream'] === 'string' ? parsed.values['stream'] : EVENTS_STREAM;
  const nc = await connectNats({ servers: addresses.nats.split(','), reconnect: false, timeout: 3_000, name: 'kvctl-stream' });
  try {
    const jsm = await jetstreamManager(nc);
    let info;
    try {
      info = await jsm.streams.info(streamName, { subjects_filter: '>' });
    } catch (err) {
      if (isNotFound(err)) throw new Error(`stream ${streamName} does not exist on ${redactUrlPassword(addresses.nats)} (start a collector to create it)`);
      throw err;
    }
    const pods: PodStreamRow[] = [];
    for (const [subject, messages] of Object.entries(info.state.subjects ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
      let target;
      try {
        target = parseEventsSubject(subject);
      } catch {
        continue; // not an events subject
      }
      const last = await lastStoredPosition(jsm, streamName, subject);
      if (!last) continue;
      pods.push({ pod: target.podId, model: target.model, partition: target.partition, messages, kind: last.kind, epoch: last.epoch, seq: last.seq?.toString() ?? null, engineTs: last.ts, streamSeq: last.streamSeq });
    }
    let deadLetters: number | null = null;
    try {
      deadLetters = (await jsm.streams.info(DEAD_LETTER_STREAM)).state.messages;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const summary = {
      stream: streamName,
      messages: info.state.messages,
      bytes: info.state.bytes,
      firstSeq: info.state.first_seq,
      lastSeq: info.state.last_seq,
      firstTime: info.state.first_ts,
      lastTime: info.state.last_ts,
      consumers: info.state.consumer_count,
      maxAgeSeconds: info.config.max_age / 1e9,
      duplicateWindowSeconds: info.config.duplicate_window / 1e9,
      deadLetters,
      pods,
    };
    if (parsed.values['json'] === true) {
      io.stdout.write(`${JSON.stringify(summary)}\n`);
      return 0;
    }
    const lines = [
      `stream ${streamName}: ${summary.messages} messages, ${summary.bytes} bytes, seq ${summary.firstSeq}..${summary.lastSeq}, ${summary.consumers} consumers, max age ${summary.maxAgeSeconds} s, duplicate window ${summary.duplicateWindowSeconds} s`,
      `dead letters (${DEAD_LETTER_STREAM}): ${deadLetters ?? 'no stream'}`,
      '',
      ['pod', 'partition', 'model', 'messages', 'epoch', 'last seq', 'kind', 'age'].join('\t'),
      ...pods.map((p) => [p.pod, p.partition, p.model || '-', p.messages, p.epoch, p.seq ?? '-', p.kind, p.engineTs === null ? '-' : `${Math.max(0, Date.now() / 1000 - p.engineTs).toFixed(1)} s`].join('\t')),
    ];
    io.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } finally {
    await nc.close();
  }
}
