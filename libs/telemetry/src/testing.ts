import { context, propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';

export { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
export type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

export interface InMemoryTracing {
  readonly exporter: InMemorySpanExporter;
  /** Finished spans, after flushing the processor (spans export asynchronously otherwise). */
  finishedSpans(): Promise<ReadableSpan[]>;
  /** Unregisters the global tracer provider and context manager. */
  stop(): Promise<void>;
}

/**
 * Registers a global tracer provider that keeps spans in memory, with async context propagation,
 * so that tests can assert on exactly the spans a component produced.
 */
export function startInMemoryTracing(): InMemoryTracing {
  const exporter = new InMemorySpanExporter();
  const processor = new SimpleSpanProcessor(exporter);
  const provider = new BasicTracerProvider({ spanProcessors: [processor] });
  // Replace whatever an earlier test registered: the API keeps the first global otherwise.
  trace.disable();
  context.disable();
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(provider);
  // As the SDK does in production (startTracing): W3C `traceparent` in carriers such as NATS headers.
  propagation.disable();
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  return {
    exporter,
    async finishedSpans() {
      await processor.forceFlush();
      return exporter.getFinishedSpans();
    },
    async stop() {
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}
