import { BccConfigError } from '@bcc/core';
import { checkDirectory, isPosix, refuse } from './trust.js';

const { tmpdir: osTmpdir } = process.getBuiltinModule('node:os');
const { join } = process.getBuiltinModule('node:path');

// Not `import … from 'node:fs'`: its ES module facade costs ~2.7 ms of start-up on Node 24.
const { chmodSync, mkdirSync, statSync } = process.getBuiltinModule('node:fs');

/** Where the default directory is derived from; both are injectable for tests. */
export interface DefaultDirOptions {
  /** The temp directory to put the cache directory in. Default `os.tmpdir()`. */
  tmpdir?: string;
  /** The user the directory must belong to. Default `process.getuid()`. */
  uid?: number;
}

export function currentUid(): number {
  return process.getuid!();
}

/** The uid entries and directories are checked against: `given`, else this process's (0 on Windows). */
export function trustUid(given?: number): number {
  return given ?? (isPosix ? currentUid() : 0);
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

/**
 * Checks that `path` is safe as a private cache directory: a real directory (not a symbolic
 * link, which another user could point at a directory they control), owned by `uid`, with mode
 * exactly 0700 (permission bits; setgid inherited from a parent is harmless). Throws
 * `BccInsecureDirectoryError` otherwise. Uses `lstat`, so a symlink is never followed.
 */
export function checkCacheDir(path: string, options: { uid?: number } = {}): void {
  if (!checkDirectory(path, 'private', options.uid ?? currentUid())) {
    throw refuse(path, 'it cannot be inspected (it does not exist)', 'Check the path');
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
 * it. Unsigned (`signed: false`), it must be trusted as this user's own: owned by this user
 * (or root), writable by nobody else, and not reached through another user's symlink; any
 * other directory lets someone else plant entries, so it is refused with
 * `BccInsecureDirectoryError`. Signed, any directory will do: planted entries fail their
 * signature and are misses.
 */
export function ensureGivenDir(path: string, options: { signed: boolean; uid?: number }): string {
  if (typeof path !== 'string' || path.trim() === '') {
    throw new BccConfigError(`directory must be a non-empty path, got ${JSON.stringify(path)}`);
  }
  if (path.includes('\0')) throw new BccConfigError('directory must not contain a NUL byte');
  const notADirectory = () =>
    new BccConfigError(`directory ${path} exists and is not a directory; pass a directory path`);
  try {
    mkdirSync(path, { recursive: true, mode: 0o700 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR') throw notADirectory();
    throw error;
  }
  if (!statSync(path).isDirectory()) throw notADirectory();
  checkDirectory(path, options.signed ? 'signed' : 'owned', trustUid(options.uid));
  return path;
}
