import type { FileHandle } from 'node:fs/promises';

// Not `import … from 'node:fs'`: its ES module facade costs ~2.7 ms of start-up on Node 24.
const { closeSync, openSync, renameSync, unlinkSync, writeSync } = process.getBuiltinModule('node:fs');

/** `node:fs/promises`, loaded on the first asynchronous write (not at import: see fs-cache.ts). */
const fsPromises = () => process.getBuiltinModule('node:fs/promises') as typeof import('node:fs/promises');

/** What became of an atomic write. */
export type WriteOutcome = 'written' | 'vanished';

/**
 * Exclusive create (`O_CREAT | O_EXCL`): fails rather than opening a file or following a
 * symlink someone placed at the temp name. 0600: entries are private to the user.
 */
const TEMP_FLAGS = 'wx';
const TEMP_MODE = 0o600;

function isVanished(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

/**
 * Writes `bytes` to `target` so that readers see either the old file or the whole new one,
 * never a part: the bytes go to `temp` (a unique name in the same directory, hence the same
 * filesystem) and `rename` replaces the target in one step. On any error the temp file is
 * removed. A rename that fails with ENOENT means someone removed the temp file or directory
 * meanwhile (a concurrent `clear()`, a temp cleaner): the entry is simply not stored.
 *
 * No fsync: after a power loss the file may be empty or torn, and the frame's CRC turns that
 * into a miss. A cache does not pay a disk flush per entry for durability it does not need.
 */
export async function writeFileAtomic(
  temp: string,
  target: string,
  bytes: Uint8Array,
): Promise<WriteOutcome> {
  const { open, rename, unlink } = fsPromises();
  const handle: FileHandle = await open(temp, TEMP_FLAGS, TEMP_MODE);
  let renaming = false;
  try {
    try {
      await handle.writeFile(bytes);
    } finally {
      await handle.close();
    }
    renaming = true;
    await rename(temp, target);
    return 'written';
  } catch (error) {
    await unlink(temp).catch(() => {});
    if (renaming && isVanished(error)) return 'vanished';
    throw error;
  }
}

/** Synchronous {@link writeFileAtomic}. */
export function writeFileAtomicSync(temp: string, target: string, bytes: Uint8Array): WriteOutcome {
  const fd = openSync(temp, TEMP_FLAGS, TEMP_MODE);
  let renaming = false;
  try {
    try {
      let offset = 0;
      while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
    } finally {
      closeSync(fd);
    }
    renaming = true;
    renameSync(temp, target);
    return 'written';
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      // Already gone, or the directory is: nothing partial remains either way.
    }
    if (renaming && isVanished(error)) return 'vanished';
    throw error;
  }
}
