import { type AddressInfo, createServer, type Socket } from 'node:net';
import { type BccBackendError, type BytecodeCache, isBccError } from '@bcc/core';
import { startRedis, type TestServer } from '@bcc/test-servers';
import { makeCode, testEnvironment } from '@bcc/testkit';
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

async function kill() {
  await server.kill();
  running = false;
}

async function restart() {
  await server.start();
  running = true;
}

/** Fails when `promise` has not settled after `ms`: a hang detector, not a speed check. */
async function settles<T>(promise: Promise<T>, ms = 3000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, hung]);
  } finally {
    clearTimeout(timer);
  }
}

const load = (cache: BytecodeCache, name: string) => cache.getBucket(env, name, null, 'src');

async function write(cache: BytecodeCache, name: string) {
  const bucket = cache.createBucket(env, name, null, 'src');
  bucket.code = makeCode(name);
  await cache.setBucket(bucket);
}

/** Writes and reads until a hit comes back, for at most `ms`; returns whether it did. */
async function hitsResume(cache: BytecodeCache, name: string, ms = 10_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    // With ignoreErrors: false the calls reject until the server answers again.
    const hit = await write(cache, name)
      .then(() => load(cache, name))
      .then(
        (b) => b.code !== null,
        () => false,
      );
    if (hit) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

const clients: [string, () => RedisBytecodeCache][] = [
  [
    'a client the cache made',
    () => new RedisBytecodeCache({ url: server.url, onError: (e) => errors.push(e) }),
  ],
  [
    'a client with ioredis defaults (offline queue, 20 retries)',
    () => {
      const client = new Redis(server.url);
      client.on('error', () => {});
      closers.push(async () => client.disconnect());
      return new RedisBytecodeCache({ client, commandTimeout: 300, onError: (e) => errors.push(e) });
    },
  ],
];
let errors: Error[] = [];

describe.each(clients)('redis-server killed mid-run, with %s', (_, make) => {
  it('turns loads into misses and writes into skipped writes, then hits resume once it is back', async () => {
    errors = [];
    const cache = make();
    closers.push(() => cache.close());
    await write(cache, 'page.html');
    expect((await load(cache, 'page.html')).code).not.toBeNull();

    // Traffic in flight while the server dies: every call must settle.
    const traffic = Array.from({ length: 40 }, (_, i) =>
      i % 2 ? load(cache, `t${i % 5}.html`).then(() => undefined) : write(cache, `t${i % 5}.html`),
    );
    await kill();
    await settles(Promise.all(traffic));

    const missed = await settles(load(cache, 'page.html'));
    expect(missed.code).toBeNull();
    await expect(settles(write(cache, 'page.html'))).resolves.toBeUndefined();
    const loaded = await settles(cache.loadBuckets([cache.createBucket(env, 'page.html', null, 'src')]));
    expect(loaded).toBeUndefined();
    expect(errors.length).toBeGreaterThanOrEqual(3);
    expect(errors.every((e) => isBccError(e) && e.code === 'ERR_BCC_BACKEND')).toBe(true);
    expect(cache.stats.writeFailures).toBeGreaterThanOrEqual(1);

    await restart();
    expect(await hitsResume(cache, 'page.html')).toBe(true);
  });
});

describe('redis-server killed, with ignoreErrors: false', () => {
  it('rejects loads and writes with a BccBackendError carrying the cause', async () => {
    const cache = new RedisBytecodeCache({ url: server.url, ignoreErrors: false });
    closers.push(() => cache.close());
    await write(cache, 'page.html');
    await kill();
    const error = await settles(
      load(cache, 'page.html').then(
        () => null,
        (e: unknown) => e,
      ),
    );
    expect(isBccError(error) && error.code).toBe('ERR_BCC_BACKEND');
    expect((error as BccBackendError).backend).toBe('redis');
    expect((error as BccBackendError).operation).toBe('load');
    expect((error as Error).cause).toBeInstanceOf(Error);
    await expect(settles(write(cache, 'page.html'))).rejects.toMatchObject({
      code: 'ERR_BCC_BACKEND',
      operation: 'dump',
    });
    await expect(settles(cache.clear())).rejects.toMatchObject({
      code: 'ERR_BCC_BACKEND',
      operation: 'clear',
    });
    await restart();
    expect(await hitsResume(cache, 'page.html')).toBe(true);
  });
});

describe('a Redis that is down when the cache is made', () => {
  it('misses until it comes up, then hits without recreating the cache', async () => {
    await kill();
    const reported: Error[] = [];
    const cache = new RedisBytecodeCache({ url: server.url, onError: (e) => reported.push(e) });
    closers.push(() => cache.close());
    expect((await settles(load(cache, 'late.html'))).code).toBeNull();
    // The error says why there is no connection, not only that commands are refused.
    expect(reported[0]?.message).toMatch(/not connected to Redis \(connect ECONNREFUSED/);
    await settles(write(cache, 'late.html'));
    await restart();
    expect(await hitsResume(cache, 'late.html')).toBe(true);
  });
});

describe('a server that accepts connections and never answers', () => {
  it('is a miss and a skipped write after the timeout, not a hang', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    const silentErrors: Error[] = [];
    const cache = new RedisBytecodeCache({
      url: `redis://127.0.0.1:${port}`,
      commandTimeout: 300,
      onError: (e) => silentErrors.push(e),
    });
    try {
      expect((await settles(cache.getBucket(env, 'page.html', null, 'src'))).code).toBeNull();
      const bucket = cache.createBucket(env, 'page.html', null, 'src');
      bucket.code = makeCode('page');
      await expect(settles(cache.setBucket(bucket))).resolves.toBeUndefined();
      await settles(cache.loadBuckets([cache.createBucket(env, 'page.html', null, 'src')]));
      expect(silentErrors.length).toBeGreaterThanOrEqual(3);
    } finally {
      await settles(cache.close()).catch(() => {});
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
