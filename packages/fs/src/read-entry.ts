import { BccInsecureDirectoryError } from '@bcc/core';
import { type TrustRule, untrustedFile } from './trust.js';

// Not `import … from 'node:fs'`: its ES module facade costs ~2.7 ms of start-up on Node 24.
const { closeSync, constants, fstatSync, openSync, readSync } = process.getBuiltinModule('node:fs');

/**
 * O_NONBLOCK: a FIFO planted at an entry's path must not hang the process (it is then refused
 * as not a regular file). O_NOFOLLOW: an entry is never a symlink; one is treated as a miss.
 * Both are 0 (absent) on Windows.
 */
const READ_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOFOLLOW ?? 0);

/** `BCC_DEBUG=1` prints why a present file was not read; a plain missing file is not worth a line. */
const debug = process.env.BCC_DEBUG
  ? (path: string, why: string) => process.stderr.write(`bcc: fs miss ${path}: ${why}\n`)
  : null;

/** Entries are a few hundred KB; anything this large is not ours and is not read into memory. */
export const MAX_ENTRY_BYTES = 256 * 1024 * 1024;

/**
 * Errors that mean "there is no usable entry here" rather than "the store is broken": missing
 * file (or directory, which a temp cleaner may remove), a directory or symlink at the path, no
 * permission. ENOTDIR is not among them: the cache directory itself was replaced by a file,
 * which is a broken store to report, not a miss to hide.
 */
const MISS_CODES = new Set(['ENOENT', 'EISDIR', 'EACCES', 'EPERM', 'ELOOP']);

/** True for an error that {@link readEntrySync} reports as a miss. */
export function isMissError(error: unknown): boolean {
  return MISS_CODES.has((error as NodeJS.ErrnoException).code ?? '');
}

/** An entry file someone else could have written: refused before its contents are read. */
function untrustedEntry(path: string, problem: string): BccInsecureDirectoryError {
  return new BccInsecureDirectoryError(
    path,
    `Refusing the cache entry ${path}: ${problem}, so another user could have chosen the code in it. ` +
      'Remove it, and check who else can write the cache directory (or sign entries with { secret }).',
  );
}

/**
 * Reads one entry file, or returns `null` for a miss. One `open` and no `exists()` check
 * first: between the two another process may remove or replace the file (Jinja2 #1654).
 * With `trust`, the opened file must pass {@link untrustedFile} (owner and mode), else
 * `BccInsecureDirectoryError` is thrown, which the cache reports and treats as a miss.
 *
 * Synchronous on purpose, also under the async API. Measured on this machine (Node 20, an
 * 85 KB entry in the page cache): readFileSync 13 µs, this function 11 µs, fs.readFile 110 µs,
 * fs.promises.readFile 76–200 µs, FileHandle open/stat/read/close 162 µs. Each async step is a
 * round trip through libuv's thread pool, and a cache hit must stay within 1.5x of
 * readFileSync + decode. Even 100 entries read sequentially (1.3 ms) beat 100 parallel
 * fs.readFile calls (1.9 ms) on 2 cores. The price is blocking the event loop for ~10 µs per
 * entry on a local disk; put the cache on a network filesystem and that price grows.
 */
export function readEntrySync(path: string, trust?: { rule: TrustRule; uid: number }): Buffer | null {
  let fd: number;
  try {
    fd = openSync(path, READ_FLAGS);
  } catch (error) {
    if (isMissError(error)) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') debug?.(path, code === 'ELOOP' ? 'a symbolic link, not an entry' : String(code));
      return null;
    }
    throw error;
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) {
      debug?.(path, stats.isDirectory() ? 'a directory' : 'not a regular file');
      return null;
    }
    // Checked on what was opened, not on the path: no swap between a check and the open.
    const untrusted = trust ? untrustedFile(stats, trust.rule, trust.uid) : null;
    if (untrusted !== null) throw untrustedEntry(path, untrusted);
    if (stats.size > MAX_ENTRY_BYTES) {
      debug?.(path, `${stats.size} bytes, larger than any entry`);
      return null;
    }
    const size = stats.size;
    // Its own memory, not a pooled slice: the bucket keeps a view of the V8 bytes.
    const buffer = Buffer.allocUnsafeSlow(size);
    let offset = 0;
    while (offset < size) {
      const read = readSync(fd, buffer, offset, size - offset, offset);
      // Shorter than fstat said: someone truncated it in place; the CRC check refuses the rest.
      if (read === 0) return buffer.subarray(0, offset);
      offset += read;
    }
    return buffer;
  } catch (error) {
    if (isMissError(error)) {
      debug?.(path, String((error as NodeJS.ErrnoException).code));
      return null;
    }
    throw error;
  } finally {
    closeSync(fd);
  }
}
