// Run as a child process by telemetry.spec.ts: starts tracing from the OTEL_* environment,
// records one span, flushes on shutdown, and prints whether tracing was enabled.
import { inSpan, semconv, startTracing } from '../index';

async function main(): Promise<void> {
  const handle = startTracing('fixture');
  await inSpan(semconv.SPAN_INDEX_LOOKUP, { [semconv.ATTR_BLOCK_COUNT]: 1 }, async () => undefined);
  await handle.shutdown();
  process.stdout.write(handle.enabled ? 'enabled\n' : `disabled: ${handle.disabledReason ?? ''}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
