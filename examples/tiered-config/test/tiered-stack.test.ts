// TieredBytecodeCache over real stores: memory + filesystem + Redis. It lives here rather than in
// @bcc/core because core cannot depend on the adapters (or on the testkit) without a cycle.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type BytecodeCache,
  type BytecodeCacheOptions,
  MemoryBytecodeCache,
  TieredBytecodeCache,
} from '@bcc/core';
import { FileSystemBytecodeCache } from '@bcc/fs';
import { RedisBytecodeCache } from '@bcc/redis';
import { startRedis, type TestServer } from '@bcc/test-servers';
import { makeCode, runConformanceSuite, testEnvironment } from '@bcc/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let redis: TestServer;
const root = mkdtempSync(join(tmpdir(), 'bcc-tiered-stack-'));
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
  rmSync(root, { recursive: true, force: true });
});

// One memory cache per namespace, so two caches of a namespace share their first tier as they
// share the directory and the Redis prefix.
const memories = new Map<string, MemoryBytecodeCache>();
function stack(namespace: string, options: BytecodeCacheOptions = {}) {
  let memory = memories.get(namespace);
  if (!memory) memories.set(namespace, (memory = new MemoryBytecodeCache()));
  const fs = new FileSystemBytecodeCache({ directory: join(root, namespace) });
  const store = new RedisBytecodeCache({ url: redis.url, prefix: `stack/${namespace}/` });
  return { memory, fs, redis: store, tiered: new TieredBytecodeCache([memory, fs, store], options) };
}

runConformanceSuite(
  { describe, it, expect, beforeAll, afterAll },
  {
    name: 'tiered(memory>fs>redis)',
    create: ({ namespace, options }) => stack(namespace, options).tiered,
    createUnreachable: ({ options }) =>
      new TieredBytecodeCache(
        [
          new MemoryBytecodeCache(),
          new RedisBytecodeCache({ url: 'redis://127.0.0.1:1', commandTimeout: 300 }),
        ],
        options,
      ),
    features: { clear: true, isolation: true, sync: false },
  },
);

runConformanceSuite(
  { describe, it, expect, beforeAll, afterAll },
  {
    name: 'tiered(memory>fs), synchronous',
    create: ({ namespace, options }) => {
      let memory = memories.get(`sync-${namespace}`);
      if (!memory) memories.set(`sync-${namespace}`, (memory = new MemoryBytecodeCache()));
      return new TieredBytecodeCache(
        [memory, new FileSystemBytecodeCache({ directory: join(root, `sync-${namespace}`) })],
        options,
      );
    },
    features: { clear: true, isolation: true, sync: true },
  },
);

describe('memory + fs + redis', () => {
  const env = testEnvironment('stack');
  const put = async (cache: BytecodeCache, name: string) => {
    const bucket = cache.createBucket(env, name, null, 'src');
    bucket.code = makeCode(name, 4000);
    await cache.setBucket(bucket);
    return bucket;
  };

  it('an entry only Redis has is served by Redis and written back to memory and the filesystem', async () => {
    const { memory, fs, redis: store, tiered } = stack('backfill', { secret: 'k' });
    // Written by another machine: only in Redis, signed with the same secret.
    const elsewhere = new TieredBytecodeCache(
      [new RedisBytecodeCache({ url: redis.url, prefix: 'stack/backfill/' })],
      {
        secret: 'k',
      },
    );
    const written = await put(elsewhere, 'page.html');
    await elsewhere.close();
    expect(memory.count).toBe(0);
    expect(readdirSync(fs.directory)).toEqual([]);

    const loaded = await tiered.getBucket(env, 'page.html', null, 'src');
    expect(loaded.code?.js).toBe(written.code!.js);
    expect(tiered.hitsByTier).toEqual([0, 0, 1]);
    await tiered.flush();
    expect(memory.count).toBe(1);
    expect(readdirSync(fs.directory)).toHaveLength(1);
    expect(tiered.backfills).toEqual({ writes: 2, failures: 0 });

    // The next load is served by memory; a new process (a fresh memory tier) by the filesystem.
    expect((await tiered.getBucket(env, 'page.html', null, 'src')).code?.js).toBe(written.code!.js);
    const nextProcess = new TieredBytecodeCache([new MemoryBytecodeCache(), fs, store], { secret: 'k' });
    expect((await nextProcess.getBucket(env, 'page.html', null, 'src')).code?.js).toBe(written.code!.js);
    expect(tiered.hitsByTier).toEqual([1, 0, 1]);
    expect(nextProcess.hitsByTier).toEqual([0, 1, 0]);
    await nextProcess.flush();
    await tiered.close();
  });

  it('a dead middle tier: Redis killed, loads fall through to the filesystem and writes reach the others', async () => {
    const errors: Error[] = [];
    const memory = new MemoryBytecodeCache();
    const fs = new FileSystemBytecodeCache({ directory: join(root, 'dead-middle') });
    const store = new RedisBytecodeCache({
      url: redis.url,
      prefix: 'stack/dead-middle/',
      commandTimeout: 300,
    });
    // Redis in the middle, the filesystem as the slow tier.
    const tiered = new TieredBytecodeCache([memory, store, fs], {
      breaker: false,
      onError: (e) => errors.push(e),
    });
    const written = await put(tiered, 'page.html');
    expect(errors).toEqual([]);

    await redis.kill();
    try {
      await memory.clear();
      const loaded = await tiered.getBucket(env, 'page.html', null, 'src');
      expect(loaded.code?.js).toBe(written.code!.js);
      expect(tiered.hitsByTier).toEqual([0, 0, 1]);
      await put(tiered, 'other.html');
      await tiered.flush();
      expect(memory.count).toBe(2); // backfilled and written, despite Redis
      expect(readdirSync(fs.directory)).toHaveLength(2);
      expect(errors.length).toBeGreaterThanOrEqual(2);
      expect(errors.every((e) => (e as { backend?: string }).backend === 'redis')).toBe(true);
    } finally {
      await redis.start();
    }
    await tiered.close();
  });
});
