/**
 * The conformance suite every bcc adapter runs, ours and third parties'. It receives the test
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

export { makeCode, testEnvironment } from './fixtures.js';
export { runConformanceSuite } from './suite.js';
export type { ConformanceFeatures, ConformanceTarget, CreateContext, TestApi } from './types.js';
