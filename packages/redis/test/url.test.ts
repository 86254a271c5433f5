import { createBytecodeCache, isBccError } from '@bcc/core';
import { makeCode, testEnvironment } from '@bcc/testkit';
import { describe, expect, inject, it } from 'vitest';
import { createFromUrl, RedisBytecodeCache } from '../src/index.js';

const url = inject('redisUrl');
const schemes = { 'redis:': createFromUrl, 'rediss:': createFromUrl };
const env = testEnvironment('redis-url');

describe('createFromUrl (redis: URLs through createBytecodeCache)', () => {
  it('takes prefix, ttl and commandTimeout off the URL and gives ioredis the rest', async () => {
    const cache = await createBytecodeCache(`${url}/2?prefix=url-test/&ttl=60&commandTimeout=300`, {
      schemes,
    });
    try {
      expect(cache).toBeInstanceOf(RedisBytecodeCache);
      const redis = cache as RedisBytecodeCache;
      expect(redis.prefix).toBe('url-test/');
      expect(redis.ttl).toBe(60);
      expect(redis.commandTimeout).toBe(300);
      const bucket = cache.createBucket(env, 'u.html', null, 'src');
      bucket.code = makeCode('u');
      await cache.setBucket(bucket);
      expect((await cache.getBucket(env, 'u.html', null, 'src')).code?.js).toBe(makeCode('u').js);
      // The path selected database 2.
      const client = (cache as RedisBytecodeCache).client;
      expect(await client.pttl(redis.keyFor(bucket.key))).toBeGreaterThan(50_000);
      expect((client.options as { db?: number }).db).toBe(2);
      await cache.clear();
    } finally {
      await cache.close();
    }
  });

  it('refuses what it cannot honour, naming the problem', async () => {
    const port = new URL(url).port;
    const bad = [
      [`redis://127.0.0.1:${port},127.0.0.1:${port}`, /Cluster/],
      [`${url}?prefix=`, /prefix/],
      [`${url}?ttl=0`, /ttl/],
      [`${url}?tll=60`, /unknown option "tll"/],
      [`${url}/not-a-db`, /database number/],
    ] as const;
    for (const [spec, message] of bad) {
      const error = await createBytecodeCache(spec, { schemes }).then(
        (c) => c.close().then(() => null),
        (e: unknown) => e,
      );
      expect(isBccError(error) && error.code, spec).toBe('ERR_BCC_CONFIG');
      expect((error as Error).message).toMatch(message);
    }
  });
});
