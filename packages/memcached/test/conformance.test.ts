import { runConformanceSuite } from '@bcc/testkit';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MemcachedBytecodeCache } from '../src/index.js';

const servers = inject('memcachedServers');

runConformanceSuite(
  { describe, it, expect, beforeAll, afterAll },
  {
    name: 'memcached',
    create: ({ namespace, options }) =>
      new MemcachedBytecodeCache({ servers, prefix: `t/${namespace}/`, ...options }),
    // Port 1 on loopback: nothing listens, so connecting is refused at once.
    createUnreachable: ({ options }) =>
      new MemcachedBytecodeCache({ servers: '127.0.0.1:1', timeout: 200, ...options }),
    // clear() works through the namespace version, and leaves other prefixes alone.
    features: { clear: true, isolation: true, sync: false },
  },
);
