import { type Bucket, isBccError } from '@bcc/core';
import { makeCode, testEnvironment } from '@bcc/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RedisBytecodeCache } from '../src/index.js';

const url = inject('redisUrl');
const env = testEnvironment('redis-test');
const run = `${process.pid}-${Date.now().toString(36)}`;
let raw: Redis;
const caches: RedisBytecodeCache[] = [];

function cache(options: ConstructorParameters<typeof RedisBytecodeCache>[0] = {}): RedisBytecodeCache {
  const made = new RedisBytecodeCache(options.client ? options : { url, ...options });
  caches.push(made);
  return made;
}

async function store(target: RedisBytecodeCache, name: string, seed = name, bytes = 2000): Promise<Bucket> {
  const bucket = target.createBucket(env, name, null, 'src');
  bucket.code = makeCode(seed, bytes);
  await target.setBucket(bucket);
  return bucket;
}

beforeAll(() => {
  raw = new Redis(url);
});

afterAll(async () => {
  for (const c of caches) await c.close();
  await raw.quit();
});

describe('RedisBytecodeCache', () => {
  it('stores the entry as raw binary: every byte value survives, and the stored value is the frame', async () => {
    const c = cache({ prefix: `bin-${run}/` });
    const bucket = c.createBucket(env, 'bytes.html', null, 'src');
    const v8 = new Uint8Array(256 * 4);
    for (let i = 0; i < v8.length; i++) v8[i] = i % 256;
    bucket.code = { js: 'ü\u0000✓ "\\\r\n', v8 };
    await c.setBucket(bucket);
    const stored = await raw.getBuffer(c.keyFor(bucket.key));
    expect(stored && Buffer.from(bucket.bytecodeToBytes()).equals(stored)).toBe(true);
    const loaded = await c.getBucket(env, 'bytes.html', null, 'src');
    expect(loaded.code?.js).toBe('ü\u0000✓ "\\\r\n');
    expect(Buffer.from(loaded.code!.v8!).equals(Buffer.from(v8))).toBe(true);
  });

  it('sets a time to live with SET … PX when ttl is given, and none otherwise', async () => {
    const withTtl = cache({ prefix: `ttl-${run}/`, ttl: 60 });
    const without = cache({ prefix: `nottl-${run}/` });
    const a = await store(withTtl, 'a.html');
    const b = await store(without, 'b.html');
    const pttl = await raw.pttl(withTtl.keyFor(a.key));
    expect(pttl).toBeGreaterThan(50_000);
    expect(pttl).toBeLessThanOrEqual(60_000);
    expect(await raw.pttl(without.keyFor(b.key))).toBe(-1);
  });

  it('loadMany reads hundreds of entries (several MGET chunks) and leaves misses empty', async () => {
    const c = cache({ prefix: `many-${run}/` });
    for (let i = 0; i < 250; i += 2) await store(c, `m${i}.html`, `m${i}`, 300);
    const buckets = Array.from({ length: 250 }, (_, i) => c.createBucket(env, `m${i}.html`, null, 'src'));
    await c.loadBuckets(buckets);
    for (const [i, bucket] of buckets.entries()) {
      if (i % 2 === 0) expect(bucket.code?.js).toBe(makeCode(`m${i}`, 300).js);
      else expect(bucket.code).toBeNull();
    }
    expect(c.stats.hits).toBe(125);
    expect(c.stats.misses).toBe(125);
  });

  it('clear() with a client that has a keyPrefix deletes only its own keys', async () => {
    const prefixed = new Redis(url, { keyPrefix: `app-${run}:` });
    try {
      const mine = cache({ client: prefixed, prefix: 'bcc/' });
      const other = cache({ client: prefixed, prefix: 'bcc-other/' });
      const a = await store(mine, 'a.html');
      const kept = await store(other, 'a.html');
      // The keys really live under ioredis' keyPrefix.
      expect(await raw.exists(`app-${run}:bcc/${a.key}`)).toBe(1);
      // A key outside ioredis' keyPrefix that matches our prefix must survive clear().
      await raw.set(`bcc/${a.key}`, 'not ours');
      await mine.clear();
      expect(await raw.exists(`app-${run}:bcc/${a.key}`)).toBe(0);
      expect(await raw.get(`bcc/${a.key}`)).toBe('not ours');
      expect((await other.getBucket(env, 'a.html', null, 'src')).code?.js).toBe(kept.code!.js);
      await raw.del(`bcc/${a.key}`);
    } finally {
      await prefixed.quit();
    }
  });

  it('clear() treats glob characters in the prefix literally', async () => {
    const star = cache({ prefix: `glob-${run}/*/` });
    const plain = cache({ prefix: `glob-${run}/x/` });
    const bracket = cache({ prefix: `glob-${run}/[x]/` });
    await store(star, 'a.html');
    const kept = await store(plain, 'a.html');
    const keptBracket = await store(bracket, 'a.html');
    await star.clear();
    expect((await star.getBucket(env, 'a.html', null, 'src')).code).toBeNull();
    expect((await plain.getBucket(env, 'a.html', null, 'src')).code?.js).toBe(kept.code!.js);
    expect((await bracket.getBucket(env, 'a.html', null, 'src')).code?.js).toBe(keptBracket.code!.js);
  });

  it('clear() deletes more keys than one SCAN page', async () => {
    const c = cache({ prefix: `bulk-${run}/` });
    const pipeline = raw.pipeline();
    for (let i = 0; i < 1500; i++) pipeline.set(`bulk-${run}/k${i}`, 'x');
    await pipeline.exec();
    await c.clear();
    const [, left] = await raw.scan('0', 'MATCH', `bulk-${run}/*`, 'COUNT', 10_000);
    expect(left).toHaveLength(0);
  });

  it('close() leaves a client it was given open, and closes one it made', async () => {
    const given = new Redis(url);
    const borrowed = new RedisBytecodeCache({ client: given });
    await borrowed.close();
    expect(await given.ping()).toBe('PONG');
    await given.quit();
    const own = new RedisBytecodeCache({ url });
    await store(own, 'x.html');
    await own.close();
    await expect(own.client.ping()).rejects.toThrow();
  });

  it('works from the first call with a made client, also with lazyConnect', async () => {
    for (const options of [{}, { lazyConnect: true }]) {
      const errors: Error[] = [];
      const c = cache({ prefix: `first-${run}/`, options, onError: (e) => errors.push(e) });
      await store(c, 'first.html');
      expect((await c.getBucket(env, 'first.html', null, 'src')).code).not.toBeNull();
      expect(errors).toEqual([]);
    }
  });

  it('refuses bad options with a BccConfigError', () => {
    const bad: ConstructorParameters<typeof RedisBytecodeCache>[0][] = [
      { url, prefix: '' },
      { url, ttl: 0 },
      { url, ttl: Number.NaN },
      { url, commandTimeout: -1 },
      { client: raw, url },
    ];
    for (const options of bad) {
      let error: unknown;
      try {
        new RedisBytecodeCache({ ...options, options: { lazyConnect: true } }).close();
      } catch (e) {
        error = e;
      }
      expect(isBccError(error) && error.code).toBe('ERR_BCC_CONFIG');
    }
  });
});

