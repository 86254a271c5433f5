import { type BytecodeCache, isBccError } from '@bcc/core';
import { TEST_S3_BUCKET, TEST_S3_CREDENTIALS } from '@bcc/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENVIRONMENT } from '../lib/corpus.mjs';
import { plantFile, plantMemcached, plantRedis, plantS3 } from '../lib/raw-plant.mjs';
import { type OpenStore, openStore } from '../lib/stores.mjs';

// An attacker with write access to a store plants entries with the store's own protocol (a file,
// redis SET, memcached set, S3 PutObject), not through bcc. With a secret, none is ever loaded;
// without one, planted code is loaded: the reason docs/security.md says to set a secret.

const SOURCE = 'Hello {{ name }}';
const GENUINE_JS = '(function (ctx) { return "Hello " + ctx.name; })';
const ATTACKER_JS = '(function () { return "pwned"; })';

/** The raw key the adapter reads `bucketKey` from, and a way to write bytes there. */
async function rawTarget(store: OpenStore, cache: BytecodeCache, bucketKey: string) {
  const c = cache as unknown as Record<string, (k: string) => string | Promise<string>>;
  switch (store.name) {
    case 'fs': {
      const path = await c.pathOf!(bucketKey);
      return (bytes: Uint8Array) => plantFile(path, bytes);
    }
    case 'redis': {
      const key = await c.keyFor!(bucketKey);
      return (bytes: Uint8Array) => plantRedis(store.address!, key, bytes);
    }
    case 'memcached': {
      const key = await c.keyFor!(bucketKey);
      return (bytes: Uint8Array) => plantMemcached(store.address!, key, bytes);
    }
    case 's3': {
      const key = await c.objectKey!(bucketKey);
      const target = {
        endpoint: store.address!,
        bucket: process.env.BCC_TEST_S3_BUCKET ?? TEST_S3_BUCKET,
        credentials: TEST_S3_CREDENTIALS,
      };
      return (bytes: Uint8Array) => plantS3(target, key, bytes);
    }
    default:
      throw new Error(`no raw access to ${store.name}`);
  }
}

/** Frames as a forger makes them: with bcc's own encoder, under the key and checksum it targets. */
function forge(cache: BytecodeCache, name: string, js: string) {
  const bucket = cache.createBucket(ENVIRONMENT, name, null, SOURCE);
  bucket.code = { js };
  return bucket.bytecodeToBytes();
}

for (const name of ['fs', 'redis', 'memcached', 's3']) {
  describe(`${name}: entries planted with the store's own protocol`, () => {
    let store: OpenStore;
    const caches: BytecodeCache[] = [];
    const make = (options: object) => {
      const cache = store.create(options, `planted-${Date.now().toString(36)}`);
      caches.push(cache);
      return cache;
    };
    beforeAll(async () => {
      store = await openStore(name);
    });
    afterAll(async () => {
      for (const cache of caches) {
        await cache.clear().catch(() => {});
        await cache.close();
      }
      await store?.close();
    });

    it('are never loaded by a cache with a secret', async () => {
      const errors: Error[] = [];
      const reader = make({ secret: 'the right secret', onError: (e: Error) => errors.push(e) });
      const unsigned = make({});
      const otherSecret = make({ secret: 'a secret the attacker made up' });
      const planted: [string, Uint8Array][] = [
        ['unsigned.html', forge(unsigned, 'unsigned.html', ATTACKER_JS)],
        ['other-secret.html', forge(otherSecret, 'other-secret.html', ATTACKER_JS)],
        // A genuine entry of another template with the same source, copied under this key.
        ['replayed.html', forge(reader, 'genuine.html', GENUINE_JS)],
        ['garbage.html', Buffer.from('bcc\x01\x01 not a frame at all, but starts like one')],
      ];
      for (const [template, bytes] of planted) {
        const plant = await rawTarget(
          store,
          reader,
          reader.getCacheKey(template, null, ENVIRONMENT.fingerprint),
        );
        await plant(bytes);
      }
      for (const [template] of planted) {
        const bucket = await reader.getBucket(ENVIRONMENT, template, null, SOURCE);
        expect(bucket.code, template).toBeNull();
      }
      // The replayed entry fails the key check in its header before its HMAC is computed.
      expect(reader.stats.rejected).toMatchObject({ unsigned: 1, signature: 1, key: 1 });
      expect(reader.stats.errors).toBe(0);
      const refused = errors.filter((e) => isBccError(e) && e.code === 'ERR_BCC_REJECTED_ENTRY');
      expect(refused).toHaveLength(3);
    });

    it('are loaded by a cache without a secret (the store is trusted)', async () => {
      const reader = make({});
      const plant = await rawTarget(
        store,
        reader,
        reader.getCacheKey('page.html', null, ENVIRONMENT.fingerprint),
      );
      await plant(forge(reader, 'page.html', ATTACKER_JS));
      expect((await reader.getBucket(ENVIRONMENT, 'page.html', null, SOURCE)).code?.js).toBe(ATTACKER_JS);
    });
  });
}
