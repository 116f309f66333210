import { SpanStatusCode, trace, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';

export interface TracingHandle {
  /** True when spans are exported somewhere. */
  readonly enabled: boolean;
  /** Why tracing is off, for the start-up log; undefined when on. */
  readonly disabledReason: string | undefined;
  /** Flushes and stops the exporter; a no-op when tracing is off. */
  shutdown(): Promise<void>;
}

/**
 * Starts OpenTelemetry tracing for one app, configured only by the standard `OTEL_*` variables
 * (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_TRACES_EXPORTER`,
 * `OTEL_SDK_DISABLED`, `OTEL_RESOURCE_ATTRIBUTES`, …), which the SDK reads itself.
 *
 * Off unless configured: with no OTLP endpoint and no explicit exporter, nothing starts, so a
 * laptop run does not try to reach a collector that is not there. Tracing never stops an app:
 * a failure to start is reported in `disabledReason`.
 */
export function startTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env, version = '0.1.0'): TracingHandle {
  const off = (reason: string): TracingHandle => ({ enabled: false, disabledReason: reason, shutdown: async () => undefined });
  if ((env['OTEL_SDK_DISABLED'] ?? '').toLowerCase() === 'true') return off('OTEL_SDK_DISABLED=true');
  const exporters = (env['OTEL_TRACES_EXPORTER'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (exporters.includes('none')) return off('OTEL_TRACES_EXPORTER=none');
  const endpoint = env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] ?? env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  if (!endpoint && exporters.length === 0) return off('no OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_TRACES_EXPORTER set');
  try {
    const sdk = new NodeSDK({
      resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: env['OTEL_SERVICE_NAME'] ?? serviceName, [ATTR_SERVICE_VERSION]: version }),
    });
    sdk.start();
    return { enabled: true, disabledReason: undefined, shutdown: () => sdk.shutdown() };
  } catch (err) {
    return off(`OpenTelemetry failed to start: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The tracer every component of the product uses (the instrumentation scope is the product). */
export function productTracer(): Tracer {
  return trace.getTracer('kv-router');
}

/**
 * Runs `fn` inside an active span named `name`: records an exception and sets ERROR status when
 * `fn` throws or rejects, and always ends the span.
 */
export async function inSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>, tracer = productTracer()): Promise<T> {
  return tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err instanceof Error ? err : new Error(String(err)));
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      throw err;
    } finally {
      span.end();
    }
  });
}
