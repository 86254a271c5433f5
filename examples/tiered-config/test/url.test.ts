// createBytecodeCache with the real adapter packages, imported on demand by @bcc/core.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createBytecodeCache, createBytecodeCacheFromEnv, TieredBytecodeCache } from '@bcc/core';
import { FileSystemBytecodeCache } from '@bcc/fs';
import { S3BytecodeCache } from '@bcc/s3';
import {
  startMemcached,
  startRedis,
  startS3rver,
  TEST_S3_BUCKET,
  TEST_S3_CREDENTIALS,
  type TestServer,
} from '@bcc/test-servers';
import { makeCode, testEnvironment } from '@bcc/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const env = testEnvironment('url');
const root = mkdtempSync(join(tmpdir(), 'bcc-url-'));
let redis: TestServer;
let memcached: TestServer;
let s3: TestServer;

beforeAll(async () => {
  [redis, memcached, s3] = await Promise.all([startRedis(), startMemcached(), startS3rver()]);
  process.env.AWS_ACCESS_KEY_ID ??= TEST_S3_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY ??= TEST_S3_CREDENTIALS.secretAccessKey;
});
afterAll(async () => {
  await Promise.allSettled([redis?.stop(), memcached?.stop(), s3?.stop()]);
  rmSync(root, { recursive: true, force: true });
});

async function roundTrip(spec: string, options = {}) {
  const writer = await createBytecodeCache(spec, options);
  const bucket = writer.createBucket(env, 'page.html', null, 'src');
  bucket.code = makeCode('page', 3000);
  await writer.setBucket(bucket);
  await writer.close();
  const reader = await createBytecodeCache(spec, options);
  const loaded = await reader.getBucket(env, 'page.html', null, 'src');
  await reader.close();
  expect(loaded.code?.js).toBe(bucket.code.js);
}

describe('file:', () => {
  it('file: alone is the private default directory; file:///path is that directory', async () => {
    const bare = await createBytecodeCache('file:');
    expect(bare).toBeInstanceOf(FileSystemBytecodeCache);
    expect((bare as FileSystemBytecodeCache).directory).toBe(new FileSystemBytecodeCache().directory);
    const dir = join(root, 'fs');
    const given = (await createBytecodeCache(
      `${pathToFileURL(dir).href}?pattern=app_%25s.bin`,
    )) as FileSystemBytecodeCache;
    expect(given.directory).toBe(dir);
    await roundTrip(pathToFileURL(dir).href);
  });

  it('a bad option is a config error naming it', async () => {
    await expect(createBytecodeCache('file:?patern=x')).rejects.toThrow(
      /unknown option "patern" .*\(known: pattern\)/,
    );
  });
});

describe('s3:', () => {
  it('round-trips through s3rver by URL', async () => {
    const spec = `s3://${TEST_S3_BUCKET}/url/?endpoint=${encodeURIComponent(s3.url)}`;
    const cache = await createBytecodeCache(spec);
    expect(cache).toBeInstanceOf(S3BytecodeCache);
    expect((cache as S3BytecodeCache).prefix).toBe('url/');
    await cache.close();
    await roundTrip(spec, { secret: 'k' });
  });
});

describe('redis: and rediss:', () => {
  it('round-trips by URL, with prefix and ttl', async () => {
    await roundTrip(`${redis.url}/1?prefix=url/&ttl=60`);
  });

  it('never shows the password', async () => {
    const errors: Error[] = [];
    const cache = await createBytecodeCache('redis://:hunter2@127.0.0.1:1', {
      onError: (e) => errors.push(e),
    });
    await cache.getBucket(env, 'a', null, 'src');
    await cache.close();
    expect(errors.length).toBeGreaterThan(0);
    for (const e of errors) expect(`${e.message} ${e.stack}`).not.toContain('hunter2');
    const bad = await createBytecodeCache('redis://:hunter2@h:6379?ttl=forever').catch((e: Error) => e);
    expect((bad as Error).message).toMatch(/option "ttl"/);
    expect((bad as Error).message).not.toContain('hunter2');
  });
});

describe('memcached:', () => {
  it('round-trips by URL; several hosts in one URL', async () => {
    await roundTrip(`memcached://${memcached.url}?prefix=url/&ttl=60`);
    const cache = await createBytecodeCache(`memory:,memcached://${memcached.url},127.0.0.1:1?prefix=x/`);
    expect((cache as TieredBytecodeCache).tiers).toHaveLength(2);
    await cache.close();
  });
});

describe('BCC_CACHE', () => {
  it('one variable configures a tiered cache of real adapters', async () => {
    const dir = join(root, 'env');
    const cache = await createBytecodeCacheFromEnv({
      env: {
        BCC_CACHE: [
          'memory:?maxBytes=8m',
          pathToFileURL(dir).href,
          `${redis.url}?prefix=env/`,
          `s3://${TEST_S3_BUCKET}/env/?endpoint=${encodeURIComponent(s3.url)}`,
        ].join(','),
        BCC_SECRET: 'from-env',
      },
    });
    expect(cache).toBeInstanceOf(TieredBytecodeCache);
    expect((cache as TieredBytecodeCache).tiers.map((t) => t.backendName)).toEqual([
      'memory',
      'fs',
      'redis',
      's3',
    ]);
    expect(cache.createBucket(env, 'a', null, 's').signed).toBe(true);
    await cache.close();
  });

  it('a scheme whose package is not installed says what to install', async () => {
    const error = await createBytecodeCacheFromEnv({
      env: { BCC_CACHE: 'memory:,custom://x' },
      schemes: { custom: '@bcc/not-installed-adapter' },
    }).catch((e: Error) => e);
    expect(error).toMatchObject({ code: 'ERR_BCC_ADAPTER_NOT_INSTALLED' });
    expect((error as Error).message).toContain('install @bcc/not-installed-adapter');
  });
});
