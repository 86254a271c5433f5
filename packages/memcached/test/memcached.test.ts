import { Socket } from 'node:net';
import { BccEntryTooLargeError, type Bucket, isBccError } from '@bcc/core';
import { makeCode, runConformanceSuite, testEnvironment } from '@bcc/testkit';
import memjs from 'memjs';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { MemcachedBytecodeCache, type MinimalMemcachedClient } from '../src/index.js';

const servers = inject('memcachedServers');
const env = testEnvironment('memcached-test');
const run = `${process.pid}-${Date.now().toString(36)}`;
const caches: MemcachedBytecodeCache[] = [];
let raw: memjs.Client;

function cache(
  options: ConstructorParameters<typeof MemcachedBytecodeCache>[0] = {},
): MemcachedBytecodeCache {
  const made = new MemcachedBytecodeCache(options.client ? options : { servers, ...options });
  caches.push(made);
  return made;
}

async function store(target: MemcachedBytecodeCache, name: string, bytes = 2000): Promise<Bucket> {
  const bucket = target.createBucket(env, name, null, 'src');
  bucket.code = makeCode(name, bytes);
  await target.setBucket(bucket);
  return bucket;
}

const load = (target: MemcachedBytecodeCache, name: string) => target.getBucket(env, name, null, 'src');

/** Sends one text-protocol line to the first server and returns its one-line answer. */
function ask(line: string): Promise<string> {
  const [host, port] = servers.split(',')[0]!.split(':');
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let reply = '';
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) {
        socket.destroy();
        resolve(reply.split('\r\n')[0]!);
      }
    });
    socket.connect(Number(port), host!, () => socket.write(`${line}\r\n`));
  });
}

/** The smallest client the cache accepts, over memjs: get resolves to bytes, set takes { expires }. */
function minimalClient(): MinimalMemcachedClient {
  return {
    get: async (key) => (await raw.get(key)).value,
    set: (key, value, { expires }) => raw.set(key, value, { expires: expires ?? 0 }),
  };
}

beforeAll(() => {
  raw = memjs.Client.create(servers, { logger: { log: () => {} } });
});

afterAll(async () => {
  for (const c of caches) await c.close();
  raw.close();
});

runConformanceSuite(
  { describe, it, expect, beforeAll, afterAll },
  {
    name: 'memcached through a minimal get/set client',
    create: ({ namespace, options }) =>
      cache({ client: minimalClient(), prefix: `min/${namespace}/`, ...options }),
    features: { clear: true, isolation: true, sync: false },
  },
);

