import { startMemcached, type TestServer } from '@bcc/test-servers';
import { hitsResume, makeCode, runFaultSuite, settles, testEnvironment } from '@bcc/testkit';
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

// The servers are started in beforeAll, so the suite gets a handle that looks `first` up when called.
// A 3 s hang bound: the adapter's own timeouts are well under a second.
runFaultSuite(
  { describe, it, expect, beforeAll, afterAll },
  {
    name: 'memcached',
    server: { kill: () => kill(first), start: () => ensureRunning(first) },
    create: ({ namespace, options }) =>
      make({ servers: first.url, prefix: `faults/${namespace}/`, ...options }),
    createSilent: ({ port, options }) => make({ servers: `127.0.0.1:${port}`, timeout: 300, ...options }),
    backend: 'memcached',
    hangTimeout: 3000,
  },
);

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
    expect(await hitsResume(cache, back, { environment: env })).toBe(true);
  });
});
