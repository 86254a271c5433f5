import type { Stats } from 'node:fs';

// Not `import … from 'node:fs'`: its ES module facade costs ~2.7 ms of start-up on Node 24.
const { closeSync, constants, fstatSync, openSync, readFileSync, statSync } =
  process.getBuiltinModule('node:fs');

/** O_NONBLOCK: a FIFO at the path must not block the process (it is then refused as not a file). */
const READ_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/**
 * The text of a regular file, or `undefined` when there is none at `path` (missing, a directory,
 * a FIFO or device, unreadable). For sources that an entry names (the files a template inlined):
 * an entry from an untrusted store must not be able to hang the process by naming a FIFO.
 */
export function readSourceFile(path: string): string | undefined {
  return readStamped(path)?.text;
}

/** The text and the `fstat` of the file that was opened (taken before reading it). */
function readStamped(path: string): { text: string; stats: Stats } | undefined {
  let fd: number;
  try {
    fd = openSync(path, READ_FLAGS);
  } catch {
    return undefined;
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) return undefined;
    return { text: readFileSync(fd, 'utf8'), stats };
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * A file's identity and version as `stat` sees them. Any write, truncation, rename over it or
 * `chmod` gives it a new ctime, which no user can set back (unlike mtime).
 */
function stampOf(stats: Stats): string {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
}

/**
 * A file changed this recently may change again within the same timestamp tick (Linux file times
 * are coarse, ~4 ms; some filesystems keep whole seconds or two), leaving the same stamp on other
 * text. Such a file is not remembered: it is read again next time, as git does with racily clean
 * files. This compares the file's ctime with this process's clock: on a network filesystem whose
 * server clock lags this one by more than two seconds and keeps coarse times, a same-size rewrite
 * within one tick could go unseen.
 */
const RACY_MS = 2_000;
/** Paths remembered at most; the oldest is forgotten first. */
const MAX_REMEMBERED = 4_096;

const remembered = new Map<string, { stamp: string; checksums: WeakMap<object, string> }>();

/**
 * The checksum (by `checksumOf`) of the text of a regular file, or `undefined` as for
 * {@link readSourceFile}. For the files an entry depends on, which many entries share (every Pug
 * page inlines its layout): the checksum is remembered with the file's stamp (device, inode,
 * size, mtime, ctime), and while a `stat` shows the same stamp it is answered without reading and
 * hashing the file again (1 system call instead of 5, and no hash; 40 Pug pages with 10 shared
 * files each made 1,600 calls). A file changed in the last two seconds is always read.
 */
export function sourceFileChecksum(path: string, checksumOf: (text: string) => string): string | undefined {
  return stampedSourceChecksum(path, checksumOf)?.checksum;
}

/** A file's checksum and the stamp of the version it was taken from (see {@link stampedSourceChecksum}). */
export interface StampedChecksum {
  readonly checksum: string;
  /**
   * The file's stamp (see {@link fileStamp}) when the checksum was taken, or `null` when the file
   * had changed within the last two seconds: then a later change could leave the same stamp.
   */
  readonly stamp: string | null;
}

/**
 * {@link sourceFileChecksum} with the stamp of the file version the checksum is of. An engine may
 * keep both with an entry and, in a later process, accept the file as unchanged while
 * {@link fileStamp} still gives that stamp, without reading and hashing it: any write, truncation,
 * rename over the file or `chmod` sets its ctime to the current time, which no unprivileged user
 * can set back. What that trusts: the system clock not being set back by more than two seconds
 * between the two processes, and, on a network filesystem, the server's clock.
 */
export function stampedSourceChecksum(
  path: string,
  checksumOf: (text: string) => string,
): StampedChecksum | undefined {
  const known = remembered.get(path);
  if (known !== undefined && fileStamp(path) === known.stamp) {
    const checksum = known.checksums.get(checksumOf);
    if (checksum !== undefined) return { checksum, stamp: known.stamp };
  }
  const readAt = Date.now();
  const read = readStamped(path);
  if (read === undefined) {
    remembered.delete(path);
    return undefined;
  }
  const checksum = checksumOf(read.text);
  if (read.stats.ctimeMs < readAt - RACY_MS) {
    const stamp = stampOf(read.stats);
    let entry = remembered.get(path);
    if (entry === undefined || entry.stamp !== stamp) {
      remembered.delete(path);
      if (remembered.size >= MAX_REMEMBERED) remembered.delete(remembered.keys().next().value as string);
      entry = { stamp, checksums: new WeakMap() };
      remembered.set(path, entry);
    }
    entry.checksums.set(checksumOf, checksum);
    return { checksum, stamp };
  }
  remembered.delete(path);
  return { checksum, stamp: null };
}

/**
 * The stamp of the regular file at `path` now — device, inode, size, mtime and ctime — or
 * `undefined` when there is none (one `stat`, no read).
 */
export function fileStamp(path: string): string | undefined {
  try {
    const stats = statSync(path, { throwIfNoEntry: false });
    return stats?.isFile() ? stampOf(stats) : undefined;
  } catch {
    return undefined;
  }
}
