// Child process of throughput.bench.ts: the raw baseline, publishing the same payload straight to
// JetStream with the collector's client options and window, in a process of its own. Run inside
// the bench process it would share that process's heap with every suite loaded before it (their
// prompt pools stay reachable), which made it measurably slower in full runs than alone.
// argv: natsUrl payloadHex total subjects window. Prints "ready" once connected, publishes on a
// "go" line from stdin, then prints one JSON line: ops per second (messages), latency p50 / p99
// in ms, and the CPU seconds this process spent publishing.
import { createInterface } from 'node:readline';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? Number.NaN;
}

async function main(): Promise<void> {
  const [natsUrl, payloadHex, totalText, subjectsText, windowText] = process.argv.slice(2) as [string, string, string, string, string];
  const payload = Buffer.from(payloadHex, 'hex');
  const [total, subjects, window] = [Number(totalText), Number(subjectsText), Number(windowText)];
  // The collector's client options (noAsyncTraces), so that the ratio shows the collector's own cost.
  const nc = await connect({ servers: natsUrl, noAsyncTraces: true });
  const js = jetstream(nc);
  process.stdout.write('ready\n');
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line.trim() === 'go') break;
  }
  const latencies: number[] = [];
  let inFlight = 0;
  let next = 0;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  await new Promise<void>((resolve, reject) => {
    const pump = (): void => {
      while (inFlight < window && next < total) {
        const i = next++;
        inFlight++;
        const sent = performance.now();
        js.publish(`raw.${i % subjects}`, payload, { msgID: `raw:${i}` }).then(
          () => {
            latencies.push(performance.now() - sent);
            inFlight--;
            if (latencies.length === total) resolve();
            else pump();
          },
          reject,
        );
      }
    };
    pump();
  });
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  latencies.sort((a, b) => a - b);
  process.stdout.write(`${JSON.stringify({ messagesPerSecond: total / seconds, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), cpuSeconds: (cpu.user + cpu.system) / 1e6 })}\n`);
  await nc.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
