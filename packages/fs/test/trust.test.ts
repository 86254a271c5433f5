// Attacks on a running cache: its directory or entry files change hands after construction.
import {
  chmodSync,
  chownSync,
  copyFileSync,
  lchownSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { BccConfigError, type Bucket } from '@bcc/core';
import { afterEach, describe, expect, it } from 'vitest';
import { FileSystemBytecodeCache } from '../src/index.js';
import { environment, isRoot, scratchDir } from './helpers.js';

const uid = process.getuid!();
const savedTmpdir = process.env.TMPDIR;
afterEach(() => {
  if (savedTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmpdir;
});

const PLANTED = '(() => "planted by another user")';

function bucketFor(cache: FileSystemBytecodeCache, js: string): Bucket {
  const bucket = cache.createBucket(environment, 'page', '/t/page', 'source');
  bucket.code = { js };
  return bucket;
}

/** A cache that records what it reports, with its directory given or the default one. */
function watched(options: ConstructorParameters<typeof FileSystemBytecodeCache>[0] = {}) {
  const errors: Error[] = [];
  const cache = new FileSystemBytecodeCache({ ...options, onError: (error) => errors.push(error) });
  return { cache, errors };
}

/** Writes a valid entry for `page` with `js` into `directory`, as another process of ours would. */
async function entryIn(directory: string, js: string, options: { secret?: string } = {}): Promise<string> {
  const writer = new FileSystemBytecodeCache({ directory, ...options });
  await writer.setBucket(bucketFor(writer, js));
  return writer.pathOf(bucketFor(writer, js).key);
}

const load = (cache: FileSystemBytecodeCache) => cache.getBucket(environment, 'page', '/t/page', 'source');

describe('a running cache re-checks its default directory', () => {
  function defaultCache() {
    const tmp = scratchDir('tmp');
    process.env.TMPDIR = tmp;
    return { tmp, ...watched() };
  }

  it('refuses a directory swapped for a symlink to a directory full of valid entries', async () => {
    const { tmp, cache, errors } = defaultCache();
    await cache.setBucket(bucketFor(cache, '(() => "mine")'));
    expect((await load(cache)).code?.js).toBe('(() => "mine")');
    // A temp cleaner removes the idle directory; another user puts a link in its place.
    const theirs = join(tmp, 'theirs');
    mkdirSync(theirs, { mode: 0o700 });
    await entryIn(theirs, PLANTED);
    rmSync(cache.directory, { recursive: true });
    symlinkSync(theirs, cache.directory);
    const bucket = await load(cache);
    expect(bucket.code).toBeNull();
    expect(errors.at(-1)?.message).toMatch(/symbolic link/);
    expect((errors.at(-1) as { code?: string }).code).toBe('ERR_BCC_INSECURE_DIRECTORY');
    // The sync path and batch loads refuse it too.
    expect(cache.getBucketSync(environment, 'page', '/t/page', 'source').code).toBeNull();
    const batch = cache.createBucket(environment, 'page', '/t/page', 'source');
    await cache.loadBuckets([batch]);
    expect(batch.code).toBeNull();
  });

  it('writes nothing into a directory that stopped being ours', async () => {
    const { tmp, cache, errors } = defaultCache();
    const theirs = join(tmp, 'theirs');
    mkdirSync(theirs, { mode: 0o700 });
    rmSync(cache.directory, { recursive: true, force: true });
    symlinkSync(theirs, cache.directory);
    await cache.setBucket(bucketFor(cache, '(() => "secret template")'));
    cache.setBucketSync(bucketFor(cache, '(() => "secret template")'));
    expect(readdirSync(theirs)).toEqual([]);
    expect(cache.stats.writes).toBe(0);
    expect(errors.length).toBe(2);
  });

  it('refuses a directory re-made with other permissions', async () => {
    const { cache, errors } = defaultCache();
    await cache.setBucket(bucketFor(cache, '(() => "mine")'));
    chmodSync(cache.directory, 0o777);
    expect((await load(cache)).code).toBeNull();
    expect(errors.at(-1)?.message).toMatch(/mode is 0777/);
  });

  it.skipIf(!isRoot)(
    'refuses a directory re-made by another user, with planted entries (as root)',
    async () => {
      const { tmp, cache, errors } = defaultCache();
      await cache.setBucket(bucketFor(cache, '(() => "mine")'));
      const planted = join(tmp, 'planted');
      mkdirSync(planted, { mode: 0o700 });
      await entryIn(planted, PLANTED);
      rmSync(cache.directory, { recursive: true });
      renameSync(planted, cache.directory);
      for (const name of readdirSync(cache.directory)) chownSync(join(cache.directory, name), 65534, 65534);
      chownSync(cache.directory, 65534, 65534);
      expect((await load(cache)).code).toBeNull();
      expect(errors.at(-1)?.message).toMatch(/belongs to uid 65534/);
    },
  );

  it('recovers when the directory is removed and comes back as ours', async () => {
    const { cache } = defaultCache();
    rmSync(cache.directory, { recursive: true });
    expect((await load(cache)).code).toBeNull(); // gone: a miss, nothing to report
    await cache.setBucket(bucketFor(cache, '(() => "again")'));
    expect((await load(cache)).code?.js).toBe('(() => "again")');
  });
});

describe('entry files are checked as opened', () => {
  it('refuses an entry file others can write', async () => {
    const directory = scratchDir();
    const { cache, errors } = watched({ directory });
    await cache.setBucket(bucketFor(cache, '(() => "mine")'));
    const path = cache.pathOf(bucketFor(cache, 'x').key);
    chmodSync(path, 0o666);
    expect((await load(cache)).code).toBeNull();
    expect(errors.at(-1)?.message).toMatch(/lets others write it/);
    chmodSync(path, 0o600);
    expect((await load(cache)).code?.js).toBe('(() => "mine")');
  });

  it.skipIf(!isRoot)(
    'refuses an entry file owned by another user, in our own directory (as root)',
    async () => {
      const directory = scratchDir();
      const { cache, errors } = watched({ directory });
      const path = await entryIn(directory, PLANTED);
      chownSync(path, 65534, 65534);
      expect((await load(cache)).code).toBeNull();
      expect(errors.at(-1)?.message).toMatch(/belongs to uid 65534/);
    },
  );

  it.skipIf(!isRoot)('accepts another user’s entry when entries are signed (as root)', async () => {
    const directory = scratchDir();
    const path = await entryIn(directory, '(() => "signed")', { secret: 's3cret' });
    chownSync(path, 65534, 65534);
    chmodSync(path, 0o664);
    const { cache } = watched({ directory, secret: 's3cret' });
    expect((await load(cache)).code?.js).toBe('(() => "signed")');
  });
});

describe('a directory the user names', () => {
  it.each([null, '', '   '])('treats directory: %j as no directory: the default, fully checked', (value) => {
    const tmp = scratchDir('tmp');
    process.env.TMPDIR = tmp;
    const cache = new FileSystemBytecodeCache({ directory: value });
    expect(cache.directory).toBe(join(tmp, `_bcc-cache-${uid}`));
    chmodSync(cache.directory, 0o755);
    expect(() => new FileSystemBytecodeCache({ directory: value })).toThrow(/mode is 0755/);
  });

  it('refuses a non-string directory with a config error', () => {
    expect(() => new FileSystemBytecodeCache({ directory: 42 as unknown as string })).toThrow(BccConfigError);
  });

  it('refuses a group-writable directory unless entries are signed', () => {
    const directory = scratchDir();
    chmodSync(directory, 0o770);
    expect(() => new FileSystemBytecodeCache({ directory })).toThrow(/its group can write it/);
    expect(() => new FileSystemBytecodeCache({ directory })).toThrow(/secret/);
    expect(new FileSystemBytecodeCache({ directory, secret: 'k' }).directory).toBe(directory);
  });

  it('is re-checked on every read', async () => {
    const directory = scratchDir();
    const { cache, errors } = watched({ directory });
    await cache.setBucket(bucketFor(cache, '(() => "mine")'));
    chmodSync(directory, 0o777);
    expect((await load(cache)).code).toBeNull();
    expect(errors.at(-1)?.message).toMatch(/every local user can write it/);
  });

  it('accepts a symlink of ours to a directory of ours', async () => {
    const root = scratchDir();
    const real = join(root, 'real');
    mkdirSync(real, { mode: 0o700 });
    symlinkSync(real, join(root, 'link'));
    const { cache } = watched({ directory: join(root, 'link') });
    await cache.setBucket(bucketFor(cache, '(() => "via link")'));
    expect((await load(cache)).code?.js).toBe('(() => "via link")');
  });

  it.skipIf(!isRoot)(
    'refuses a directory owned by another user, or reached through their symlink (as root)',
    () => {
      const root = scratchDir();
      const theirs = join(root, 'theirs');
      mkdirSync(theirs, { mode: 0o700 });
      chownSync(theirs, 65534, 65534);
      expect(() => new FileSystemBytecodeCache({ directory: theirs })).toThrow(/belongs to uid 65534/);
      expect(new FileSystemBytecodeCache({ directory: theirs, secret: 'k' }).directory).toBe(theirs);

      const mine = join(root, 'mine');
      mkdirSync(mine, { mode: 0o700 });
      const link = join(root, 'link');
      symlinkSync(mine, link);
      lchownSync(link, 65534, 65534);
      expect(() => new FileSystemBytecodeCache({ directory: link })).toThrow(
        /symbolic link owned by uid 65534/,
      );
    },
  );

  it.skipIf(!isRoot)(
    'does not load a copy of a signed entry into an unsigned cache from another user',
    async () => {
      const directory = scratchDir();
      const source = scratchDir();
      const path = await entryIn(source, PLANTED);
      const { cache } = watched({ directory });
      const target = cache.pathOf(bucketFor(cache, 'x').key);
      copyFileSync(path, target);
      chownSync(target, 65534, 65534);
      expect((await load(cache)).code).toBeNull();
    },
  );
});
