import { type ChildProcess, execFile, fork } from 'node:child_process';
import { readdirSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { FileSystemBytecodeCache, STALE_TEMP_MS } from '../src/index.js';
// @ts-expect-error: a plain .mjs fixture shared with the child processes, no types
import { environment, templateSource, verifyCode } from './fixtures/entries.mjs';
import { scratchDir } from './helpers.js';

// The children import the built package ('@bcc/fs' resolves to dist), as an app would.
const worker = fileURLToPath(new URL('./fixtures/worker.mjs', import.meta.url));
const run = promisify(execFile);

interface MixedReport {
  id: number;
  writes: number;
  hits: number;
  misses: number;
  missAfterHit: number;
  bad: string[];
  errors: string[];
  rejected: Record<string, number>;
  writers: Record<string, number>;
}

describe('many processes, one directory', () => {
  it('never lets a reader see a torn or mixed entry', async () => {
    const directory = scratchDir('mp');
    const processes = 8;
    const keys = 3;
    const reports = await Promise.all(
      Array.from({ length: processes }, async (_, id) => {
        const { stdout } = await run(
          process.execPath,
          [worker, 'mixed', directory, String(id), '3000', String(keys)],
          {
            maxBuffer: 16 * 1024 * 1024,
          },
        );
        return JSON.parse(stdout) as MixedReport;
      }),
    );
    const total = { writes: 0, hits: 0, misses: 0 };
    const writersSeen = new Set<string>();
    for (const report of reports) {
      expect(report.bad, `process ${report.id}`).toEqual([]);
      expect(report.rejected, `process ${report.id}`).toEqual({});
      expect(report.errors, `process ${report.id}`).toEqual([]);
      expect(report.missAfterHit, `process ${report.id}`).toBe(0);
      total.writes += report.writes;
      total.hits += report.hits;
      total.misses += report.misses;
      for (const writer of Object.keys(report.writers)) writersSeen.add(writer);
    }
    // The test means something only if the processes really raced on the same entries.
    expect(total.writes).toBeGreaterThan(100);
    expect(total.hits).toBeGreaterThan(100);
    expect(writersSeen.size).toBeGreaterThan(1);
    // Every write finished with a rename: no temp file is left behind.
    expect(readdirSync(directory).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    console.info(`8 processes: ${total.writes} writes, ${total.hits} hits, ${total.misses} misses`);
  }, 40_000);

  it('leaves no partial entry when writers are killed mid-write, and clear() removes their temp files', async () => {
    const directory = scratchDir('kill');
    const cache = new FileSystemBytecodeCache({ directory });
    const jsBytes = 4 * 1024 * 1024;
    let strayTemps = 0;
    let loaded = 0;
    for (let round = 0; round < 12 && (round < 4 || strayTemps === 0); round++) {
      const writers = await Promise.all(
        Array.from({ length: 3 }, (_, i) => startWriter(directory, round * 10 + i, jsBytes)),
      );
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 150));
      await Promise.all(writers.map(killHard));
      strayTemps += readdirSync(directory).filter((name) => name.endsWith('.tmp')).length;
      for (const k of [0, 1]) {
        const bucket = cache.getBucketSync(environment, `shared-${k}`, null, templateSource);
        expect(bucket.lastLoad?.status ?? 'miss').not.toBe('rejected');
        if (bucket.code) {
          expect(verifyCode(bucket.code)).toMatchObject({ ok: true });
          loaded++;
        }
      }
    }
    console.info(`kill test: ${strayTemps} stray temp files seen, ${loaded} complete entries loaded`);
    expect(cache.stats.rejected).toEqual({});
    expect(loaded).toBeGreaterThan(0);
    // SIGKILL between open and rename leaves temp files; with 4 MB entries that is most of the time.
    expect(strayTemps).toBeGreaterThan(0);

    // Fresh temp files might be writes in progress elsewhere: clear() keeps them...
    const temps = () => readdirSync(directory).filter((name) => name.endsWith('.tmp'));
    const left = temps();
    await cache.clear();
    expect(readdirSync(directory).sort()).toEqual(left.sort());
    // ...and removes them once they are old enough to belong to dead writers.
    const old = new Date(Date.now() - STALE_TEMP_MS - 1_000);
    for (const name of left) utimesSync(join(directory, name), old, old);
    await cache.clear();
    expect(readdirSync(directory)).toEqual([]);
  }, 40_000);
});

function startWriter(directory: string, id: number, jsBytes: number): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = fork(worker, ['writer', directory, String(id), String(jsBytes)], { stdio: 'ignore' });
    child.once('message', () => resolve(child));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`writer ${id} exited early with ${code}`)));
  });
}

function killHard(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
