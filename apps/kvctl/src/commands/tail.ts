import { Subscriber } from 'zeromq';
import { decodeKvEventMessage, type KvEvent, type KvEventMessage } from '@kvr/kv-events';
import { UsageError, type CommandSpec, type ParsedCommand } from '@kvr/runtime';
import type { CommandIo } from '../io';

export const tailSpec: CommandSpec = {
  name: 'kvctl tail',
  summary: "Subscribes to a pod's KV-event stream (ZeroMQ PUB) and prints every decoded event.",
  options: {
    zmq: { type: 'string', description: "The pod's PUB endpoint, e.g. tcp://10.0.0.1:5556", placeholder: 'ENDPOINT' },
    topic: { type: 'string', description: 'Subscription prefix (default kv@)', placeholder: 'PREFIX' },
    count: { type: 'string', description: 'Exit after N events', placeholder: 'N' },
    timeout: { type: 'string', description: 'Give up after this many milliseconds (exit 1 if --count was not reached)', placeholder: 'MS' },
    json: { type: 'boolean', description: 'One JSON object per event per line (hashes as uint64 decimal strings)' },
  },
  details: [
    'JSON fields: pod, model, seq, type, and per type blockHashes, parentBlockHash (null when absent),',
    'tokenIds, blockSize, medium, loraName. Payloads that do not decode are reported on stderr and skipped.',
  ].join('\n'),
};

/** The JSON form of one event: what operators pipe into jq. */
export function eventRecord(message: KvEventMessage, event: KvEvent): Record<string, unknown> {
  const base = { pod: message.topic.podId, model: message.topic.model, seq: message.seq.toString(), type: event.type };
  switch (event.type) {
    case 'BlockStored':
      return {
        ...base,
        blockHashes: event.blockHashes.map((h) => h.toString()),
        parentBlockHash: event.parentBlockHash === null ? null : event.parentBlockHash.toString(),
        tokenIds: event.tokenIds,
        blockSize: event.blockSize,
        medium: event.medium,
        loraName: event.loraName,
      };
    case 'BlockRemoved':
      return { ...base, blockHashes: event.blockHashes.map((h) => h.toString()), medium: event.medium };
    case 'AllBlocksCleared':
      return base;
  }
}

function eventLine(message: KvEventMessage, event: KvEvent): string {
  const head = `seq=${message.seq} pod=${message.topic.podId} model=${message.topic.model || '-'} ${event.type}`;
  switch (event.type) {
    case 'BlockStored':
      return `${head} blocks=${event.blockHashes.length} hashes=${event.blockHashes.join(',')} parent=${event.parentBlockHash ?? '-'} tokens=${event.tokenIds.length} blockSize=${event.blockSize} medium=${event.medium ?? '-'}${event.loraName ? ` lora=${event.loraName}` : ''}`;
    case 'BlockRemoved':
      return `${head} blocks=${event.blockHashes.length} hashes=${event.blockHashes.join(',')} medium=${event.medium ?? '-'}`;
    case 'AllBlocksCleared':
      return head;
  }
}

function positiveInteger(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`${flag} must be a positive integer`);
  return n;
}

export async function runTail(parsed: ParsedCommand, io: CommandIo): Promise<number> {
  const endpoint = parsed.values['zmq'];
  if (typeof endpoint !== 'string' || !/^(tcp|ipc|inproc):\/\/.+/.test(endpoint)) {
    throw new UsageError('--zmq is required, as tcp://HOST:PORT (or ipc://PATH)');
  }
  const count = positiveInteger(parsed.values['count'], '--count');
  const timeoutMs = positiveInteger(parsed.values['timeout'], '--timeout');
  const json = parsed.values['json'] === true;
  const subscriber = new Subscriber({ linger: 0 });
  subscriber.connect(endpoint);
  subscriber.subscribe(typeof parsed.values['topic'] === 'string' ? parsed.values['topic'] : 'kv@');

  let printed = 0;
  let timedOut = false;
  const timer = timeoutMs === undefined ? undefined : setTimeout(() => {
    timedOut = true;
    subscriber.close();
  }, timeoutMs);
  const stop = (): void => subscriber.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    for await (const frames of subscriber) {
      const decoded = decodeKvEventMessage(frames);
      if (!decoded.ok) {
        io.stderr.write(`kvctl tail: skipped a message that does not decode (${decoded.error.reason}): ${decoded.error.message}\n`);
        continue;
      }
      for (const unknown of decoded.value.batch.unknownEvents) {
        io.stderr.write(`kvctl tail: seq ${decoded.value.seq}: skipped unknown event type "${unknown.type}" at index ${unknown.index}\n`);
      }
      for (const event of decoded.value.batch.events) {
        io.stdout.write(`${json ? JSON.stringify(eventRecord(decoded.value, event)) : eventLine(decoded.value, event)}\n`);
        printed += 1;
        if (count !== undefined && printed >= count) return 0;
      }
    }
  } catch (err) {
    // Closing the socket (timeout, signal) ends the iteration with an error; anything else is real.
    if (!subscriber.closed) throw err;
  } finally {
    if (timer) clearTimeout(timer);
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
    if (!subscriber.closed) subscriber.close();
  }
  if (timedOut && count !== undefined) {
    io.stderr.write(`kvctl tail: timed out after ${timeoutMs} ms with ${printed} of ${count} events\n`);
    return 1;
  }
  return 0;
}
