/**
 * KV events of simulated pods on real ZMQ sockets. Real: pods (in process), zeromq SUB/DEALER,
 * @kvr/kv-events decoder, an independent Python pyzmq + msgpack subscriber. Mocked: nothing.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Dealer, Subscriber } from 'zeromq';
import { createBlockKeyer, toUint64Decimal } from '@kvr/block-keys';
import { decodeKvEventMessage, decodeReplayResponse, encodeReplayRequest, type BlockRemovedEvent, type BlockStoredEvent, type KvEventMessage } from '@kvr/kv-events';
import { postJson, range, startTestPods, type TestPods } from './__fixtures__/pods';

const BS = 16;

/** A SUB on a pod's PUB socket that has provably joined (ZMQ drops messages sent before a subscription lands). */
class EventTap {
  readonly messages: KvEventMessage[] = [];
  private waiters: (() => void)[] = [];
  private readonly sub = new Subscriber();
  private readonly loop: Promise<void>;

  constructor(endpoint: string) {
    this.sub.connect(endpoint);
    this.sub.subscribe('kv@');
    this.loop = (async () => {
      for await (const frames of this.sub) {
        const decoded = decodeKvEventMessage(frames);
        if (!decoded.ok) throw decoded.error;
        this.messages.push(decoded.value);
        for (const wake of this.waiters.splice(0)) wake();
      }
    })();
  }

  /** Sends tiny requests until one of their batches arrives; returns how many messages to skip. */
  async join(http: string): Promise<void> {
    for (let i = 0; this.messages.length === 0; i++) {
      if (i > 200) throw new Error('no KV event reached the subscriber');
      await postJson(`${http}/v1/completions`, { prompt: range(900_000 + i * BS, BS), max_tokens: 1 });
      await this.next(50);
    }
  }

  /** Resolves when a message arrives or after `ms`. */
  next(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async until(predicate: (messages: readonly KvEventMessage[]) => boolean, ms = 5000): Promise<void> {
    const deadline = performance.now() + ms;
    while (!predicate(this.messages)) {
      if (performance.now() > deadline) throw new Error(`condition not met; got ${this.messages.length} messages`);
      await this.next(50);
    }
  }

  async close(): Promise<void> {
    this.sub.close();
    await this.loop.catch(() => undefined);
  }
}

const stored = (messages: readonly KvEventMessage[]): BlockStoredEvent[] =>
  messages.flatMap((m) => m.batch.events).filter((e): e is BlockStoredEvent => e.type === 'BlockStored');

describe('vllm-sim KV events', () => {
  let fleet: TestPods;

  beforeAll(async () => {
    fleet = await startTestPods({ cache: { blockSize: BS, numGpuBlocks: 12, hashSeed: '42' } });
  });
  afterAll(() => fleet.stop());

  it('publishes BlockStored chains, BlockRemoved on eviction and AllBlocksCleared on reset, with consecutive sequence numbers', async () => {
    const pod = fleet.pods[0]!;
    const tap = new EventTap(pod.endpoints.zmq!);
    try {
      await tap.join(pod.endpoints.http);
      const before = tap.messages.length;
      const prompt = range(1, 4 * BS + 3);
      const res = await postJson(`${pod.endpoints.http}/v1/completions`, { prompt, max_tokens: 1 });
      expect(res.status).toBe(200);
      await tap.until((m) => stored(m.slice(before)).length > 0);
      const [event] = stored(tap.messages.slice(before));
      expect(event).toMatchObject({ tokenIds: prompt.slice(0, 4 * BS), blockSize: BS, parentBlockHash: null, medium: 'GPU', loraName: null, groupIdx: 0, kvCacheSpecKind: 'full_attention' });
      expect(event!.blockHashes).toHaveLength(4);
      const message = tap.messages[tap.messages.length - 1]!;
      expect(message.topic).toEqual({ topic: `kv@${pod.endpoints.id}@Qwen/Qwen3-32B`, podId: pod.endpoints.id, model: 'Qwen/Qwen3-32B', conventional: true });

      // The debug endpoint shows the same blocks, labelled with the router's request keys.
      const debug = (await (await fetch(`${pod.endpoints.http}/debug/blocks?tokens=1`)).json()) as { blocks: { hash: string; requestKey: string; tokenIds: number[] }[] };
      const keys = createBlockKeyer({ modelName: 'Qwen/Qwen3-32B', blockSize: BS }).keysForTokens(prompt);
      for (const [i, hash] of event!.blockHashes.entries()) {
        expect(debug.blocks.find((b) => b.hash === toUint64Decimal(hash))).toEqual({ hash: toUint64Decimal(hash), parentHash: i === 0 ? null : toUint64Decimal(event!.blockHashes[i - 1]!), requestKey: toUint64Decimal(keys[i]!), loraName: null, refCount: 0, tokenIds: prompt.slice(i * BS, (i + 1) * BS) });
      }

      // 12 blocks in the pod: two more 6-block prompts evict the first prompt's blocks, tail first.
      for (const start of [1000, 2000]) await postJson(`${pod.endpoints.http}/v1/completions`, { prompt: range(start, 6 * BS), max_tokens: 1 });
      await tap.until((m) => m.flatMap((x) => x.batch.events).some((e) => e.type === 'BlockRemoved' && e.blockHashes[0] === event!.blockHashes[0]));
      const removed = tap.messages.flatMap((m) => m.batch.events).filter((e): e is BlockRemovedEvent => e.type === 'BlockRemoved').map((e) => e.blockHashes[0]);
      expect(removed).toEqual(expect.arrayContaining([...event!.blockHashes]));
      expect(removed.indexOf(event!.blockHashes[3]!)).toBeLessThan(removed.indexOf(event!.blockHashes[0]!));

      expect((await fetch(`${pod.endpoints.http}/reset_prefix_cache`, { method: 'POST' })).status).toBe(200);
      await tap.until((m) => m[m.length - 1]!.batch.events.some((e) => e.type === 'AllBlocksCleared'));
      const seqs = tap.messages.map((m) => m.seq);
      expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + BigInt(i)));
      expect(((await (await fetch(`${pod.endpoints.http}/debug/blocks`)).json()) as { blocks: unknown[] }).blocks).toEqual([]);
    } finally {
      await tap.close();
    }
  });

