import { chmodSync, chownSync, mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BccConfigError, BccInsecureDirectoryError } from '@bcc/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  checkCacheDir,
  defaultCacheDir,
  ensureDefaultCacheDir,
  ensureGivenDir,
  FileSystemBytecodeCache,
} from '../src/index.js';
import { environment, isRoot, scratchDir } from './helpers.js';

const uid = process.getuid!();
const savedTmpdir = process.env.TMPDIR;
afterEach(() => {
  if (savedTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmpdir;
});

function insecure(fn: () => unknown, why: RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(BccInsecureDirectoryError);
  const error = thrown as BccInsecureDirectoryError;
  expect(error.code).toBe('ERR_BCC_INSECURE_DIRECTORY');
  expect(error.message).toMatch(why);
  // Every refusal explains the risk and the way out.
  expect(error.message).toMatch(/run their code/);
  expect(error.message).toMatch(/directory:/);
}

describe('default directory', () => {
  it('is <tmpdir>/_bcc-cache-<uid>', () => {
    expect(defaultCacheDir({ tmpdir: '/some/tmp', uid: 1234 })).toBe('/some/tmp/_bcc-cache-1234');
    expect(defaultCacheDir({ tmpdir: '/some/tmp' })).toBe(`/some/tmp/_bcc-cache-${uid}`);
  });

  it('is created with mode 0700 and owned by this user, whatever the umask', () => {
    const tmp = scratchDir('tmp');
    // A umask that strips the owner's write bit: the directory we make must still end up 0700.
    const old = process.umask(0o277);
    try {
      const path = ensureDefaultCacheDir({ tmpdir: tmp });
      const stats = statSync(path);
      expect(stats.isDirectory()).toBe(true);
      expect(stats.mode & 0o777).toBe(0o700);
      expect(stats.uid).toBe(uid);
      // A second call accepts the directory it made.
      expect(ensureDefaultCacheDir({ tmpdir: tmp })).toBe(path);
    } finally {
      process.umask(old);
    }
  });

  it('is what a cache without `directory` uses, and it works', async () => {
    const tmp = scratchDir('tmp');
    process.env.TMPDIR = tmp;
    const cache = new FileSystemBytecodeCache();
    expect(cache.directory).toBe(join(tmp, `_bcc-cache-${uid}`));
    expect(statSync(cache.directory).mode & 0o777).toBe(0o700);
    const bucket = cache.createBucket(environment, 'page', null, 'src');
    bucket.code = { js: '1' };
    await cache.setBucket(bucket);
    expect((await cache.getBucket(environment, 'page', null, 'src')).code?.js).toBe('1');
  });

  it('refuses a symlink planted at the path, even to a 0700 directory of ours', () => {
    const tmp = scratchDir('tmp');
    const elsewhere = join(tmp, 'attacker-controlled');
    mkdirSync(elsewhere, { mode: 0o700 });
    symlinkSync(elsewhere, join(tmp, `_bcc-cache-${uid}`));
    insecure(() => ensureDefaultCacheDir({ tmpdir: tmp }), /symbolic link/);
    process.env.TMPDIR = tmp;
    insecure(() => new FileSystemBytecodeCache(), /symbolic link/);
  });

  it('refuses a directory owned by another user (checked against a fake uid)', () => {
    const tmp = scratchDir('tmp');
    const path = ensureDefaultCacheDir({ tmpdir: tmp });
    insecure(() => checkCacheDir(path, { uid: uid + 4242 }), /belongs to uid/);
    insecure(() => ensureDefaultCacheDir({ tmpdir: tmp, uid: uid + 4242 }), /belongs to uid/);
  });

  it.skipIf(!isRoot)('refuses a directory chowned to another user (as root)', () => {
    const tmp = scratchDir('tmp');
    const path = join(tmp, `_bcc-cache-${uid}`);
    mkdirSync(path, { mode: 0o700 });
    chmodSync(path, 0o700);
    chownSync(path, 65534, 65534);
    insecure(() => ensureDefaultCacheDir({ tmpdir: tmp }), /belongs to uid 65534/);
    process.env.TMPDIR = tmp;
    insecure(() => new FileSystemBytecodeCache(), /belongs to uid 65534/);
  });

  it.each(['777', '755', '770', '701'])('refuses mode 0%s', (octal) => {
    const mode = Number.parseInt(octal, 8);
    const tmp = scratchDir('tmp');
    const path = join(tmp, `_bcc-cache-${uid}`);
    mkdirSync(path);
    chmodSync(path, mode);
    insecure(() => ensureDefaultCacheDir({ tmpdir: tmp }), new RegExp(`mode is 0${octal}`));
    // Refused, not silently "fixed": the directory may hold entries others wrote meanwhile.
    expect(statSync(path).mode & 0o777).toBe(mode);
  });

  it('refuses a regular file at the path', () => {
    const tmp = scratchDir('tmp');
    writeFileSync(join(tmp, `_bcc-cache-${uid}`), 'not a directory');
    insecure(() => ensureDefaultCacheDir({ tmpdir: tmp }), /not a directory/);
  });
});

describe('given directory', () => {
  it('is created recursively with mode 0700', () => {
    const root = scratchDir();
    const directory = join(root, 'a', 'b', 'c');
    const old = process.umask(0o022);
    try {
      new FileSystemBytecodeCache({ directory });
    } finally {
      process.umask(old);
    }
    expect(statSync(directory).mode & 0o777).toBe(0o700);
    expect(statSync(join(root, 'a')).mode & 0o777).toBe(0o700);
  });

  it('keeps an existing directory as it is', () => {
    const directory = scratchDir();
    chmodSync(directory, 0o750);
    expect(new FileSystemBytecodeCache({ directory }).directory).toBe(directory);
    expect(statSync(directory).mode & 0o777).toBe(0o750);
  });

  it('refuses a world-writable directory unless entries are signed', () => {
    const directory = scratchDir();
    chmodSync(directory, 0o1777);
    insecure(() => new FileSystemBytecodeCache({ directory }), /every local user can write it/);
    expect(new FileSystemBytecodeCache({ directory, secret: 'k' }).directory).toBe(directory);
  });

  it('refuses a file where the directory should be', () => {
    const path = join(scratchDir(), 'file');
    writeFileSync(path, 'x');
    expect(() => ensureGivenDir(path, { signed: false })).toThrow(/not a directory/);
    expect(() => new FileSystemBytecodeCache({ directory: path })).toThrow(BccConfigError);
    expect(() => ensureGivenDir(join(path, 'sub'), { signed: false })).toThrow(BccConfigError);
    expect(() => ensureGivenDir('', { signed: false })).toThrow(BccConfigError);
  });
});
