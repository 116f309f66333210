// Child process of freshness.bench.ts: scripted vLLM pods publishing at a fixed rate, each batch
// stamped with its send time (the engine's `ts`), so the indexer's event-age histogram measures
// pod → collector → JetStream → indexer → Redis. Every batch stores `stores` new blocks of 64
// tokens (chained after the pod's previous block, as a growing prompt does) and removes the
// blocks stored `keep` batches earlier (a full cache evicting), so the index stays bounded.
// argv: pods batchesPerSecondPerPod stores keep. Prints the pods as one JSON line, publishes on a
// "go <seconds>" line from stdin, prints "done <batches>" when finished.
import { createInterface } from 'node:readline';
import { encodeKvEventBatch, WIRE_LAYOUTS, type KvEvent } from '@kvr/kv-events';
import { blockRemovedEvent, vllmBlockStoredEvent } from '@kvr/kv-events/testing';
import { startEventPod, type EventPod } from '@kvr/zmq-events/testing';

const BLOCK_SIZE = 64;

async function main(): Promise<void> {
  const [podCount, perSecond, stores, keep] = process.argv.slice(2).map(Number) as [number, number, number, number];
  const pods: EventPod[] = [];
  for (let i = 0; i < podCount; i++) pods.push(await startEventPod({ bufferSteps: 1_000, model: 'Qwen/Qwen3-32B' }));
  process.stdout.write(`${JSON.stringify(pods.map((p) => ({ id: p.id, zmq: p.zmq, replay: p.replay, model: p.model })))}\n`);
  const history = pods.map(() => [] as bigint[][]);
  const parents: (bigint | null)[] = pods.map(() => null);
  let nextHash = 1n;
  let sent = 0;
  const publish = (p: number): void => {
    const hashes = Array.from({ length: stores }, () => nextHash++);
    const events: KvEvent[] = [vllmBlockStoredEvent({ blockHashes: hashes, parentBlockHash: parents[p] ?? null, tokenIds: Array.from({ length: stores * BLOCK_SIZE }, (_, k) => (Number(hashes[0]) * 7 + k) % 150_000), blockSize: BLOCK_SIZE })];
    parents[p] = hashes[hashes.length - 1] as bigint;
    history[p]!.push(hashes);
    if (history[p]!.length > keep) events.push(blockRemovedEvent(history[p]!.shift() as bigint[], { medium: 'GPU' }));
    pods[p]!.sendPayload(encodeKvEventBatch({ ts: Date.now() / 1000, events, dataParallelRank: 0 }, WIRE_LAYOUTS.map));
    sent++;
  };
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    const [word, seconds] = line.trim().split(/\s+/);
    if (word !== 'go') continue;
    // Pods step in turn, evenly spaced; the schedule is absolute so that a slow tick does not
    // lower the rate (the next ones catch up).
    const interval = 1000 / (perSecond * podCount);
    const start = performance.now();
    const total = Math.round(Number(seconds) * perSecond * podCount);
    for (let i = 0; i < total; i++) {
      const due = start + i * interval;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      publish(i % podCount);
    }
    process.stdout.write(`done ${sent}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
