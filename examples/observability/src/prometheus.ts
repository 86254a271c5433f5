import { Counter, Histogram, type Registry } from 'prom-client';
import { onFinished } from './finished.js';

/**
 * Prometheus metrics of bcc in a prom-client registry: `bcc_loads_total{outcome,store}`,
 * `bcc_rejections_total{reason}`, `bcc_compiles_total`, `bcc_stored_bytes_total{store}` and
 * `bcc_operation_duration_seconds{operation}`. Returns a function that stops collecting.
 *
 * ```js
 * import { register } from 'prom-client';
 * bccMetrics(register); // then serve `await register.metrics()` at /metrics
 * ```
 */
export function bccMetrics(registry: Registry): () => void {
  const registers = [registry];
  const loads = new Counter({
    name: 'bcc_loads_total',
    help: 'Entries looked up',
    labelNames: ['outcome', 'store'],
    registers,
  });
  const rejections = new Counter({
    name: 'bcc_rejections_total',
    help: 'Entries refused, by rule',
    labelNames: ['reason'],
    registers,
  });
  const compiles = new Counter({
    name: 'bcc_compiles_total',
    help: 'Templates the engine compiled (misses)',
    registers,
  });
  const stored = new Counter({
    name: 'bcc_stored_bytes_total',
    help: 'Entry bytes written',
    labelNames: ['store'],
    registers,
  });
  const duration = new Histogram({
    name: 'bcc_operation_duration_seconds',
    help: 'Duration of bcc loads, compiles and stores',
    labelNames: ['operation'],
    buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5],
    registers,
  });
  return onFinished((finished) => {
    duration.observe({ operation: finished.operation }, finished.ms / 1000);
    if (finished.operation === 'load') {
      loads.inc({ outcome: finished.context.outcome ?? 'error', store: finished.context.store });
      if (finished.context.reason) rejections.inc({ reason: finished.context.reason });
    } else if (finished.operation === 'compile') {
      compiles.inc();
    } else if (finished.context.stored) {
      stored.inc({ store: finished.context.store }, finished.context.bytes);
    }
  });
}
