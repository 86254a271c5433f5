import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fileStamp, readSourceFile, sourceFileChecksum, stampedSourceChecksum } from '../src/source-file.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('readSourceFile', () => {
  it('reads a regular file, and is undefined for missing paths, directories and FIFOs (never blocks)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bcc-source-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'a.pug'), 'p ünï');
    mkdirSync(join(dir, 'sub'));
    expect(readSourceFile(join(dir, 'a.pug'))).toBe('p ünï');
    expect(readSourceFile(join(dir, 'missing.pug'))).toBeUndefined();
    expect(readSourceFile(join(dir, 'sub'))).toBeUndefined();
    if (process.platform !== 'win32') {
      execFileSync('mkfifo', [join(dir, 'fifo')]);
      // Without O_NONBLOCK this open would wait for a writer forever.
      expect(readSourceFile(join(dir, 'fifo'))).toBeUndefined();
    }
  });
});

describe('sourceFileChecksum', () => {
  const counting = () => {
    const calls: string[] = [];
    const checksumOf = (text: string) => {
      calls.push(text);
      return `sum(${text})`;
    };
    return { calls, checksumOf };
  };

  it('hashes a file changed in the last two seconds every time (its stamp may not change on the next write)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bcc-source-'));
    dirs.push(dir);
    const file = join(dir, 'fresh.pug');
    writeFileSync(file, 'p one');
    const { calls, checksumOf } = counting();
    expect(sourceFileChecksum(file, checksumOf)).toBe('sum(p one)');
    expect(sourceFileChecksum(file, checksumOf)).toBe('sum(p one)');
    expect(calls).toHaveLength(2);
    writeFileSync(file, 'p two');
    expect(sourceFileChecksum(file, checksumOf)).toBe('sum(p two)');
  });

  it('remembers an older file by its stamp, and reads it again after any change', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bcc-source-'));
    dirs.push(dir);
    const file = join(dir, 'layout.pug');
    const moved = join(dir, 'other.pug');
    writeFileSync(file, 'p old');
    writeFileSync(moved, 'p new');
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const { calls, checksumOf } = counting();
    expect(sourceFileChecksum(file, checksumOf)).toBe('sum(p old)');
    expect(sourceFileChecksum(file, checksumOf)).toBe('sum(p old)');
    expect(sourceFileChecksum(file, checksumOf)).toBe('sum(p old)');
    expect(calls).toEqual(['p old']);
    // Another checksum rule (another cache) is not answered with this one's.
    expect(sourceFileChecksum(file, (text) => `other(${text})`)).toBe('other(p old)');

    // Same size, written in place: a new ctime, so read again.
    writeFileSync(file, 'p OLD');
    expect(sourceFileChecksum(file, checksumOf)).toBe('sum(p OLD)');
    // Replaced by rename: another inode (and a rename is a change: read each time for now).
    renameSync(moved, file);
    expect(sourceFileChecksum(file, checksumOf)).toBe('sum(p new)');
    expect(sourceFileChecksum(file, checksumOf)).toBe('sum(p new)');
    expect(calls.slice(0, 3)).toEqual(['p old', 'p OLD', 'p new']);
    // Gone: a miss, not the remembered checksum.
    unlinkSync(file);
    expect(sourceFileChecksum(file, checksumOf)).toBeUndefined();
    // A directory or FIFO at the path: undefined, never a hang.
    mkdirSync(file);
    expect(sourceFileChecksum(file, checksumOf)).toBeUndefined();
    if (process.platform !== 'win32') {
      execFileSync('mkfifo', [join(dir, 'fifo')]);
      expect(sourceFileChecksum(join(dir, 'fifo'), checksumOf)).toBeUndefined();
    }
  });
});

describe('stampedSourceChecksum and fileStamp', () => {
  const checksumOf = (text: string) => `sum(${text})`;

  it('gives a stamp only for a file unchanged for two seconds, and the stamp fileStamp reads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bcc-source-'));
    dirs.push(dir);
    const file = join(dir, 'page.njk');
    writeFileSync(file, 'one');
    expect(stampedSourceChecksum(file, checksumOf)).toEqual({ checksum: 'sum(one)', stamp: null });
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const stamped = stampedSourceChecksum(file, checksumOf)!;
    expect(stamped.checksum).toBe('sum(one)');
    expect(stamped.stamp).toBe(fileStamp(file));
    // Answered from memory the second time, with the same stamp.
    expect(stampedSourceChecksum(file, checksumOf)).toEqual(stamped);
  });

  it('changes the stamp on any write (same text too), chmod and rename over the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bcc-source-'));
    dirs.push(dir);
    const file = join(dir, 'page.njk');
    const other = join(dir, 'other.njk');
    writeFileSync(file, 'one');
    writeFileSync(other, 'one');
    const seen = new Set<string | undefined>([fileStamp(file)]);
    const changes = [
      () => writeFileSync(file, 'one'),
      () => chmodSync(file, 0o600),
      () => renameSync(other, file),
    ];
    for (const change of changes) {
      // ctime has ~4 ms resolution on Linux: wait for the next tick so a change is visible
      const before = Date.now();
      while (Date.now() - before < 15) {
        // busy-wait: a few milliseconds, keeps the test synchronous
      }
      change();
      seen.add(fileStamp(file));
    }
    expect(seen.size).toBe(1 + changes.length);
    expect([...seen].every((stamp) => typeof stamp === 'string')).toBe(true);
    expect(fileStamp(join(dir, 'missing'))).toBeUndefined();
    expect(fileStamp(dir)).toBeUndefined();
  });
});
