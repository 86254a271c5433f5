#!/usr/bin/env node
// Runs every package's tests through turbo (serially: the machine has 2 cores and the adapter
// tests start servers), echoes the output, and ends with one summary line over all vitest runs:
// "Tests: N passed, N failed, N skipped". Exits with turbo's exit code.
import { spawn } from 'node:child_process';
import { stripVTControlCharacters } from 'node:util';

const args = ['run', 'test', '--concurrency=1', '--continue', ...process.argv.slice(2)];
const turbo = new URL('../node_modules/.bin/turbo', import.meta.url).pathname;
const child = spawn(turbo, args, {
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, FORCE_COLOR: '1' },
});
const totals = { passed: 0, failed: 0, skipped: 0 };
const files = { failed: [] };
let pending = '';

function scan(line) {
  const plain = stripVTControlCharacters(line);
  const body = plain.replace(/^[^:\s]+:test:\s?/, '');
  const prefix = plain.match(/^([^:\s]+):test:/)?.[1];
  if (/^\s*Tests\s+\d/.test(body)) {
    for (const kind of ['passed', 'failed', 'skipped']) {
      const m = body.match(new RegExp(`(\\d+) ${kind}`));
      if (m) totals[kind] += Number(m[1]);
    }
    if (/\d+ failed/.test(body) && prefix) files.failed.push(prefix);
  }
}

child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  pending += chunk.toString('utf8');
  const lines = pending.split('\n');
  pending = lines.pop();
  for (const line of lines) scan(line);
});
child.on('close', (code) => {
  if (pending) scan(pending);
  if (files.failed.length) console.log(`\nfailing packages: ${files.failed.join(', ')}`);
  console.log(`\nTests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
  process.exit(code ?? 1);
});
