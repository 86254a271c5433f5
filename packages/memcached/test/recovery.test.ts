// A sick memcached: killed in the middle of a large reply, or holding a value far larger than any
// entry at a bcc key. The same cache instance must keep working: a bounded miss, then hits again.
import { startMemcached, startProxy, type TestProxy, type TestServer } from '@bcc/test-servers';
import { settles, testEnvironment } from '@bcc/testkit';
import memjs from 'memjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemcachedBytecodeCache } from '../src/index.js';

const env = testEnvironment('memcached-recovery');
const MIB = 1024 * 1024;
let server: TestServer;
let proxy: TestProxy;
const caches: MemcachedBytecodeCache[] = [];

beforeAll(async () => {
  server = await startMemcached({ itemSize: '64m', memoryMb: 256 });
  proxy = await startProxy(server.port);
});

afterAll(async () => {
  for (const cache of caches) await cache.close();
  await proxy.close();
  await server.stop();
});

function make(options: ConstructorParameters<typeof MemcachedBytecodeCache>[0] = {}) {
  const cache = new MemcachedBytecodeCache({ servers: `127.0.0.1:${proxy.port}`, timeout: 500, ...options });
  caches.push(cache);
  return cache;
}

/** A JavaScript entry of about `bytes` bytes that does not compress to nothing. */
function bigCode(bytes: number, round: number) {
  const line = `/* ${round} */ out.push(ctx.lookup("item_${round}") + "<li>row</li>");\n`;
  return { js: `(function(ctx, out){\n${line.repeat(Math.ceil(bytes / line.length))}})` };
}

async function write(cache: MemcachedBytecodeCache, name: string, code: { js: string }) {
  const bucket = cache.createBucket(env, name, null, 'src');
  bucket.code = code;
  await cache.setBucket(bucket);
}

const load = (cache: MemcachedBytecodeCache, name: string) => cache.getBucket(env, name, null, 'src');

/** Writes and reads `name` until it hits, for at most `ms`; true when it did. */
async function hitsWithin(cache: MemcachedBytecodeCache, name: string, code: { js: string }, ms: number) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    await write(cache, name, code);
    if ((await load(cache, name)).code?.js === code.js) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

describe('memcached killed in the middle of a large reply', () => {
  it('the same cache instance hits again after every restart (8 rounds, 256 KB–1 MB entries)', async () => {
    const cache = make({ maxItemSize: 2 * MIB });
    for (let round = 0; round < 8; round++) {
      const code = bigCode(256 * 1024 + round * 100 * 1024, round);
      expect(await hitsWithin(cache, 'big.html', code, 3000), `before round ${round}`).toBe(true);
      // The next reply is cut after 40–110 KB, and the server dies right then.
      const cut = proxy.cutNextReply({ after: 40_000 + round * 10_000, onCut: () => server.kill() });
      const missed = await settles(load(cache, 'big.html'), 3000);
      expect(missed.code).toBeNull();
      await cut;
      await server.start();
      expect(await hitsWithin(cache, 'big.html', code, 5000), `after round ${round}`).toBe(true);
    }
    expect(cache.recoveries).toBeGreaterThan(0);
  }, 60_000);
});

describe('a value far larger than any entry at a bcc key', () => {
  it('costs one bounded miss per read, and other keys keep hitting meanwhile', async () => {
    const errors: Error[] = [];
    const cache = make({ maxItemSize: MIB, onError: (error) => errors.push(error) });
    const small = bigCode(2000, 1);
    await write(cache, 'small.html', small);
    // Plant 48 MB at the key of big.html, as an older deploy or an attacker could.
    const planter = memjs.Client.create(server.url, { logger: { log: () => {} } });
    const key = await cache.keyFor(cache.getCacheKey('big.html', null, env.fingerprint));
    await planter.set(key, Buffer.alloc(48 * MIB, 7), {});
    planter.close();
    for (let i = 0; i < 3; i++) {
      const [big, other] = await settles(
        Promise.all([load(cache, 'big.html'), load(cache, 'small.html')]),
        3000,
      );
      expect(big.code).toBeNull();
      // The small entry may share the dropped connection once; on its own it hits.
      if (other.code === null) expect((await load(cache, 'small.html')).code?.js).toBe(small.js);
    }
    expect(cache.oversizedReplies).toBe(3);
    expect(errors.some((e) => /announced 50331652 bytes, more than maxItemSize/.test(e.message))).toBe(true);
    expect(errors.every((e) => (e as { code?: string }).code === 'ERR_BCC_ENTRY_TOO_LARGE')).toBe(true);
    expect((await load(cache, 'small.html')).code?.js).toBe(small.js);
  }, 30_000);
});

describe('one deadline per operation', () => {
  it('a getBucket over a slow link settles within one timeout, not one per network call', async () => {
    // 120 ms each way: a fresh cache needs three round trips (namespace GET, ADD, entry GET).
    const slow = await startProxy(server.port, { delayMs: 120 });
    try {
      const cache = make({ servers: `127.0.0.1:${slow.port}`, timeout: 500, prefix: 'slow/' });
      const started = performance.now();
      const bucket = await settles(load(cache, 'x.html'), 5000);
      const elapsed = performance.now() - started;
      expect(bucket.code).toBeNull();
      expect(cache.stats.errors).toBe(1);
      // Each call bounded on its own, the three took ~720 ms and the load "succeeded" late.
      expect(elapsed).toBeLessThan(650);
    } finally {
      await slow.close();
    }
  });
});
