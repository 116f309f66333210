/**
 * A scripted vLLM pod for collector and indexer tests: real ZMQ PUB + replay ROUTER sockets
 * (`@kvr/zmq-events`, the same code the simulator runs), with batches published only when the
 * test says so, and a record of everything sent — the ground truth to compare a stream against.
 */
import { KvEventPublisher } from './publisher';
import { encodeKvEventBatch, WIRE_LAYOUTS } from '@kvr/kv-events';
import { vllmBlockStoredEvent } from '@kvr/kv-events/testing';

export interface SentBatch {
  /** Engine generation in this pod object: 0, then +1 per `restart()`. */
  readonly generation: number;
  readonly seq: bigint;
  readonly payload: Buffer;
  /** False for garbage payloads. */
  readonly valid: boolean;
}

export interface EventPod {
  readonly id: string;
  readonly model: string;
  readonly topic: string;
  readonly zmq: string;
  readonly replay: string | null;
  /** Every batch sent, in order. */
  readonly sent: readonly SentBatch[];
  /** Publishes one step storing `blocks` new blocks chained after the previous ones. */
  step(blocks?: number): SentBatch;
  /** Publishes bytes that are not a valid batch, with the next sequence number. */
  garbage(bytes?: Buffer): SentBatch;
  /** Publishes an already-encoded valid payload (benchmarks: no encoding cost on the pod side). */
  sendPayload(payload: Buffer): SentBatch;
  /** An engine restart: sequence back to 0, empty replay buffer, a new hash chain. */
  restart(): void;
  stop(): Promise<void>;
}

export interface StartEventPodOptions {
  /** @default true */
  replay?: boolean;
  /** @default 'test/model' */
  model?: string;
  /** Batches kept for replay. @default 10000 */
  bufferSteps?: number;
  /** @default 'map' */
  eventFormat?: 'map' | 'array';
  /** Pod id; default `127.0.0.1:<pub port>`. */
  id?: string;
}

const silent = { warn: () => undefined, error: () => undefined };

export async function startEventPod(options: StartEventPodOptions = {}): Promise<EventPod> {
  const model = options.model ?? 'test/model';
  // The topic carries the pod id, which by default is made from the PUB port: a topic function.
  let id = options.id ?? '';
  const publisher = await KvEventPublisher.bind({
    host: '127.0.0.1',
    pubPort: 0,
    replayPort: options.replay === false ? null : 0,
    topic: ({ pub }) => {
      id ||= `127.0.0.1:${pub}`;
      return `kv@${id}@${model}`;
    },
    bufferSteps: options.bufferSteps ?? 10_000,
    hwm: 100_000,
    layout: options.eventFormat === 'array' ? WIRE_LAYOUTS.positional : WIRE_LAYOUTS.map,
    replayFormat: 'with_topic',
    logger: silent,
  });
  const topic = publisher.topic;
  const ports = { pub: publisher.pubPort, replay: publisher.replayPort };
  const layout = options.eventFormat === 'array' ? WIRE_LAYOUTS.positional : WIRE_LAYOUTS.map;
  const sent: SentBatch[] = [];
  let generation = 0;
  let parent: bigint | null = null;
  let nextHash = BigInt(ports.pub) << 40n;
  let lastTs = 0;
  const ts = (): number => (lastTs = Math.max(Date.now() / 1000, lastTs + 0.000001));
  return {
    id,
    model,
    topic,
    zmq: `tcp://127.0.0.1:${ports.pub}`,
    replay: ports.replay === null ? null : `tcp://127.0.0.1:${ports.replay}`,
    sent,
    step(blocks = 1) {
      const hashes = Array.from({ length: blocks }, () => ++nextHash);
      const event = vllmBlockStoredEvent({ blockHashes: hashes, parentBlockHash: parent, tokenIds: Array.from({ length: blocks * 4 }, (_, k) => k + 1), blockSize: 4 });
      parent = hashes[hashes.length - 1] as bigint;
      const payload = encodeKvEventBatch({ ts: ts(), events: [event], dataParallelRank: 0 }, layout);
      const batch = { generation, seq: publisher.publishPayload(payload), payload, valid: true };
      sent.push(batch);
      return batch;
    },
    sendPayload(payload) {
      const batch = { generation, seq: publisher.publishPayload(payload), payload, valid: true };
      sent.push(batch);
      return batch;
    },
    garbage(bytes = Buffer.from([0xc1, 0xff, 0x00])) {
      const batch = { generation, seq: publisher.publishPayload(bytes), payload: bytes, valid: false };
      sent.push(batch);
      return batch;
    },
    restart() {
      generation++;
      parent = null;
      publisher.restart();
    },
    stop: () => publisher.close(),
  };
}
