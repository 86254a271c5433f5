import { describe, expect, it } from 'vitest';
import type { Bucket } from '../src/bucket.js';
import { BytecodeCache, isBytecodeCache } from '../src/cache.js';
import { digestCounts } from '../src/digest.js';
import { BccBackendError, BccConfigError, BccError, isBccError } from '../src/errors.js';
import { MemoryBytecodeCache } from '../src/memory.js';
import { env } from './helpers.js';

class FailingCache extends BytecodeCache {
  async loadBytecode(_bucket: Bucket): Promise<void> {
    throw new Error('ECONNREFUSED');
  }
  async dumpBytecode(_bucket: Bucket): Promise<void> {
    throw new Error('ECONNREFUSED');
  }
}

describe('keys and checksums', () => {
  const cache = new MemoryBytecodeCache();
  it('the key changes with name, filename and fingerprint', () => {
    const base = cache.getCacheKey('a.html', '/t/a.html', 'env1');
    expect(cache.getCacheKey('b.html', '/t/a.html', 'env1')).not.toBe(base);
    expect(cache.getCacheKey('a.html', '/u/a.html', 'env1')).not.toBe(base);
    expect(cache.getCacheKey('a.html', '/t/a.html', 'env2')).not.toBe(base);
    expect(cache.getCacheKey('a.html', '/t/a.html', 'env1')).toBe(base);
    expect(base).toMatch(/^[0-9a-f]{64}$/);
  });
  it('hashes a key once, remembering at most 4,096 (the oldest is hashed again)', () => {
    const fresh = new MemoryBytecodeCache();
    const hashes = () => digestCounts.wasm + digestCounts.native;
    const before = hashes();
    const first = fresh.getCacheKey('page.njk', '/t/page.njk', 'env1');
    for (let i = 0; i < 10; i++) expect(fresh.getCacheKey('page.njk', '/t/page.njk', 'env1')).toBe(first);
    expect(hashes() - before).toBe(1);
    for (let i = 0; i < 4_096; i++) fresh.getCacheKey(`p${i}.njk`, null, 'env1');
    const again = hashes();
    expect(fresh.getCacheKey('page.njk', '/t/page.njk', 'env1')).toBe(first);
    expect(hashes() - again).toBe(1);
  });
  it('name and filename cannot be confused by moving a separator', () => {
    expect(cache.getCacheKey('a|b', 'c')).not.toBe(cache.getCacheKey('a', 'b|c'));
  });
  it('getBucket uses the environment fingerprint', async () => {
    const b1 = await cache.getBucket({ fingerprint: 'x' }, 'a', null, 's');
    const b2 = await cache.getBucket({ fingerprint: 'y' }, 'a', null, 's');
    expect(b1.key).not.toBe(b2.key);
  });
  it('the checksum changes with the source', () => {
    expect(cache.getSourceChecksum('a')).not.toBe(cache.getSourceChecksum('b'));
    expect(cache.getSourceChecksum('a')).toBe(cache.getSourceChecksum('a'));
  });
});

describe('error handling', () => {
  it('backend errors are a miss and a skipped write, reported through onError', async () => {
    const seen: unknown[] = [];
    const cache = new FailingCache({ breaker: false, onError: (e, ctx) => seen.push([e, ctx.operation]) });
    const bucket = await cache.getBucket(env, 'a', null, 's');
    expect(bucket.code).toBeNull();
    bucket.code = { js: '1' };
    await cache.setBucket(bucket);
    expect(seen).toHaveLength(2);
    expect((seen[0] as [BccBackendError])[0].code).toBe('ERR_BCC_BACKEND');
    expect((seen[1] as [unknown, string])[1]).toBe('dump');
    expect(cache.stats).toMatchObject({ errors: 2, writeFailures: 1, misses: 1 });
  });
  it('ignoreErrors: false rejects with the cause', async () => {
    const cache = new FailingCache({ ignoreErrors: false });
    const error = await cache.getBucket(env, 'a', null, 's').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BccBackendError);
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect((error as Error).message).toContain('load');
  });
  it('a throwing onError hook never breaks a render', async () => {
    const cache = new FailingCache({
      onError: () => {
        throw new Error('hook');
      },
    });
    expect((await cache.getBucket(env, 'a', null, 's')).code).toBeNull();
  });
  it('caches without sync support say so', () => {
    const cache = new FailingCache();
    expect(() => cache.getBucketSync(env, 'a', null, 's')).toThrow(/no synchronous load/);
  });
  it('errors are typed with a code and recognised across copies', () => {
    const e = new BccConfigError('bad');
    expect(e).toBeInstanceOf(BccError);
    expect(e.code).toBe('ERR_BCC_CONFIG');
    expect(e.name).toBe('BccConfigError');
    const foreign = Object.assign(new Error('x'), { code: 'ERR_BCC_BACKEND' });
    expect(isBccError(foreign)).toBe(true);
    expect(isBccError(new Error('x'))).toBe(false);
  });
  it('recognises caches by shape, not instanceof', () => {
    expect(isBytecodeCache(new MemoryBytecodeCache())).toBe(true);
    expect(isBytecodeCache({ getBucket() {} })).toBe(false);
  });
});

describe('MemoryBytecodeCache', () => {
  const fill = (cache: MemoryBytecodeCache, name: string, size: number) => {
    const bucket = cache.createBucket(env, name, null, 'src');
    bucket.code = { js: 'x'.repeat(size) };
    cache.setBucketSync(bucket);
    return bucket.bytecodeToBytes().length;
  };
  const has = (cache: MemoryBytecodeCache, name: string) =>
    cache.getBucketSync(env, name, null, 'src').code !== null;

  it('evicts the least recently used entries to stay under maxBytes', () => {
    const one = fill(new MemoryBytecodeCache(), 'probe', 1000);
    const cache = new MemoryBytecodeCache({ maxBytes: one * 3 });
    fill(cache, 'a', 1000);
    fill(cache, 'b', 1000);
    fill(cache, 'c', 1000);
    expect(has(cache, 'a')).toBe(true); // a is now the most recently used
    fill(cache, 'd', 1000);
    expect(has(cache, 'b')).toBe(false);
    expect(has(cache, 'a')).toBe(true);
    expect(has(cache, 'c')).toBe(true);
    expect(has(cache, 'd')).toBe(true);
    expect(cache.size).toBeLessThanOrEqual(cache.maxBytes);
    expect(cache.count).toBe(3);
  });
  it('does not store an entry larger than the whole cache', () => {
    const cache = new MemoryBytecodeCache({ maxBytes: 500 });
    fill(cache, 'big', 1000);
    expect(cache.count).toBe(0);
  });
  it('replacing an entry keeps the byte count right', () => {
    const cache = new MemoryBytecodeCache();
    const size = fill(cache, 'a', 100);
    fill(cache, 'a', 100);
    expect(cache.size).toBe(size);
  });
  it('clear() empties it', async () => {
    const cache = new MemoryBytecodeCache();
    fill(cache, 'a', 10);
    await cache.clear();
    expect(has(cache, 'a')).toBe(false);
    expect(cache.size).toBe(0);
  });
  it('refuses a bad maxBytes', () => {
    expect(() => new MemoryBytecodeCache({ maxBytes: -1 })).toThrow(BccConfigError);
    expect(() => new MemoryBytecodeCache({ maxBytes: Number.NaN })).toThrow(/maxBytes/);
  });
});
