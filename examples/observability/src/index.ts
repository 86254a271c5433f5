export { type Finished, onFinished } from './finished.js';
export { instrumentBcc } from './otel.js';
export { bccMetrics } from './prometheus.js';
