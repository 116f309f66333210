export { createMetricsRegistry, metricsHandler } from './metrics';
export type { MetricsRegistryOptions } from './metrics';
export { createLogger } from './logger';
export type { Logger, LoggerOptions } from './logger';
export { startTracing, productTracer, inSpan } from './tracing';
export type { TracingHandle } from './tracing';
// The names themselves: one namespace import keeps call sites readable (`semconv.SPAN_INDEX_LOOKUP`).
import * as semconv from './semconv';
export { semconv };