  it('replays the buffered batches from a sequence number over ROUTER, identical to the live ones, then the end marker', async () => {
    const pod = fleet.pods[0]!;
    const tap = new EventTap(pod.endpoints.zmq!);
    const dealer = new Dealer();
    try {
      await tap.join(pod.endpoints.http);
      await postJson(`${pod.endpoints.http}/v1/completions`, { prompt: range(5000, 2 * BS), max_tokens: 1 });
      await tap.until((m) => m.length >= 2);
      dealer.connect(pod.endpoints.replay!);
      const from = tap.messages[0]!.seq;
      await dealer.send(encodeReplayRequest(from));
      const replayed: { topic: string | null; seq: bigint; batch: unknown }[] = [];
      for (;;) {
        const answer = decodeReplayResponse(await dealer.receive());
        if (!answer.ok) throw answer.error;
        if (answer.value.kind === 'end') break;
        replayed.push({ topic: answer.value.topic, seq: answer.value.seq, batch: answer.value.batch });
      }
      const live = tap.messages.map((m) => ({ topic: m.topic.topic, seq: m.seq, batch: m.batch }));
      expect(replayed.slice(0, live.length)).toEqual(live);
      const metrics = await (await fetch(`${pod.endpoints.http}/metrics`)).text();
      expect(metrics).toMatch(/^kvr_sim_replay_requests_total [1-9]/m);
    } finally {
      dealer.close();
      await tap.close();
    }
  });

  it('a simulated engine restart starts the sequence at 0 with an empty cache and no event', async () => {
    const pod = fleet.pods[0]!;
    const tap = new EventTap(pod.endpoints.zmq!);
    try {
      await tap.join(pod.endpoints.http);
      const count = tap.messages.length;
      const restart = await postJson(`${pod.endpoints.http}/debug/restart`, {});
      expect(restart.json).toEqual({ restarted: true, droppedRequests: 0 });
      await postJson(`${pod.endpoints.http}/v1/completions`, { prompt: range(7000, BS), max_tokens: 1 });
      await tap.until((m) => m.length > count);
      expect(tap.messages[count]!.seq).toBe(0n);
      expect(tap.messages[count]!.batch.events.map((e) => e.type)).toEqual(['BlockStored']);
    } finally {
      await tap.close();
    }
  });