describe('MemcachedBytecodeCache', () => {
  it('stores the entry as raw binary: every byte value survives, and the stored value is the frame', async () => {
    const c = cache({ prefix: `bin-${run}/` });
    const bucket = c.createBucket(env, 'bytes.html', null, 'src');
    const v8 = new Uint8Array(256 * 4);
    for (let i = 0; i < v8.length; i++) v8[i] = i % 256;
    bucket.code = { js: 'ü\u0000✓ "\\\r\n', v8 };
    await c.setBucket(bucket);
    const { value } = await raw.get(await c.keyFor(bucket.key));
    expect(value && Buffer.from(bucket.bytecodeToBytes()).equals(value)).toBe(true);
    const loaded = await load(c, 'bytes.html');
    expect(loaded.code?.js).toBe('ü\u0000✓ "\\\r\n');
    expect(Buffer.from(loaded.code!.v8!).equals(Buffer.from(v8))).toBe(true);
  });

  it('gives entries the time to live, and none without ttl', async () => {
    const withTtl = cache({ prefix: `ttl-${run}/`, ttl: 60 });
    const without = cache({ prefix: `nottl-${run}/` });
    const a = await store(withTtl, 'a.html');
    const b = await store(without, 'b.html');
    // Meta get with the `t` flag answers "HD t<seconds left>" (-1: never expires).
    const left = Number((await ask(`mg ${await withTtl.keyFor(a.key)} t`)).match(/ t(-?\d+)/)?.[1]);
    expect(left).toBeGreaterThan(50);
    expect(left).toBeLessThanOrEqual(60);
    expect(await ask(`mg ${await without.keyFor(b.key)} t`)).toMatch(/ t-1\b/);
  });

  it('skips an entry over the item size and reports it, never throwing, even with ignoreErrors: false', async () => {
    const errors: Error[] = [];
    const c = cache({ prefix: `big-${run}/`, ignoreErrors: false, onError: (e) => errors.push(e) });
    const bucket = c.createBucket(env, 'huge.html', null, 'src');
    bucket.code = makeCode('huge', 1_200_000);
    await expect(c.setBucket(bucket)).resolves.toBe(false);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(BccEntryTooLargeError);
    expect(errors[0]).toMatchObject({ code: 'ERR_BCC_ENTRY_TOO_LARGE', limit: 1024 * 1024 });
    expect(c.stats.writeFailures).toBe(1);
    expect((await load(c, 'huge.html')).code).toBeNull();
    // The connection is still fine afterwards.
    await store(c, 'small.html');
    expect((await load(c, 'small.html')).code).not.toBeNull();
  });

  it("maps the server's own 'too large' refusal (maxItemSize above the server's -I) to the same skipped write", async () => {
    const errors: Error[] = [];
    const c = cache({ prefix: `big2-${run}/`, maxItemSize: 4 * 1024 * 1024, onError: (e) => errors.push(e) });
    const bucket = c.createBucket(env, 'huge.html', null, 'src');
    bucket.code = makeCode('huge', 2_000_000);
    await expect(c.setBucket(bucket)).resolves.toBe(false);
    expect(errors.map((e) => isBccError(e) && e.code)).toEqual(['ERR_BCC_ENTRY_TOO_LARGE']);
    await store(c, 'after.html');
    expect((await load(c, 'after.html')).code).not.toBeNull();
  });

  it('never sends a key over 250 bytes: long or unsafe keys are hashed, long prefixes are refused', async () => {
    class LongKeys extends MemcachedBytecodeCache {
      override getCacheKey(name: string): string {
        return `a very long key with spaces ${name} `.repeat(20);
      }
    }
    const c = new LongKeys({ servers, prefix: `long-${run}/` });
    caches.push(c);
    const bucket = c.createBucket(env, 'x.html', null, 'src');
    expect(bucket.key.length).toBeGreaterThan(250);
    bucket.code = makeCode('x');
    await c.setBucket(bucket);
    expect((await c.keyFor(bucket.key)).length).toBeLessThanOrEqual(250);
    expect((await c.getBucket(env, 'x.html', null, 'src')).code?.js).toBe(makeCode('x').js);
    expect(c.stats.errors).toBe(0);

    for (const prefix of ['p'.repeat(200), 'with space/', 'tab\t/', '']) {
      expect(() => new MemcachedBytecodeCache({ servers, prefix })).toThrow(
        expect.objectContaining({ code: 'ERR_BCC_CONFIG' }),
      );
    }
    // The longest accepted prefix still yields keys within the limit.
    const edge = cache({ prefix: 'é'.repeat(84) });
    const stored = await store(edge, 'edge.html');
    expect(Buffer.byteLength(await edge.keyFor(stored.key))).toBeLessThanOrEqual(250);
    expect((await load(edge, 'edge.html')).code).not.toBeNull();
  });

  it('clear() reaches other processes within namespaceRefresh, and a lost namespace key is a miss, not an error', async () => {
    const prefix = `ns-${run}/`;
    const a = cache({ prefix });
    const b = cache({ prefix, namespaceRefresh: 0 });
    await store(a, 'page.html');
    expect((await load(b, 'page.html')).code).not.toBeNull();
    await a.clear();
    expect((await load(a, 'page.html')).code).toBeNull();
    let seen = true;
    for (let i = 0; i < 50 && seen; i++) {
      seen = (await load(b, 'page.html')).code !== null;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(seen).toBe(false);

    await store(b, 'page.html');
    await raw.delete(`${prefix}ns`);
    const fresh = cache({ prefix });
    expect((await load(fresh, 'page.html')).code).toBeNull();
    expect(fresh.stats.errors).toBe(0);
    await store(fresh, 'page.html');
    expect((await load(fresh, 'page.html')).code).not.toBeNull();
  });

  it('a namespace version read before clear() does not replace the one clear() wrote', async () => {
    let slowNamespace = false;
    // Reads go to memcached at once; only the answer for the namespace key is held back.
    const client: MinimalMemcachedClient = {
      get: async (key) => {
        const { value } = await raw.get(key);
        if (slowNamespace && key.endsWith('/ns')) await new Promise((r) => setTimeout(r, 50));
        return value;
      },
      set: (key, value, { expires }) => raw.set(key, value, { expires: expires ?? 0 }),
    };
    const c = cache({ client, prefix: `gen-${run}/`, namespaceRefresh: 0 });
    await store(c, 'page.html');
    slowNamespace = true;
    // This load starts a background read of the version, which answers after clear() is done.
    expect((await load(c, 'page.html')).code).not.toBeNull();
    await c.clear();
    await new Promise((r) => setTimeout(r, 100));
    slowNamespace = false;
    expect((await load(c, 'page.html')).code).toBeNull();
  });

  it('caches started together agree on one namespace version', async () => {
    const prefix = `race-${run}/`;
    const many = Array.from({ length: 6 }, () => cache({ prefix }));
    const keys = await Promise.all(many.map((c) => c.keyFor('k')));
    expect(new Set(keys).size).toBe(1);
  });

  it("routes memjs' log lines to onError, once per failure, and never to the console", async () => {
    const consoleLog = vi.spyOn(console, 'log');
    try {
      const errors: Error[] = [];
      const dead = cache({
        servers: '127.0.0.1:1',
        timeout: 200,
        breaker: false,
        onError: (e) => errors.push(e),
      });
      expect((await load(dead, 'page.html')).code).toBeNull();
      await store(dead, 'page.html');
      await new Promise((r) => setImmediate(r));
      expect(errors).toHaveLength(2);
      // With failover a failed server's request moves on and succeeds: only the log line tells.
      const failoverErrors: Error[] = [];
      const failover = cache({
        servers: `127.0.0.1:1,${servers.split(',')[0]}`,
        prefix: `fo-${run}/`,
        options: { failover: true },
        onError: (e) => failoverErrors.push(e),
      });
      for (let i = 0; i < 10; i++) await store(failover, `f${i}.html`);
      await new Promise((r) => setImmediate(r));
      expect(failoverErrors.length).toBeGreaterThan(0);
      expect(failoverErrors.every((e) => isBccError(e) && /memcached: MemJS/.test(e.message))).toBe(true);
      expect(consoleLog).not.toHaveBeenCalled();
    } finally {
      consoleLog.mockRestore();
    }
  });

  it('close() closes a client it made and leaves a client it was given open', async () => {
    const given = memjs.Client.create(servers);
    const borrowed = new MemcachedBytecodeCache({ client: given, prefix: `close-${run}/` });
    await store(borrowed, 'x.html');
    await borrowed.close();
    expect(await given.set(`close-${run}/probe`, 'x', {})).toBe(true);
    given.close();
  });

  it('refuses bad options with a BccConfigError', () => {
    const bad = [
      { servers, ttl: -1 },
      { servers, maxItemSize: 10 },
      { servers, timeout: 0 },
      { servers, namespaceRefresh: -5 },
      { client: minimalClient(), servers },
      { client: {} as MinimalMemcachedClient },
    ];
    for (const options of bad) {
      expect(() => new MemcachedBytecodeCache(options)).toThrow(
        expect.objectContaining({ code: 'ERR_BCC_CONFIG' }),
      );
    }
  });
});

describe('options are checked when the cache is made', () => {
  it.each([
    [{ ttl: 1e300 }, /ttl must be a number of seconds from 1/],
    [{ timeout: 2 ** 31 }, /timeout must be a number of milliseconds from 1 to 2147483647/],
    [{ timeout: 0 }, /timeout must be/],
    [{ servers: [] }, /servers must name at least one server/],
    [{ servers: '' }, /servers must name at least one server/],
    [{ servers: 'a:1,,b:2' }, /servers must name at least one server/],
    [{ namespaceRefresh: 2 ** 31 }, /namespaceRefresh must be/],
    [{ client: { get: 1 } as never }, /client must have get/],
  ])('%j is a BccConfigError', (options, message) => {
    let thrown: unknown;
    try {
      new MemcachedBytecodeCache(options as never);
    } catch (error) {
      thrown = error;
    }
    expect((thrown as { code?: string }).code).toBe('ERR_BCC_CONFIG');
    expect((thrown as Error).message).toMatch(message);
  });
});
