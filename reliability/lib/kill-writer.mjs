/**
 * A writer of the kill test: stores new versions of the test keys as fast as it can until the
 * parent kills it with SIGKILL. Writer 0 uses the synchronous dump, writer 1 the async one, so
 * both write paths are killed mid-write. Prints `ready` before its first write.
 *
 *   node kill-writer.mjs <directory> <writer id> <first version> [naive]
 *
 * `naive` writes the file in place instead (open, truncate, write), as a cache without atomic
 * writes would: the control that shows the test does see torn entries when they happen.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { FileSystemBytecodeCache } from '@bcc/fs';
import { KILL_ENVIRONMENT, KILL_KEYS, killCode, killName, killSource } from './kill-entries.mjs';

const [directory, id, first, naive] = process.argv.slice(2);
const w = Number(id);
// ignoreErrors: false, so a failing write kills the writer loudly instead of being skipped.
const cache = new FileSystemBytecodeCache({ directory, ignoreErrors: false });
const sync = w % 2 === 0;
process.stdout.write('ready\n');
for (let v = Number(first); ; v++) {
  for (let k = 0; k < KILL_KEYS; k++) {
    const bucket = cache.createBucket(KILL_ENVIRONMENT, killName(k), null, killSource(k));
    bucket.code = killCode(k, v, w);
    if (naive) writeInPlace(cache.pathOf(bucket.key), bucket.bytecodeToBytes());
    else if (sync) cache.setBucketSync(bucket);
    else await cache.setBucket(bucket);
  }
}

function writeInPlace(path, bytes) {
  const fd = openSync(path, 'w');
  // Small chunks, as a slow disk or a busy machine would deliver them.
  for (let at = 0; at < bytes.length; at += 64 * 1024)
    writeSync(fd, bytes, at, Math.min(64 * 1024, bytes.length - at));
  closeSync(fd);
}
