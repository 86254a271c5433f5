import { runConformanceSuite } from '@bcc/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KvBytecodeCache, type KvClient, mapClient } from '../src/index.js';

const shared = mapClient();
const refused = (): Promise<never> =>
  Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
const deadClient: KvClient = { get: refused, set: refused, delete: refused, keys: refused };

runConformanceSuite(
  { describe, it, expect, beforeAll, afterAll },
  {
    name: 'kv (custom adapter example)',
    create: ({ namespace, options }) =>
      new KvBytecodeCache({ client: shared, prefix: `${namespace}/`, ...options }),
    createUnreachable: ({ options }) => new KvBytecodeCache({ client: deadClient, ...options }),
    features: { clear: true, isolation: true, sync: false },
  },
);
