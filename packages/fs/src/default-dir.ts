import { chmodSync, lstatSync, mkdirSync, type Stats, statSync } from 'node:fs';
import { tmpdir as osTmpdir } from 'node:os';
import { join } from 'node:path';
import { BccConfigError, BccInsecureDirectoryError } from '@bcc/core';

/** Where the default directory is derived from; both are injectable for tests. */
export interface DefaultDirOptions {
  /** The temp directory to put the cache directory in. Default `os.tmpdir()`. */
  tmpdir?: string;
  /** The user the directory must belong to. Default `process.getuid()`. */
  uid?: number;
}

const isPosix = process.platform !== 'win32' && typeof process.getuid === 'function';

function currentUid(): number {
  return process.getuid!();
}

/**
 * The default cache directory: `<os.tmpdir()>/_bcc-cache-<uid>` on POSIX, one per user so no
 * user can read or plant another's entries. On Windows, `<os.tmpdir()>/_bcc-cache`: the temp
 * directory there is already private to the user (`%LOCALAPPDATA%\Temp`).
 */
export function defaultCacheDir(options: DefaultDirOptions = {}): string {
  const base = options.tmpdir ?? osTmpdir();
  if (!isPosix && options.uid === undefined) return join(base, '_bcc-cache');
  return join(base, `_bcc-cache-${options.uid ?? currentUid()}`);
}

function refuse(path: string, problem: string, fix: string): BccInsecureDirectoryError {
  return new BccInsecureDirectoryError(
    path,
    `Refusing to use the bytecode cache directory ${path}: ${problem}. Whoever can write the cache ` +
      `directory can make this process run their code (Jinja2's CVE-2014-1402 and CVE-2014-0012 were ` +
      `exactly this). ${fix}, or pass { directory: '/a/directory/only/you/can/write' } to ` +
      `FileSystemBytecodeCache.`,
  );
}

/**
 * Checks that `path` is safe as a private cache directory: a real directory (not a symbolic
 * link, which another user could point at a directory they control), owned by `uid`, with mode
 * exactly 0700 (permission bits; setgid inherited from a parent is harmless). Throws
 * `BccInsecureDirectoryError` otherwise. Uses `lstat`, so a symlink is never followed.
 */
export function checkCacheDir(path: string, options: { uid?: number } = {}): void {
  const uid = options.uid ?? currentUid();
  let stats: Stats;
  try {
    stats = lstatSync(path);
  } catch (error) {
    throw refuse(path, `it cannot be inspected (${(error as Error).message})`, 'Check the path');
  }
  if (stats.isSymbolicLink()) {
    throw refuse(
      path,
      'it is a symbolic link, which another user may have planted to redirect the cache into a directory they control',
      'Remove the link if you did not make it',
    );
  }
  if (!stats.isDirectory()) {
    throw refuse(path, 'it is not a directory', 'Remove the file if you did not make it');
  }
  if (stats.uid !== uid) {
    throw refuse(
      path,
      `it belongs to uid ${stats.uid}, not to this process's uid ${uid}, so that user controls its entries`,
      'Remove it if you do not trust that user',
    );
  }
  const mode = stats.mode & 0o777;
  if (mode !== 0o700) {
    throw refuse(
      path,
      `its mode is 0${mode.toString(8)}, not 0700, so other users can read or write entries`,
      `Run \`chmod 700 ${path}\` if it is yours`,
    );
  }
}

/**
 * Creates the default cache directory if needed (mode 0700) and checks it with
 * {@link checkCacheDir}. Returns its path. On Windows it is created without checks (the
 * per-user temp directory's ACLs protect it; untested here).
 */
export function ensureDefaultCacheDir(options: DefaultDirOptions = {}): string {
  const path = defaultCacheDir(options);
  ensurePrivateDir(path, options.uid === undefined ? {} : { uid: options.uid });
  return path;
}

/**
 * Creates `path` with mode 0700 unless it exists, then checks it with {@link checkCacheDir}.
 * Its parent must exist: anything already at `path` is checked, never trusted.
 */
export function ensurePrivateDir(path: string, options: { uid?: number } = {}): void {
  if (!isPosix && options.uid === undefined) {
    mkdirSync(path, { recursive: true });
    return;
  }
  let created = false;
  try {
    mkdirSync(path, { mode: 0o700 });
    created = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  // A umask such as 0o077 is harmless, but one that strips owner bits would leave an unusable
  // directory; a directory we just made is ours to fix. An existing one is only checked.
  if (created) chmodSync(path, 0o700);
  checkCacheDir(path, options);
}

/**
 * Creates a directory the user chose (recursively, mode 0700) if it does not exist, and checks
 * it is a directory. The user picked it, so ownership and group permissions are their call, but
 * a world-writable directory (such as `/tmp` itself) lets any local user plant entries, so it is
 * refused unless entries are signed (`secret`), which makes planted entries misses.
 */
export function ensureGivenDir(path: string, options: { signed: boolean }): string {
  if (typeof path !== 'string' || path === '') {
    throw new BccConfigError(`directory must be a non-empty path, got ${JSON.stringify(path)}`);
  }
  const notADirectory = () =>
    new BccConfigError(`directory ${path} exists and is not a directory; pass a directory path`);
  try {
    mkdirSync(path, { recursive: true, mode: 0o700 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR') throw notADirectory();
    throw error;
  }
  const stats = statSync(path);
  if (!stats.isDirectory()) throw notADirectory();
  if (isPosix && (stats.mode & 0o002) !== 0 && !options.signed) {
    throw refuse(
      path,
      'every local user can write it',
      'Use a directory only you can write, or sign entries with the `secret` option',
    );
  }
  return path;
}
