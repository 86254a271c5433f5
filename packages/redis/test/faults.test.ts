import type { BytecodeCache } from '@bcc/core';
import { startRedis, type TestServer } from '@bcc/test-servers';
import { hitsResume, makeCode, runFaultSuite, settles, testEnvironment } from '@bcc/testkit';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisBytecodeCache } from '../src/index.js';

// These tests kill and restart a redis-server of their own, so they never use BCC_TEST_REDIS_URL.
const env = testEnvironment('redis-faults');
let server: TestServer;
let running = false;
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  server = await startRedis();
  running = true;
});

afterEach(async () => {
  if (!running) {
    await server.start();
    running = true;
  }
});

afterAll(async () => {
  for (const close of closers) await close().catch(() => {});
  await server.stop();
});

// The server is started in beforeAll, so the suite gets a handle that looks it up when called.
const handle = {
  kill: async () => {
    running = false;
    await server.kill();
  },
  start: async () => {
    await server.start();
    running = true;
  },
};

// A 3 s hang bound: the adapter's own timeouts are well under a second.
runFaultSuite(
  { describe, it, expect, beforeAll, afterAll },
  {
    name: 'redis, with a client the cache made',
    server: handle,
    create: ({ namespace, options }) =>
      new RedisBytecodeCache({ url: server.url, prefix: `faults/${namespace}/`, ...options }),
    createSilent: ({ port, options }) =>
      new RedisBytecodeCache({ url: `redis://127.0.0.1:${port}`, commandTimeout: 300, ...options }),
    backend: 'redis',
    hangTimeout: 3000,
  },
);

runFaultSuite(
  { describe, it, expect, beforeAll, afterAll },
  {
    name: 'redis, with a client with ioredis defaults (offline queue, 20 retries)',
    server: handle,
    create: ({ namespace, options }) => {
      const client = new Redis(server.url);
      client.on('error', () => {});
      closers.push(async () => client.disconnect());
      return new RedisBytecodeCache({
        client,
        prefix: `faults/${namespace}/`,
        commandTimeout: 300,
        ...options,
      });
    },
    backend: 'redis',
    hangTimeout: 3000,
  },
);

const load = (cache: BytecodeCache, name: string) => cache.getBucket(env, name, null, 'src');

async function write(cache: BytecodeCache, name: string) {
  const bucket = cache.createBucket(env, name, null, 'src');
  bucket.code = makeCode(name);
  await cache.setBucket(bucket);
}

describe('a Redis that is down when the cache is made', () => {
  it('misses until it comes up, then hits without recreating the cache', async () => {
    await handle.kill();
    const reported: Error[] = [];
    const cache = new RedisBytecodeCache({ url: server.url, onError: (e) => reported.push(e) });
    closers.push(() => cache.close());
    expect((await settles(load(cache, 'late.html'), 3000)).code).toBeNull();
    // The error says why there is no connection, not only that commands are refused.
    expect(reported[0]?.message).toMatch(/not connected to Redis \(connect ECONNREFUSED/);
    await settles(write(cache, 'late.html'), 3000);
    await handle.start();
    expect(await hitsResume(cache, 'late.html', { environment: env })).toBe(true);
  });
});
