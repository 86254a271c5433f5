import { startMemcached, type TestServer } from '@bcc/test-servers';
import { makeCode, testEnvironment } from '@bcc/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemcachedBytecodeCache } from '../src/index.js';

// A memcached of its own with a 2 MiB item limit (memcached -I 2m).
const env = testEnvironment('memcached-item-size');
let server: TestServer;

beforeAll(async () => {
  server = await startMemcached({ itemSize: '2m' });
});

afterAll(async () => {
  await server.stop();
});

describe('maxItemSize in step with memcached -I', () => {
  it('stores entries up to the raised limit and still skips larger ones', async () => {
    const errors: Error[] = [];
    const cache = new MemcachedBytecodeCache({
      servers: server.url,
      maxItemSize: 2 * 1024 * 1024,
      onError: (e) => errors.push(e),
    });
    try {
      const big = cache.createBucket(env, 'big.html', null, 'src');
      big.code = makeCode('big', 1_500_000);
      await cache.setBucket(big);
      const loaded = await cache.getBucket(env, 'big.html', null, 'src');
      expect(loaded.code?.js).toBe(big.code.js);
      expect(Buffer.from(loaded.code!.v8!).equals(Buffer.from(big.code.v8!))).toBe(true);

      const huge = cache.createBucket(env, 'huge.html', null, 'src');
      huge.code = makeCode('huge', 2_200_000);
      await cache.setBucket(huge);
      expect(errors.map((e) => (e as { code?: string }).code)).toEqual(['ERR_BCC_ENTRY_TOO_LARGE']);
    } finally {
      await cache.close();
    }
  });
});
