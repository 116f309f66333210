/**
 * vLLM's ZMQ event publisher, for simulated and test pods (vllm/distributed/kv_events.py
 * `ZmqEventPublisher`, upstream-spec §1.2–1.5):
 *
 * - PUB socket, bound; every batch is `[topic, seq (8 bytes BE), msgpack payload]`, seq from 0,
 *   +1 per batch, back to 0 when the engine restarts.
 * - ROUTER socket (optional), bound; a request `[identity, "", start_seq]` is answered with every
 *   buffered batch whose seq ≥ start_seq, then an end marker with seq 2^64-1 — in the current
 *   (`with_topic`) or the older (`without_topic`) frame layout. Malformed requests are logged and
 *   ignored, as vLLM does.
 * - A ring buffer of the last `bufferSteps` batches (vLLM `deque(maxlen=buffer_steps)`).
 *
 * zeromq v6 allows one send in flight per socket, so sends go through a promise chain; PUB sends
 * never block (ZMQ drops at the high-water mark, as it does for vLLM).
 */
import { Publisher, Router } from 'zeromq';
import { encodeKvEventBatch, encodeReplayBatch, encodeReplayEnd, encodeSeqFrame, decodeReplayRequest, type KvEventBatch, type ReplayResponseFormat, type WireLayout } from '@kvr/kv-events';
/** What the publisher logs; a pino logger fits. */
export interface PublisherLogger {
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

export interface KvEventPublisherOptions {
  readonly host: string;
  readonly pubPort: number;
  /** null: no replay socket. */
  readonly replayPort: number | null;
  /** The topic frame; a function gets the bound ports (for a pod id made from them). */
  readonly topic: string | ((ports: { pub: number; replay: number | null }) => string);
  readonly bufferSteps: number;
  readonly hwm: number;
  readonly layout: WireLayout;
  readonly replayFormat: ReplayResponseFormat;
  readonly logger: PublisherLogger;
  readonly onSent?: (kind: 'live' | 'replayed') => void;
  readonly onReplayRequest?: () => void;
}

interface Buffered {
  readonly seq: bigint;
  readonly payload: Buffer;
}

/** `tcp://127.0.0.1:5557` → port. zeromq's lastEndpoint gives the bound address after a `:0`/`:*` bind. */
function portOf(endpoint: string | null): number {
  const match = /:(\d+)$/.exec(endpoint ?? '');
  if (!match) throw new Error(`cannot read the bound port from ${String(endpoint)}`);
  return Number(match[1]);
}

export class KvEventPublisher {
  private seq = 0n;
  private readonly buffer: Buffered[] = [];
  private bufferStart = 0;
  private sendChain: Promise<void> = Promise.resolve();
  private replayLoop: Promise<void> | null = null;
  private closed = false;

  private constructor(
    private readonly options: KvEventPublisherOptions,
    readonly topic: string,
    private readonly pub: Publisher,
    private readonly router: Router | null,
    readonly pubPort: number,
    readonly replayPort: number | null,
  ) {}

  static async bind(options: KvEventPublisherOptions): Promise<KvEventPublisher> {
    const pub = new Publisher({ sendHighWaterMark: options.hwm, linger: 0 });
    let router: Router | null = null;
    try {
      await pub.bind(`tcp://${options.host}:${options.pubPort === 0 ? '*' : options.pubPort}`);
      if (options.replayPort !== null) {
        router = new Router({ linger: 0 });
        await router.bind(`tcp://${options.host}:${options.replayPort === 0 ? '*' : options.replayPort}`);
      }
    } catch (err) {
      pub.close();
      router?.close();
      throw err;
    }
    const ports = { pub: portOf(pub.lastEndpoint), replay: router ? portOf(router.lastEndpoint) : null };
    const topic = typeof options.topic === 'function' ? options.topic(ports) : options.topic;
    const publisher = new KvEventPublisher(options, topic, pub, router, ports.pub, ports.replay);
    if (router) publisher.replayLoop = publisher.serveReplays(router);
    return publisher;
  }

  /** Sequence number the next batch will get. */
  get nextSeq(): bigint {
    return this.seq;
  }

  /** Encodes, buffers and sends one batch (fire and forget; send errors are logged). Returns its seq. */
  publish(batch: KvEventBatch): bigint {
    return this.publishPayload(encodeKvEventBatch(batch, this.options.layout));
  }

  /**
   * Sends already-encoded payload bytes as the next batch, buffered for replay like any other:
   * for relaying recorded traffic, and for tests that need bytes no encoder would produce.
   */
  publishPayload(payload: Buffer): bigint {
    const seq = this.seq++;
    this.remember({ seq, payload });
    const frames = [Buffer.from(this.topic, 'utf8'), encodeSeqFrame(seq), payload];
    this.enqueue(async () => {
      await this.pub.send(frames);
      this.options.onSent?.('live');
    });
    return seq;
  }

  /** The engine restarted: sequence back to 0 and an empty replay buffer (a new vLLM process). */
  restart(): void {
    this.seq = 0n;
    this.buffer.length = 0;
    this.bufferStart = 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.sendChain;
    this.pub.close();
    this.router?.close();
    await this.replayLoop;
  }

  private remember(entry: Buffered): void {
    if (this.buffer.length - this.bufferStart >= this.options.bufferSteps) {
      this.bufferStart++;
      // Compact now and then instead of shifting on every batch.
      if (this.bufferStart > 1024 && this.bufferStart * 2 > this.buffer.length) {
        this.buffer.splice(0, this.bufferStart);
        this.bufferStart = 0;
      }
    }
    this.buffer.push(entry);
  }

  private enqueue(send: () => Promise<void>): void {
    this.sendChain = this.sendChain.then(send).catch((err: unknown) => {
      if (!this.closed) this.options.logger.error({ err }, 'ZMQ send failed');
    });
  }

  private async serveReplays(router: Router): Promise<void> {
    try {
      for await (const frames of router) {
        const request = decodeReplayRequest(frames);
        if (!request.ok) {
          this.options.logger.warn({ reason: request.error.reason, detail: request.error.message }, 'invalid replay request ignored');
          continue;
        }
        this.options.onReplayRequest?.();
        const identity = Buffer.from(request.value.identity);
        const start = request.value.startSeq;
        // Snapshot now: batches published while the answer is sent arrive on the live stream.
        const entries = this.buffer.slice(this.bufferStart).filter((entry) => entry.seq >= start);
        for (const entry of entries) {
          await router.send([identity, ...encodeReplayBatch({ topic: this.topic, seq: entry.seq, payload: entry.payload }, this.options.replayFormat)]);
          this.options.onSent?.('replayed');
        }
        await router.send([identity, ...encodeReplayEnd(this.options.replayFormat)]);
      }
    } catch (err) {
      if (!this.closed) this.options.logger.error({ err }, 'replay socket failed');
    }
  }
}
