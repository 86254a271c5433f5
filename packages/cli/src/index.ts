export { EXIT, UsageError } from './errors.js';
export { type MainStreams, main } from './main.js';
