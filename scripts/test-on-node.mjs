#!/usr/bin/env node
// Runs every test (scripts/run-tests.mjs, as `pnpm test` does) on other Node versions, each
// installed from the npm registry by install-node.mjs:
//
//   node scripts/test-on-node.mjs 22 24 26
//
// Each version runs the whole suite with its `node` first on PATH; the exit code is non-zero if
// any version failed. The test servers must be installed already (`pnpm test` does that).
import { spawnSync } from 'node:child_process';
import { delimiter, join } from 'node:path';
import { installNode } from './install-node.mjs';

const root = new URL('..', import.meta.url).pathname;
const majors = process.argv.slice(2);
if (majors.length === 0) {
  console.error('usage: test-on-node.mjs <major> [<major> …]');
  process.exit(2);
}
const results = [];
for (const major of majors) {
  const bin = installNode(major);
  console.log(`\n=== Node ${major} (${bin}) ===`);
  const run = spawnSync(join(bin, 'node'), [join(root, 'scripts/run-tests.mjs')], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH}` },
  });
  results.push({ major, ok: run.status === 0 });
}
console.log(`\nNode versions: ${results.map((r) => `${r.major} ${r.ok ? 'passed' : 'FAILED'}`).join(', ')}`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