  it('computes LoRA requests under the adapter: lora name and id in the event, in every block hash', async () => {
    const pods = await startTestPods({ loraAdapters: ['sql-adapter'], cache: { blockSize: BS, hashSeed: '1' } });
    const pod = pods.pods[0]!;
    const tap = new EventTap(pod.endpoints.zmq!);
    try {
      await tap.join(pod.endpoints.http);
      const prompt = range(40_000, 2 * BS);
      for (const model of ['Qwen/Qwen3-32B', 'sql-adapter']) expect((await postJson(`${pod.endpoints.http}/v1/completions`, { model, prompt, max_tokens: 1 })).status).toBe(200);
      await tap.until((m) => stored(m).filter((e) => e.tokenIds[0] === 40_000).length === 2);
      const [base, lora] = stored(tap.messages).filter((e) => e.tokenIds[0] === 40_000);
      expect(base).toMatchObject({ loraId: null, loraName: null, extraKeys: [null, null] });
      expect(lora).toMatchObject({ loraId: 1, loraName: 'sql-adapter', extraKeys: [['sql-adapter'], ['sql-adapter']] });
      expect(lora!.blockHashes.filter((h) => base!.blockHashes.includes(h))).toEqual([]);
      const debug = (await (await fetch(`${pod.endpoints.http}/debug/blocks`)).json()) as { blocks: { loraName: string | null; requestKey: string }[] };
      const loraKeys = createBlockKeyer({ modelName: 'sql-adapter', blockSize: BS }).keysForTokens(prompt).map(toUint64Decimal);
      expect(debug.blocks.filter((b) => b.loraName === 'sql-adapter').map((b) => b.requestKey).sort()).toEqual([...loraKeys].sort());
      const models = (await (await fetch(`${pod.endpoints.http}/v1/models`)).json()) as { data: { id: string }[] };
      expect(models.data.map((m) => m.id)).toEqual(['Qwen/Qwen3-32B', 'sql-adapter']);
    } finally {
      await tap.close();
      await pods.stop();
    }
  });

  it('refuses to reset the prefix cache while a request runs', async () => {
    const slow = await startTestPods({ timeScale: 1, kvEvents: { enabled: false } });
    try {
      const http = slow.pods[0]!.endpoints.http;
      const running = postJson(`${http}/v1/completions`, { prompt: range(1, 100), max_tokens: 30 });
      let status = 0;
      for (let i = 0; i < 100 && status !== 409; i++) status = (await fetch(`${http}/reset_prefix_cache`, { method: 'POST' })).status;
      expect(status).toBe(409);
      expect((await running).status).toBe(200);
      expect((await fetch(`${http}/reset_prefix_cache`, { method: 'POST' })).status).toBe(200);
      expect(slow.pods[0]!.endpoints).toMatchObject({ zmq: null, replay: null });
    } finally {
      await slow.stop();
    }
  });

  it.each([
    ['map', 'int'],
    ['array', 'bytes'],
  ])('%s events with %s hashes decode in Python (pyzmq + msgpack) to what @kvr/kv-events decodes', async (eventFormat, hashFormat) => {
    const pods = await startTestPods({ cache: { blockSize: BS }, kvEvents: { eventFormat, hashFormat, replayPort: -1 } });
    const pod = pods.pods[0]!;
    const tap = new EventTap(pod.endpoints.zmq!);
    const python = spawn('/usr/bin/python3', [join(__dirname, '..', 'fixtures', 'subscribe.py'), pod.endpoints.zmq!, 'kv@'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    python.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const lines: { topic: string; seq: number; batch: unknown[] }[] = [];
    createInterface({ input: python.stdout }).on('line', (line) => {
      const parsed = JSON.parse(line) as { connected?: boolean; topic: string; seq: number; batch: unknown[] };
      if (!parsed.connected) lines.push(parsed);
    });
    try {
      await tap.join(pod.endpoints.http);
      for (let i = 0; lines.length < 3; i++) {
        if (i > 300) throw new Error(`the Python subscriber got ${lines.length} messages; stderr: ${stderr}`);
        await postJson(`${pod.endpoints.http}/v1/completions`, { prompt: range(10_000 + i * 2 * BS, 2 * BS), max_tokens: 1 });
        await tap.next(20);
      }
      await tap.until((m) => m.some((x) => Number(x.seq) === lines[2]!.seq));
      for (const line of lines) {
        const ours = tap.messages.find((m) => Number(m.seq) === line.seq)!;
        expect(line.topic).toBe(ours.topic.topic);
        const [ts, events, rank] = line.batch as [number, unknown[], number];
        expect(ts).toBeCloseTo(ours.batch.ts, 6);
        expect(rank).toBe(0);
        const event = ours.batch.events[0] as BlockStoredEvent;
        const py = events[0] as Record<string, unknown> | unknown[];
        const pyHashes = (Array.isArray(py) ? py[1] : py['block_hashes']) as (string | number)[];
        const pyTokens = (Array.isArray(py) ? py[3] : py['token_ids']) as number[];
        expect(Array.isArray(py) ? py[0] : py['type']).toBe('BlockStored');
        expect(pyTokens).toEqual(event.tokenIds);
        if (hashFormat === 'bytes') {
          expect(pyHashes).toEqual(event.blockHashBytes!.map((b) => Buffer.from(b!).toString('hex')));
          expect(pyHashes.map((h) => BigInt('0x' + String(h).slice(-16)))).toEqual(event.blockHashes);
        } else {
          expect(pyHashes.map((h) => BigInt(h))).toEqual(event.blockHashes);
        }
        if (Array.isArray(py)) expect(py).toHaveLength(12); // tag + 11 positional fields
      }
    } finally {
      python.kill();
      await tap.close();
      await pods.stop();
    }
  });
});
