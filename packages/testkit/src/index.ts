/**
 * The conformance suite every bcc adapter runs, ours and third parties', and the fault suite for
 * adapters of network stores (their server killed and started again). It receives the test
 * runner's functions and a factory, so it works with vitest (and any runner of the same shape):
 *
 * ```ts
 * import { afterAll, beforeAll, describe, expect, it } from 'vitest';
 * import { runConformanceSuite } from '@bcc/testkit';
 * import { MyBytecodeCache } from '../src/index.js';
 *
 * runConformanceSuite({ describe, it, expect, beforeAll, afterAll }, {
 *   name: 'my-store',
 *   create: ({ namespace, options }) => new MyBytecodeCache({ prefix: `${namespace}/`, ...options }),
 * });
 * ```
 */

export { AsyncOnlyMemoryCache } from './async-memory.js';
export { type EngineHandle, type EngineTarget, runEngineSuite } from './engines.js';
export { runFaultSuite } from './faults.js';
export { makeCode, testEnvironment } from './fixtures.js';
export { runConformanceSuite } from './suite.js';
export type {
  ConformanceFeatures,
  ConformanceTarget,
  CreateContext,
  FaultFeatures,
  FaultServer,
  FaultTarget,
  TestApi,
} from './types.js';
export { hitsResume, settles } from './waits.js';
