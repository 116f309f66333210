// Child process of throughput.bench.ts: scripted vLLM pods publishing as fast as ZMQ takes it, in
// their own process so that the collector being measured does not share an event loop with them.
// argv: pods batchesPerPod blocksPerBatch. Prints the pods as one JSON line, publishes on a "go"
// line from stdin, prints "done" when every batch was handed to ZMQ.
import { createInterface } from 'node:readline';
import { encodeKvEventBatch, WIRE_LAYOUTS } from '@kvr/kv-events';
import { startEventPod, type EventPod } from '@kvr/zmq-events/testing';

async function main(): Promise<void> {
  const [podCount, batches, blocks] = process.argv.slice(2).map(Number) as [number, number, number];
  const pods: EventPod[] = [];
  for (let i = 0; i < podCount; i++) pods.push(await startEventPod({ bufferSteps: batches + 10 }));
  // One encoded step per pod, its timestamp advanced per batch: the pods spend no CPU encoding,
  // as the raw baseline spends none.
  const template = (ts: number): Buffer =>
    encodeKvEventBatch(
      {
        ts,
        events: [{ type: 'BlockStored', blockHashes: Array.from({ length: blocks }, (_, i) => BigInt(i + 1)), parentBlockHash: null, tokenIds: Array.from({ length: blocks * 16 }, (_, i) => i), blockSize: 16, loraId: null, medium: 'GPU', loraName: null, extraKeys: null, groupIdx: 0, kvCacheSpecKind: 'full_attention', kvCacheSpecSlidingWindow: null }],
        dataParallelRank: 0,
      },
      WIRE_LAYOUTS.map,
    );
  const base = Date.now() / 1000;
  const payloads = Array.from({ length: batches }, (_, b) => template(base + b * 0.001));
  process.stdout.write(`${JSON.stringify(pods.map((p) => ({ id: p.id, zmq: p.zmq, replay: p.replay, model: p.model })))}\n`);
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line.trim() !== 'go') continue;
    for (let b = 0; b < batches; b++) {
      for (const pod of pods) pod.sendPayload(payloads[b] as Buffer);
      // Let ZMQ's sends run now and then; a vLLM pod publishes once per scheduler step anyway.
      if (b % 50 === 49) await new Promise((resolve) => setImmediate(resolve));
    }
    process.stdout.write('done\n');
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