describe('a value far larger than any entry at a bcc key', () => {
  it('costs one bounded miss, reported as too large, for single and batched reads', async () => {
    const errors: Error[] = [];
    const c = cache({ prefix: `huge-${run}/`, maxEntrySize: 1024 * 1024, onError: (e) => errors.push(e) });
    const small = await store(c, 'small.html');
    const big = c.createBucket(env, 'big.html', null, 'src');
    // 64 MB planted at the key: a GET would receive all of it on every read.
    await raw.set(c.keyFor(big.key), Buffer.alloc(64 * 1024 * 1024, 1));
    const before = (await raw.info('stats')).match(/total_net_output_bytes:(\d+)/)![1]!;
    expect((await c.getBucket(env, 'big.html', null, 'src')).code).toBeNull();
    const batch = [
      c.createBucket(env, 'big.html', null, 'src'),
      c.createBucket(env, 'small.html', null, 'src'),
    ];
    await c.loadBuckets(batch);
    expect(batch[0]!.code).toBeNull();
    expect(batch[1]!.code?.js).toBe(small.code!.js);
    const after = (await raw.info('stats')).match(/total_net_output_bytes:(\d+)/)![1]!;
    // Redis sent about 1 MB per read of the huge key, not 64 MB.
    expect(Number(after) - Number(before)).toBeLessThan(8 * 1024 * 1024);
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual([
      'ERR_BCC_ENTRY_TOO_LARGE',
      'ERR_BCC_ENTRY_TOO_LARGE',
    ]);
    await raw.unlink(c.keyFor(big.key));
  });
});

describe('options are checked when the cache is made', () => {
  it.each([
    [{ ttl: 1e300 }, /ttl must be/],
    [{ ttl: -1 }, /ttl must be/],
    [{ commandTimeout: 2 ** 31 }, /commandTimeout must be/],
    [{ commandTimeout: 0 }, /commandTimeout must be/],
    [{ maxEntrySize: 0 }, /maxEntrySize must be/],
    [{ client: {} as never }, /lacks getrangeBuffer, set, pipeline, scan/],
    [{ prefix: '' }, /prefix must be a non-empty string/],
  ])('%j is a BccConfigError', (options, message) => {
    let thrown: unknown;
    try {
      new RedisBytecodeCache(options as never);
    } catch (error) {
      thrown = error;
    }
    expect(isBccError(thrown) && thrown.code).toBe('ERR_BCC_CONFIG');
    expect((thrown as Error).message).toMatch(message);
  });
});
