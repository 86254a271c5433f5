import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

export const environment = { fingerprint: 'fs-test' };

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory removed after the test. */
export function scratchDir(label = 'fs'): string {
  const dir = mkdtempSync(join(tmpdir(), `bcc-${label}-`));
  made.push(dir);
  return dir;
}

/** True when this process can change file ownership and ignore permissions (root). */
export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
