import { type AddressInfo, createServer, type Socket } from 'node:net';
import { type BccBackendError, isBccError } from '@bcc/core';
import { startMemcached, type TestServer } from '@bcc/test-servers';
import { makeCode, testEnvironment } from '@bcc/testkit';
import memjs from 'memjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemcachedBytecodeCache } from '../src/index.js';

// These tests kill and restart memcached processes of their own, so they never use BCC_TEST_MEMCACHED.
const env = testEnvironment('memcached-faults');
let first: TestServer;
let second: TestServer;
const running = new Map<TestServer, boolean>();
const caches: MemcachedBytecodeCache[] = [];

beforeAll(async () => {
  [first, second] = await Promise.all([startMemcached(), startMemcached()]);
  running.set(first, true).set(second, true);
});

afterAll(async () => {
  for (const cache of caches) await cache.close();
  await Promise.all([first.stop(), second.stop()]);
});

async function kill(server: TestServer) {
  await server.kill();
  running.set(server, false);
}

async function ensureRunning(server: TestServer) {
  if (running.get(server)) return;
  await server.start();
  running.set(server, true);
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

function make(options: ConstructorParameters<typeof MemcachedBytecodeCache>[0]) {
  const cache = new MemcachedBytecodeCache(options);
  caches.push(cache);
  return cache;
}

const load = (cache: MemcachedBytecodeCache, name: string) => cache.getBucket(env, name, null, 'src');

async function write(cache: MemcachedBytecodeCache, name: string) {
  const bucket = cache.createBucket(env, name, null, 'src');
  bucket.code = makeCode(name);
  await cache.setBucket(bucket);
}

async function hitsResume(cache: MemcachedBytecodeCache, name: string, ms = 10_000): Promise<boolean> {
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

describe('memcached killed mid-run', () => {
  it('turns loads into misses and writes into skipped writes, then hits resume once it is back', async () => {
    await ensureRunning(first);
    const errors: Error[] = [];
    const cache = make({ servers: first.url, prefix: 'kill/', onError: (e) => errors.push(e) });
    await write(cache, 'page.html');
    expect((await load(cache, 'page.html')).code).not.toBeNull();

    const traffic = Array.from({ length: 40 }, (_, i) =>
      i % 2 ? load(cache, `t${i % 5}.html`).then(() => undefined) : write(cache, `t${i % 5}.html`),
    );
    await kill(first);
    await settles(Promise.all(traffic));

    expect((await settles(load(cache, 'page.html'))).code).toBeNull();
    await expect(settles(write(cache, 'page.html'))).resolves.toBeUndefined();
    await settles(cache.loadBuckets([cache.createBucket(env, 'page.html', null, 'src')]));
    expect(errors.length).toBeGreaterThanOrEqual(3);
    expect(errors.every((e) => isBccError(e) && e.code === 'ERR_BCC_BACKEND')).toBe(true);
    expect(cache.stats.writeFailures).toBeGreaterThanOrEqual(1);

    await ensureRunning(first);
    expect(await hitsResume(cache, 'page.html')).toBe(true);
  });

  it('rejects with a BccBackendError carrying the cause when ignoreErrors is false', async () => {
    await ensureRunning(first);
    const cache = make({ servers: first.url, prefix: 'strict/', ignoreErrors: false });
    await write(cache, 'page.html');
    await kill(first);
    const error = await settles(
      load(cache, 'page.html').then(
        () => null,
        (e: unknown) => e,
      ),
    );
    expect(isBccError(error) && error.code).toBe('ERR_BCC_BACKEND');
    expect((error as BccBackendError).backend).toBe('memcached');
    expect((error as Error).cause).toBeInstanceOf(Error);
    await expect(settles(write(cache, 'page.html'))).rejects.toMatchObject({
      code: 'ERR_BCC_BACKEND',
      operation: 'dump',
    });
    await expect(settles(cache.clear())).rejects.toMatchObject({
      code: 'ERR_BCC_BACKEND',
      operation: 'clear',
    });
    await ensureRunning(first);
    expect(await hitsResume(cache, 'page.html')).toBe(true);
  });
});

describe('two memcached servers, one stopped mid-run', () => {
  it("misses only the stopped server's keys, without hanging, and hits again when it returns", async () => {
    await Promise.all([ensureRunning(first), ensureRunning(second)]);
    const direct = [first, second].map((s) => memjs.Client.create(s.url, { logger: { log: () => {} } }));
    // Put the namespace key on the server that dies, the harder case: the cache must keep
    // using the version it knows (namespaceRefresh 0 makes it try to re-read it on every call).
    let cache: MemcachedBytecodeCache | undefined;
    for (let i = 0; !cache; i++) {
      const candidate = make({ servers: [first.url, second.url], prefix: `pair${i}/`, namespaceRefresh: 0 });
      await candidate.keyFor('probe');
      if ((await direct[1]!.get(`pair${i}/ns`)).value) cache = candidate;
    }
    const names = Array.from({ length: 30 }, (_, i) => `p${i}.html`);
    for (const name of names) await write(cache, name);

    // Find where each entry lives by asking each server on its own.
    const onSecond = new Set<string>();
    for (const name of names) {
      const key = await cache.keyFor(cache.getCacheKey(name, null, env.fingerprint));
      const [a, b] = await Promise.all([direct[0]!.get(key), direct[1]!.get(key)]);
      expect(Boolean(a.value) !== Boolean(b.value)).toBe(true);
      if (b.value) onSecond.add(name);
    }
    for (const c of direct) c.close();
    expect(onSecond.size).toBeGreaterThan(0);
    expect(onSecond.size).toBeLessThan(names.length);

    await kill(second);
    const loaded = await settles(Promise.all(names.map((name) => load(cache, name))), 5000);
    for (const [i, bucket] of loaded.entries()) {
      expect(bucket.code === null, names[i]).toBe(onSecond.has(names[i]!));
    }
    const batch = names.map((name) => cache.createBucket(env, name, null, 'src'));
    await settles(cache.loadBuckets(batch), 5000);
    for (const [i, bucket] of batch.entries()) expect(bucket.code === null).toBe(onSecond.has(names[i]!));
    await settles(Promise.all(names.map((name) => write(cache, name))), 5000);

    await ensureRunning(second);
    const back = [...onSecond][0]!;
    expect(await hitsResume(cache, back)).toBe(true);
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
    const cache = make({ servers: `127.0.0.1:${port}`, timeout: 300, onError: (e) => silentErrors.push(e) });
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
