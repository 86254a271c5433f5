import { runConformanceSuite } from '@bcc/testkit';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RedisBytecodeCache } from '../src/index.js';

const url = inject('redisUrl');

runConformanceSuite(
  { describe, it, expect, beforeAll, afterAll },
  {
    name: 'redis (single node)',
    create: ({ namespace, options }) =>
      new RedisBytecodeCache({ url, prefix: `t/${namespace}/`, ...options }),
    // Port 1 on loopback: nothing listens, so connecting is refused at once.
    createUnreachable: ({ options }) =>
      new RedisBytecodeCache({ url: 'redis://127.0.0.1:1', commandTimeout: 200, ...options }),
    features: { clear: true, isolation: true, sync: false },
  },
);
