#!/usr/bin/env node
/**
 * Kill test for the filesystem cache: in each round two writer processes (one using the
 * synchronous dump, one the async one) store 64 KB – 1.5 MB entries under the same keys, and
 * are killed with SIGKILL at a random moment, usually in the middle of a write. The parent reads
 * every entry while they write and again after the kill. A torn read is an entry file whose
 * bytes are not one whole frame as a writer wrote it. Target: 0.
 *
 *   node kill.mjs [--rounds 1000] [--seed N] [--naive]
 *
 * `--naive` makes the writers write files in place, without the cache's temp file + rename: the
 * control run, which must report torn reads (and fail), proving the check can see them.
 *
 * Temp files a killed writer left behind are counted (they show the kill landed mid-write) and
 * removed between rounds; `clear()` removes such files itself once they are a minute old.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeFrame } from '@bcc/core';
import { FileSystemBytecodeCache } from '@bcc/fs';
import { scriptArgs, toNumber } from './lib/args.mjs';
import { KILL_KEYS, killChecksum, killCodeIntact, killKey } from './lib/kill-entries.mjs';
import { Rng } from './lib/rng.mjs';

const args = scriptArgs({
  rounds: { default: '1000' },
  seed: { default: String(Date.now() % 2 ** 31) },
  naive: { default: false, type: 'boolean' },
});
const rounds = toNumber(args.rounds);
const seed = toNumber(args.seed);
const rng = new Rng(seed);
const writer = fileURLToPath(new URL('./lib/kill-writer.mjs', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'bcc-reliability-kill-'));
const directory = join(root, 'cache');
// Made here, so the directory exists (0700) before the writers start.
const cache = new FileSystemBytecodeCache({ directory });
const entryNames = new Set(
  Array.from({ length: KILL_KEYS }, (_, k) => cache.pathOf(killKey(k)).slice(directory.length + 1)),
);

const totals = {
  reads: 0,
  hits: 0,
  misses: 0,
  torn: 0,
  wrongCode: 0,
  kills: 0,
  leftTemp: 0,
  killedBeforeReady: 0,
};
const torn = [];

/** Reads every entry the way a reader process would: one read of the whole file, then the decoder. */
function readAll() {
  for (let k = 0; k < KILL_KEYS; k++) {
    totals.reads++;
    let bytes;
    try {
      bytes = readFileSync(cache.pathOf(killKey(k)));
    } catch (error) {
      if (error.code !== 'ENOENT') throw error;
      totals.misses++;
      continue;
    }
    const result = decodeFrame(bytes, { checksum: killChecksum(k), key: killKey(k) });
    if (!result.ok) {
      totals.torn++;
      if (torn.length < 5) torn.push({ key: k, size: bytes.length, reason: result.reason });
    } else if (!killCodeIntact(result.js, result.v8)) {
      totals.wrongCode++;
    } else totals.hits++;
  }
}

function startWriter(id, version) {
  const argv = [writer, directory, String(id), String(version), ...(args.naive ? ['naive'] : [])];
  const child = spawn(process.execPath, argv, {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  const ready = new Promise((resolve) => child.stdout.once('data', resolve));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, ready, exited, stderr: () => stderr };
}

const started = performance.now();
try {
  for (let round = 0; round < rounds; round++) {
    const writers = [0, 1].map((id) => startWriter(id, round * 1000));
    await Promise.all(writers.map((w) => w.ready));
    // Read while they write, then kill both at a random moment.
    const deadline = performance.now() + rng.int(40);
    do {
      readAll();
      await new Promise((resolve) => setImmediate(resolve));
    } while (performance.now() < deadline);
    for (const w of writers) w.child.kill('SIGKILL');
    for (const w of writers) {
      const { code, signal } = await w.exited;
      totals.kills++;
      if (signal !== 'SIGKILL') throw new Error(`a writer exited by itself (code ${code}): ${w.stderr()}`);
    }
    readAll();
    for (const name of readdirSync(directory)) {
      if (entryNames.has(name)) continue;
      totals.leftTemp++;
      unlinkSync(join(directory, name));
    }
    if ((round + 1) % 100 === 0) {
      process.stderr.write(
        `  ${round + 1} rounds, ${totals.reads} reads, ${totals.torn} torn, ${totals.leftTemp} writes cut by the kill\n`,
      );
    }
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
const seconds = (performance.now() - started) / 1000;
for (const t of torn) process.stderr.write(`  TORN ${JSON.stringify(t)}\n`);
const ok = totals.torn === 0 && totals.wrongCode === 0 && totals.hits > 0;
console.log(
  `kill ${ok ? 'PASS' : 'FAIL'}${args.naive ? ' (naive in-place writers: the control)' : ''}: rounds=${rounds} writers-killed=${totals.kills} writes-cut-mid-file=${totals.leftTemp} ` +
    `reads=${totals.reads} whole=${totals.hits} missing=${totals.misses} torn=${totals.torn} wrong-code=${totals.wrongCode} ` +
    `in ${seconds.toFixed(0)} s; seed=${seed}`,
);
process.exitCode = ok ? 0 : 1;
