import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BccConfigError, BccUnsupportedError, MemoryBytecodeCache, pruneEntries } from '@bcc/core';
import { makeCode, testEnvironment } from '@bcc/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { FileSystemBytecodeCache } from '../src/index.js';

const env = testEnvironment();
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const directory = () => {
  const dir = mkdtempSync(join(tmpdir(), 'bcc-prune-'));
  dirs.push(dir);
  return dir;
};

async function fill(cache: FileSystemBytecodeCache, names: string[], bytes = 1000) {
  const buckets = [];
  for (const name of names) {
    const bucket = cache.createBucket(env, name, null, name);
    bucket.code = makeCode(name, bytes);
    await cache.setBucket(bucket);
    buckets.push(bucket);
  }
  return buckets;
}

const ageFile = (cache: FileSystemBytecodeCache, key: string, secondsAgo: number) => {
  const when = new Date(Date.now() - secondsAgo * 1000);
  utimesSync(cache.pathOf(key), when, when);
};

describe('pruning', () => {
  it('maxAge removes entries not rewritten for that long; maxSize then removes the oldest until the rest fit', async () => {
    const cache = new FileSystemBytecodeCache({ directory: directory() });
    const [a, b, c, d] = await fill(cache, ['a', 'b', 'c', 'd']);
    ageFile(cache, a!.key, 3 * 86_400);
    ageFile(cache, b!.key, 2 * 3600);
    ageFile(cache, c!.key, 3600);
    const size = a!.bytecodeToBytes().length;
    const report = await pruneEntries(cache, { maxAge: 86_400_000, maxSize: 2 * size });
    expect(report).toMatchObject({ examined: 4, removed: 2, keptBytes: 2 * size });
    const left = [];
    for await (const entry of cache.listEntries()) left.push(entry.key);
    expect(left.sort()).toEqual([c!.key, d!.key].sort());
  });

  it('a dry run removes nothing and reports what would go', async () => {
    const cache = new FileSystemBytecodeCache({ directory: directory() });
    const [a] = await fill(cache, ['a', 'b']);
    ageFile(cache, a!.key, 3600);
    expect(await pruneEntries(cache, { maxAge: 60_000 }, { dryRun: true })).toMatchObject({ removed: 1 });
    expect((await cache.getBucket(env, 'a', null, 'a')).code).not.toBeNull();
  });

  it('a store without modification times is aged by the creation time in each entry', async () => {
    const cache = new MemoryBytecodeCache();
    const bucket = cache.createBucket(env, 'old', null, 'old');
    bucket.code = makeCode('old');
    await cache.setBucket(bucket);
    const later = Date.now() + 2 * 3600_000;
    expect(await pruneEntries(cache, { maxAge: 3600_000 }, { now: later })).toMatchObject({ removed: 1 });
    expect(cache.count).toBe(0);
  });

  it('FileSystemBytecodeCache({ maxSize }) prunes in the background after a write, and prune() at once', async () => {
    const dir = directory();
    const probe = new MemoryBytecodeCache().createBucket(env, 'a', null, 'a');
    probe.code = makeCode('a', 1000);
    const entrySize = probe.bytecodeToBytes().length;
    const cache = new FileSystemBytecodeCache({ directory: dir, maxSize: 2.5 * entrySize });
    await fill(cache, ['a']);
    await cache.settled();
    await fill(cache, ['b', 'c', 'd']);
    // The first write pruned (nothing to do then); the next prune waits for the interval.
    let count = 0;
    for await (const _ of cache.listEntries()) count++;
    expect(count).toBe(4);
    const report = await cache.prune();
    expect(report.removed).toBe(2);
    expect(report.keptBytes).toBeLessThanOrEqual(2.5 * entrySize);
    const fresh = new FileSystemBytecodeCache({ directory: dir, maxAge: 1 });
    const [x] = await fill(fresh, ['x']);
    ageFile(fresh, x!.key, 10);
    await fill(fresh, ['y']);
    await fresh.settled();
    expect((await fresh.getBucket(env, 'x', null, 'x')).code).toBeNull();
    expect((await fresh.getBucket(env, 'y', null, 'y')).code).not.toBeNull();
  });

  it('refuses bounds that are not positive numbers, and stores that cannot list', async () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '10' as never]) {
      expect(() => new FileSystemBytecodeCache({ directory: directory(), maxSize: bad })).toThrow(
        BccConfigError,
      );
      expect(() => new FileSystemBytecodeCache({ directory: directory(), maxAge: bad })).toThrow(
        BccConfigError,
      );
    }
    const unlisted = Object.assign(new MemoryBytecodeCache(), { listEntries: undefined });
    await expect(pruneEntries(unlisted, { maxAge: 1 })).rejects.toBeInstanceOf(BccUnsupportedError);
  });
});
