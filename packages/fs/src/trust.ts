import type { Stats } from 'node:fs';
import { BccInsecureDirectoryError } from '@bcc/core';

// Not `import … from 'node:fs'`: its ES module facade costs ~2.7 ms of start-up on Node 24.
const { lstatSync, statSync } = process.getBuiltinModule('node:fs');

/**
 * Who may have written what the cache reads. Checked when the cache is made and again on
 * every read and write: a long-running process must notice when its directory is removed
 * (temp cleaners do that) and re-created by another user, or swapped for a symbolic link.
 *
 * - `private`: the default directory. A real directory (never a symlink), owned by this user,
 *   mode exactly 0700 (Jinja2's CVE-2014-1402/CVE-2014-0012 fixes).
 * - `owned`: a directory the user named, entries unsigned. It must be this user's (or root's),
 *   writable by nobody else, and reached through a symlink only if that link is ours or root's.
 * - `signed`: a directory the user named, entries signed. Anyone may share it: an entry
 *   planted without the secret is refused by its signature, so only the type is checked.
 *
 * Files read under `private` and `owned` must also be this user's (or root's, under `owned`)
 * and writable by nobody else: a file another user could write is code another user chose.
 */
export type TrustRule = 'private' | 'owned' | 'signed';

/** Whether the platform has uids and modes to check (not Windows). */
export const isPosix = process.platform !== 'win32' && typeof process.getuid === 'function';
const OTHERS_WRITE = 0o022;

/** Builds the refusal every check throws: what is wrong, why it matters, what to do. */
export function refuse(path: string, problem: string, fix: string): BccInsecureDirectoryError {
  return new BccInsecureDirectoryError(
    path,
    `Refusing to use the bytecode cache directory ${path}: ${problem}. Whoever can write the cache ` +
      `directory can make this process run their code (Jinja2's CVE-2014-1402 and CVE-2014-0012 were ` +
      `exactly this). ${fix}, or pass { directory: '/a/directory/only/you/can/write' } to ` +
      `FileSystemBytecodeCache (or sign entries with { secret }, which makes a shared directory safe).`,
  );
}

function trustedOwner(ownerUid: number, uid: number, rule: TrustRule): boolean {
  return ownerUid === uid || (rule === 'owned' && ownerUid === 0);
}

/**
 * Checks the directory at `path` under `rule`; throws `BccInsecureDirectoryError` when it is
 * not trusted. Returns `false` (no throw) when nothing is there, so a vanished directory reads
 * as a miss. One `lstat` in the common case (about a microsecond). With `running`, something
 * other than a directory at the path is left to the I/O that follows, which fails with ENOTDIR:
 * a broken store, reported as a backend error, as any other failed read.
 */
export function checkDirectory(path: string, rule: TrustRule, uid: number, running = false): boolean {
  if (!isPosix) return true;
  const link = lstatSync(path, { throwIfNoEntry: false });
  if (link === undefined) return false;
  let stats: Stats = link;
  if (link.isSymbolicLink()) {
    if (rule === 'private') {
      throw refuse(
        path,
        'it is a symbolic link, which another user may have planted to redirect the cache into a directory they control',
        'Remove the link if you did not make it',
      );
    }
    if (rule === 'owned' && !trustedOwner(link.uid, uid, rule)) {
      throw refuse(
        path,
        `it is a symbolic link owned by uid ${link.uid}, so that user decides where the cache is`,
        'Name the real directory instead of the link',
      );
    }
    const target = statSync(path, { throwIfNoEntry: false });
    if (target === undefined) return false;
    stats = target;
  }
  if (!stats.isDirectory()) {
    if (running) return true;
    throw refuse(path, 'it is not a directory', 'Remove the file if you did not make it');
  }
  if (rule === 'signed') return true;
  if (!trustedOwner(stats.uid, uid, rule)) {
    throw refuse(
      path,
      `it belongs to uid ${stats.uid}, not to this process's uid ${uid}, so that user controls its entries`,
      'Remove it if you do not trust that user',
    );
  }
  const mode = stats.mode & 0o777;
  if (rule === 'private' && mode !== 0o700) {
    throw refuse(
      path,
      `its mode is 0${mode.toString(8)}, not 0700, so other users can read or write entries`,
      `Run \`chmod 700 ${path}\` if it is yours`,
    );
  }
  if (rule === 'owned' && (mode & OTHERS_WRITE) !== 0) {
    throw refuse(
      path,
      `its mode is 0${mode.toString(8)}: ${(mode & 0o002) !== 0 ? 'every local user' : 'its group'} can write it`,
      `Run \`chmod go-w ${path}\` if it is yours`,
    );
  }
  return true;
}

/**
 * Checks an opened entry file (its `fstat`): under `private` and `owned`, written by this user
 * (or root, under `owned`) and writable by nobody else. Returns the problem, or `null`.
 */
export function untrustedFile(stats: Stats, rule: TrustRule, uid: number): string | null {
  if (!isPosix || rule === 'signed') return null;
  if (!trustedOwner(stats.uid, uid, rule)) return `it belongs to uid ${stats.uid}, not to ${uid}`;
  if ((stats.mode & OTHERS_WRITE) !== 0)
    return `its mode 0${(stats.mode & 0o777).toString(8)} lets others write it`;
  return null;
}
