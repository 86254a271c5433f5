import { createBytecodeCache, isBccError } from '@bcc/core';
import { makeCode, testEnvironment } from '@bcc/testkit';
import { describe, expect, inject, it } from 'vitest';
import { createFromUrl, MemcachedBytecodeCache } from '../src/index.js';

const servers = inject('memcachedServers');
const schemes = { 'memcached:': createFromUrl };
const env = testEnvironment('memcached-url');

describe('createFromUrl (memcached: URLs through createBytecodeCache)', () => {
  it('takes the servers and the options off the URL', async () => {
    const first = servers.split(',')[0]!;
    const cache = await createBytecodeCache(
      `memcached://${first},127.0.0.1:1?prefix=url-test/&ttl=60&timeout=300&maxItemSize=512k`,
      { schemes },
    );
    try {
      expect(cache).toBeInstanceOf(MemcachedBytecodeCache);
      const mc = cache as MemcachedBytecodeCache;
      expect(mc.prefix).toBe('url-test/');
      expect(mc.ttl).toBe(60);
      expect(mc.timeout).toBe(300);
      expect(mc.maxItemSize).toBe(512 * 1024);
      const hosts = (mc.client as unknown as { servers: { host: string; port: number }[] }).servers;
      expect(hosts.map((s) => `${s.host}:${s.port}`)).toEqual([first, '127.0.0.1:1']);
    } finally {
      await cache.close();
    }
    const single = await createBytecodeCache(`memcached://${first}?prefix=url-test2/`, { schemes });
    try {
      const bucket = single.createBucket(env, 'u.html', null, 'src');
      bucket.code = makeCode('u');
      await single.setBucket(bucket);
      expect((await single.getBucket(env, 'u.html', null, 'src')).code?.js).toBe(makeCode('u').js);
      expect(single.stats.errors).toBe(0);
    } finally {
      await single.close();
    }
  });

  it('defaults the port to 11211 and passes credentials as SASL options', async () => {
    const cache = (await createBytecodeCache('memcached://user:p%40ss@cache.invalid', {
      schemes,
    })) as MemcachedBytecodeCache;
    const server = (
      cache.client as unknown as {
        servers: { host: string; port: number; username: string; password: string }[];
      }
    ).servers[0]!;
    expect([server.host, server.port, server.username, server.password]).toEqual([
      'cache.invalid',
      11211,
      'user',
      'p@ss',
    ]);
    await cache.close();
  });

  it('refuses what it cannot honour, naming the problem', async () => {
    const bad = [
      ['memcached:', /at least one server/],
      ['memcached://127.0.0.1:11211/path', /no path/],
      ['memcached://[::1]:11211', /IPv6/],
      ['memcached://127.0.0.1?maxItemSize=big', /maxItemSize/],
      ['memcached://127.0.0.1?prefix=a%20b', /prefix/],
      ['memcached://127.0.0.1?tll=60', /unknown option "tll"/],
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
