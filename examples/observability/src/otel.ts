import { type Attributes, type Meter, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import { type Finished, onFinished } from './finished.js';

/** The attributes of a finished operation: template, store, outcome, bytes. */
function attributesOf(finished: Finished): Attributes {
  const attributes: Attributes = { 'bcc.template': finished.context.name };
  if (finished.operation === 'compile') {
    attributes['bcc.engine'] = finished.context.engine;
    if (finished.context.jsLength !== undefined) attributes['bcc.js_length'] = finished.context.jsLength;
    return attributes;
  }
  attributes['bcc.store'] = finished.context.store;
  if (finished.operation === 'load') {
    if (finished.context.outcome) attributes['bcc.outcome'] = finished.context.outcome;
    if (finished.context.reason) attributes['bcc.reject_reason'] = finished.context.reason;
    if (finished.context.bytes !== undefined) attributes['bcc.bytes'] = finished.context.bytes;
  } else {
    attributes['bcc.bytes'] = finished.context.bytes;
    attributes['bcc.stored'] = finished.context.stored ?? false;
  }
  return attributes;
}

/**
 * OpenTelemetry spans (`bcc.load`, `bcc.compile`, `bcc.store`) and metrics (`bcc.operations`
 * counted by operation and outcome, `bcc.operation.duration` in ms, `bcc.bytes` read and
 * written) from bcc's tracing channels. Returns a function that stops it.
 *
 * ```js
 * import { trace, metrics } from '@opentelemetry/api';
 * instrumentBcc({ tracer: trace.getTracer('bcc'), meter: metrics.getMeter('bcc') });
 * ```
 */
export function instrumentBcc({ tracer, meter }: { tracer: Tracer; meter: Meter }): () => void {
  const operations = meter.createCounter('bcc.operations', { description: 'bcc loads, compiles and stores' });
  const duration = meter.createHistogram('bcc.operation.duration', { unit: 'ms' });
  const bytes = meter.createCounter('bcc.bytes', { unit: 'By', description: 'entry bytes read and written' });
  return onFinished((finished) => {
    const attributes = attributesOf(finished);
    const span = tracer.startSpan(`bcc.${finished.operation}`, { startTime: finished.started, attributes });
    if (finished.error !== undefined) {
      span.recordException(finished.error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end(finished.started + finished.ms);
    const outcome =
      finished.operation === 'load'
        ? (finished.context.outcome ?? 'error')
        : finished.operation === 'store'
          ? finished.context.stored
            ? 'stored'
            : 'skipped'
          : finished.error === undefined
            ? 'compiled'
            : 'failed';
    operations.add(1, { 'bcc.operation': finished.operation, 'bcc.outcome': outcome });
    duration.record(finished.ms, { 'bcc.operation': finished.operation });
    if (finished.operation !== 'compile' && finished.context.bytes) {
      bytes.add(finished.context.bytes, {
        'bcc.direction': finished.operation === 'load' ? 'read' : 'written',
      });
    }
  });
}
