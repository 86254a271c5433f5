import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { BccBackendError, type Bucket } from '@bcc/core';
import { describe, expect, it } from 'vitest';
import { FileSystemBytecodeCache, readEntrySync, STALE_TEMP_MS, writeFileAtomic } from '../src/index.js';
import { environment, isRoot, scratchDir } from './helpers.js';

function filled(
  cache: FileSystemBytecodeCache,
  name: string,
  js = `(() => ${JSON.stringify(name)})`,
): Bucket {
  const bucket = cache.createBucket(environment, name, `/t/${name}`, `source of ${name}`);
  bucket.code = { js, v8: Uint8Array.of(1, 2, 3) };
  return bucket;
}

function load(cache: FileSystemBytecodeCache, name: string): Promise<Bucket> {
  return cache.getBucket(environment, name, `/t/${name}`, `source of ${name}`);
}

function tempFiles(directory: string): string[] {
  return readdirSync(directory).filter((name) => name.endsWith('.tmp'));
}

describe('FileSystemBytecodeCache', () => {
  it('stores and loads entries, async and sync', async () => {
    const directory = scratchDir();
    const cache = new FileSystemBytecodeCache({ directory });
    expect(cache.backendName).toBe('fs');
    await cache.setBucket(filled(cache, 'a'));
    cache.setBucketSync(filled(cache, 'b'));
    for (const name of ['a', 'b']) {
      const viaAsync = await load(cache, name);
      const viaSync = cache.getBucketSync(environment, name, `/t/${name}`, `source of ${name}`);
      expect(viaAsync.code?.js).toBe(`(() => "${name}")`);
      expect(viaSync.code?.js).toBe(`(() => "${name}")`);
      expect([...(viaSync.code?.v8 ?? [])]).toEqual([1, 2, 3]);
    }
    expect(cache.stats.hits).toBe(4);
    // A second instance (another process, in effect) sees the same entries.
    expect((await load(new FileSystemBytecodeCache({ directory }), 'a')).code?.js).toBe('(() => "a")');
  });

  it('writes entry files with mode 0600 and leaves no temp file', async () => {
    const directory = scratchDir();
    const cache = new FileSystemBytecodeCache({ directory });
    const bucket = filled(cache, 'a');
    await cache.setBucket(bucket);
    cache.setBucketSync(filled(cache, 'b'));
    expect(statSync(cache.pathOf(bucket.key)).mode & 0o777).toBe(0o600);
    expect(readdirSync(directory).sort()).toEqual(
      [`__bcc_${bucket.key}.cache`, `__bcc_${filled(cache, 'b').key}.cache`].sort(),
    );
  });

  it('replaces an entry with the newer one', async () => {
    const cache = new FileSystemBytecodeCache({ directory: scratchDir() });
    await cache.setBucket(filled(cache, 'a', '1'));
    await cache.setBucket(filled(cache, 'a', '2'));
    cache.setBucketSync(filled(cache, 'a', '3'));
    expect((await load(cache, 'a')).code?.js).toBe('3');
  });

  it('treats a missing file, a directory and a symlink at the entry path as a miss', async () => {
    const directory = scratchDir();
    const errors: Error[] = [];
    const cache = new FileSystemBytecodeCache({
      directory,
      onError: (e) => errors.push(e),
      ignoreErrors: false,
    });
    expect((await load(cache, 'missing')).code).toBeNull();
    mkdirSync(cache.pathOf(filled(cache, 'dir').key));
    expect((await load(cache, 'dir')).code).toBeNull();
    expect(cache.getBucketSync(environment, 'dir', '/t/dir', 'source of dir').code).toBeNull();
    // A symlink to a valid entry: entries are never links, so it is not followed.
    const real = filled(cache, 'real');
    await cache.setBucket(real);
    const linkTarget = filled(cache, 'link');
    symlinkSync(cache.pathOf(real.key), cache.pathOf(linkTarget.key));
    expect((await load(cache, 'link')).code).toBeNull();
    expect(errors).toEqual([]);
    expect(cache.stats.misses).toBe(4);
  });

  it('says why a present file was a miss when BCC_DEBUG is set', () => {
    const directory = scratchDir();
    mkdirSync(join(directory, 'dir'));
    const script = `
      import { readEntrySync } from ${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)};
      readEntrySync(${JSON.stringify(join(directory, 'dir'))});
      readEntrySync(${JSON.stringify(join(directory, 'missing'))});`;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, BCC_DEBUG: '1' },
      encoding: 'utf8',
    });
    expect(result.stderr).toBe(`bcc: fs miss ${join(directory, 'dir')}: a directory\n`);
  });

  it('treats a FIFO at the entry path as a miss instead of hanging', async () => {
    const cache = new FileSystemBytecodeCache({ directory: scratchDir() });
    const path = cache.pathOf(filled(cache, 'fifo').key);
    execFileSync('mkfifo', [path]);
    expect((await load(cache, 'fifo')).code).toBeNull();
  });

  it('treats an unreadable entry (EACCES) as a miss', async () => {
    const directory = scratchDir();
    const cache = new FileSystemBytecodeCache({ directory });
    const bucket = filled(cache, 'secret');
    await cache.setBucket(bucket);
    const path = cache.pathOf(bucket.key);
    if (!isRoot) {
      chmodSync(path, 0);
      expect((await load(cache, 'secret')).code).toBeNull();
      return;
    }
    // Root reads anything, so read it from a child process running as nobody.
    chmodSync(directory, 0o755);
    const script = `
      import { readEntrySync } from ${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)};
      process.stdout.write(String(readEntrySync(${JSON.stringify(path)})));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      uid: 65534,
      gid: 65534,
      encoding: 'utf8',
    });
    expect(out).toBe('null');
    expect(readEntrySync(path)).not.toBeNull();
  });

  it('refuses corrupt entries (a miss, nothing throws)', async () => {
    const cache = new FileSystemBytecodeCache({ directory: scratchDir() });
    const bucket = filled(cache, 'a');
    await cache.setBucket(bucket);
    writeFileSync(cache.pathOf(bucket.key), Buffer.from(bucket.bytecodeToBytes()).subarray(0, 50));
    const loaded = await load(cache, 'a');
    expect(loaded.code).toBeNull();
    expect(loaded.lastLoad).toMatchObject({ status: 'rejected' });
  });

  it('ignores entries written without the secret when one is set', async () => {
    const directory = scratchDir();
    const planted = new FileSystemBytecodeCache({ directory });
    await planted.setBucket(filled(planted, 'a', 'evil()'));
    const errors: Error[] = [];
    const signed = new FileSystemBytecodeCache({
      directory,
      secret: 's3cret',
      onError: (e) => errors.push(e),
    });
    expect((await load(signed, 'a')).code).toBeNull();
    expect(errors[0]?.message).toMatch(/not signed/);
    await signed.setBucket(filled(signed, 'a', 'good()'));
    expect((await load(signed, 'a')).code?.js).toBe('good()');
  });

  it('loads many entries, hits and misses', async () => {
    const cache = new FileSystemBytecodeCache({ directory: scratchDir() });
    for (let i = 0; i < 150; i += 2) cache.setBucketSync(filled(cache, `t${i}`));
    const buckets = Array.from({ length: 150 }, (_, i) =>
      cache.createBucket(environment, `t${i}`, `/t/t${i}`, `source of t${i}`),
    );
    await cache.loadBuckets(buckets);
    buckets.forEach((bucket, i) => {
      expect(bucket.code?.js ?? null).toBe(i % 2 === 0 ? `(() => "t${i}")` : null);
    });
    expect(cache.stats).toMatchObject({ hits: 75, misses: 75 });
  });

  it('reports an unreadable entry in loadMany once, and still loads the others', async () => {
    const directory = scratchDir();
    const errors: Error[] = [];
    const cache = new FileSystemBytecodeCache({ directory, onError: (e) => errors.push(e) });
    cache.setBucketSync(filled(cache, 'ok'));
    const buckets = ['broken', 'ok'].map((name) =>
      cache.createBucket(environment, name, `/t/${name}`, `source of ${name}`),
    );
    // A key whose file name is refused stands in for an I/O error on one entry.
    Object.defineProperty(buckets[0], 'key', { value: '../broken' });
    await cache.loadBuckets(buckets);
    expect(errors).toHaveLength(1);
    expect(buckets[1]?.code).not.toBeNull();
    const strictErrors: Error[] = [];
    const strict = new FileSystemBytecodeCache({
      directory,
      ignoreErrors: false,
      onError: (e) => strictErrors.push(e),
    });
    await expect(strict.loadBuckets(buckets)).rejects.toThrow(/cannot be a file name/);
    expect(strictErrors).toHaveLength(1);
  });

  it('keeps caches with different patterns in one directory apart', async () => {
    const directory = scratchDir();
    const a = new FileSystemBytecodeCache({ directory, pattern: 'a_%s.cache' });
    const ab = new FileSystemBytecodeCache({ directory, pattern: 'a_b_%s.cache' });
    await a.setBucket(filled(a, 'x', 'from a'));
    await ab.setBucket(filled(ab, 'x', 'from ab'));
    expect((await load(a, 'x')).code?.js).toBe('from a');
    expect((await load(ab, 'x')).code?.js).toBe('from ab');
    await a.clear();
    expect((await load(a, 'x')).code).toBeNull();
    expect((await load(ab, 'x')).code?.js).toBe('from ab');
  });

  describe('clear()', () => {
    it('removes matching entries and leaves other files, directories and fresh temp files', async () => {
      const directory = scratchDir();
      const cache = new FileSystemBytecodeCache({ directory });
      await cache.setBucket(filled(cache, 'a'));
      cache.setBucketSync(filled(cache, 'b'));
      const entry = cache.pathOf(filled(cache, 'c').key);
      const inProgress = `.${entry.split('/').pop()}.99999.abcdef.tmp`;
      writeFileSync(join(directory, inProgress), 'half an entry');
      writeFileSync(join(directory, 'notes.txt'), 'keep me');
      writeFileSync(join(directory, '__bcc_.cache'), 'no key: not an entry');
      mkdirSync(join(directory, '__bcc_subdir.cache'));
      await cache.clear();
      expect(readdirSync(directory).sort()).toEqual(
        [inProgress, '__bcc_.cache', '__bcc_subdir.cache', 'notes.txt'].sort(),
      );
      expect((await load(cache, 'a')).code).toBeNull();
    });

    it(`removes this cache's temp files older than ${STALE_TEMP_MS / 1000} s (writers that died)`, async () => {
      const directory = scratchDir();
      const cache = new FileSystemBytecodeCache({ directory });
      const other = new FileSystemBytecodeCache({ directory, pattern: 'other_%s' });
      const key = filled(cache, 'a').key;
      const stale = `.__bcc_${key}.cache.12345.00ff.tmp`;
      const fresh = `.__bcc_${key}.cache.12345.0100.tmp`;
      const othersStale = `.other_${key}.12345.00ff.tmp`;
      for (const name of [stale, fresh, othersStale]) writeFileSync(join(directory, name), 'partial');
      const old = new Date(Date.now() - STALE_TEMP_MS - 5_000);
      utimesSync(join(directory, stale), old, old);
      utimesSync(join(directory, othersStale), old, old);
      await cache.clear();
      expect(readdirSync(directory).sort()).toEqual([fresh, othersStale].sort());
      await other.clear();
      expect(readdirSync(directory)).toEqual([fresh]);
    });

    it('copes with a missing directory and with files vanishing under concurrent clears', async () => {
      const directory = scratchDir();
      const caches = Array.from(
        { length: 4 },
        () => new FileSystemBytecodeCache({ directory, ignoreErrors: false }),
      );
      for (let i = 0; i < 400; i++) caches[0]!.setBucketSync(filled(caches[0]!, `t${i}`));
      await Promise.all(caches.map((cache) => cache.clear()));
      expect(readdirSync(directory)).toEqual([]);
      rmSync(directory, { recursive: true });
      await caches[0]!.clear();
    });
  });

  describe('writes', () => {
    it('recreate a directory that was removed meanwhile (a temp cleaner), checks included', async () => {
      const directory = join(scratchDir(), 'cache');
      const cache = new FileSystemBytecodeCache({ directory, ignoreErrors: false });
      rmSync(directory, { recursive: true });
      await cache.setBucket(filled(cache, 'a'));
      expect((await load(cache, 'a')).code).not.toBeNull();
      rmSync(directory, { recursive: true });
      cache.setBucketSync(filled(cache, 'b'));
      expect((await load(cache, 'b')).code).not.toBeNull();
      expect(statSync(directory).mode & 0o777).toBe(0o700);
    });

    it('that fail remove their temp file, report the error and store nothing', async () => {
      const directory = scratchDir();
      const errors: Error[] = [];
      const cache = new FileSystemBytecodeCache({
        directory,
        breaker: false,
        onError: (e) => errors.push(e),
      });
      // A non-empty directory at the entry path: rename cannot replace it.
      const bucket = filled(cache, 'a');
      mkdirSync(cache.pathOf(bucket.key));
      writeFileSync(join(cache.pathOf(bucket.key), 'x'), 'x');
      await cache.setBucket(bucket);
      cache.setBucketSync(bucket);
      expect(errors).toHaveLength(2);
      expect(errors[0]).toBeInstanceOf(BccBackendError);
      expect(cache.stats.writeFailures).toBe(2);
      expect(tempFiles(directory)).toEqual([]);
      const strict = new FileSystemBytecodeCache({ directory, ignoreErrors: false });
      await expect(strict.setBucket(bucket)).rejects.toThrow(BccBackendError);
      expect(() => strict.setBucketSync(bucket)).toThrow(BccBackendError);
      expect(tempFiles(directory)).toEqual([]);
    });

    it('whose temp file or directory vanished before the rename are skipped, not errors', async () => {
      const directory = scratchDir();
      const gone = join(directory, 'gone', 'entry');
      const temp = join(directory, '.entry.1.ab.tmp');
      await expect(writeFileAtomic(temp, gone, Uint8Array.of(1))).resolves.toBe('vanished');
      expect(existsSync(temp)).toBe(false);
    });
  });

  it('refuses keys that would escape the directory', async () => {
    const directory = scratchDir();
    const errors: Error[] = [];
    class EscapingCache extends FileSystemBytecodeCache {
      override getCacheKey(): string {
        return '../escape';
      }
    }
    const cache = new EscapingCache({ directory, onError: (e) => errors.push(e) });
    const bucket = cache.createBucket(environment, 'x', null, 'src');
    bucket.code = { js: '1' };
    await cache.setBucket(bucket);
    expect((await cache.getBucket(environment, 'x', null, 'src')).code).toBeNull();
    expect(errors.map((e) => e.message)).toEqual([
      expect.stringMatching(/cannot be a file name/),
      expect.stringMatching(/cannot be a file name/),
    ]);
    expect(readdirSync(join(directory, '..')).includes('escape')).toBe(false);
  });
});
