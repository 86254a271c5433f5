// bcc's Redis adapter with a client the user made with ioredis 5 (the adapter itself depends on
// ioredis 6): it must type-check and pass the conformance suite against a real redis-server.
import { runConformanceSuite } from '@bcc/testkit';
import { Redis as Redis5 } from 'ioredis5';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RedisBytecodeCache } from '../src/index.js';

const url = inject('redisUrl');
const clients: Redis5[] = [];
afterAll(async () => {
  for (const client of clients) client.disconnect();
});

function v5client(): Redis5 {
  const client = new Redis5(url, { commandTimeout: 500 });
  clients.push(client);
  return client;
}

runConformanceSuite(
  { describe, it, expect, beforeAll, afterAll },
  {
    name: 'redis (a client made with ioredis 5)',
    create: ({ namespace, options }) =>
      new RedisBytecodeCache({ client: v5client(), prefix: `io5/${namespace}/`, ...options }),
  },
);
