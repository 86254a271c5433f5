// Not `import … from 'node:fs'`: its ES module facade costs ~2.7 ms of start-up on Node 24.
const { closeSync, constants, fstatSync, openSync, readFileSync } = process.getBuiltinModule('node:fs');

/** O_NONBLOCK: a FIFO at the path must not block the process (it is then refused as not a file). */
const READ_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/**
 * The text of a regular file, or `undefined` when there is none at `path` (missing, a directory,
 * a FIFO or device, unreadable). For sources that an entry names (the files a template inlined):
 * an entry from an untrusted store must not be able to hang the process by naming a FIFO.
 */
export function readSourceFile(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, READ_FLAGS);
  } catch {
    return undefined;
  }
  try {
    if (!fstatSync(fd).isFile()) return undefined;
    return readFileSync(fd, 'utf8');
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
