import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readSourceFile } from '../src/source-file.js';

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
