#!/usr/bin/env node
// One source of truth for what every published package declares: the root package.json's
// repository, homepage, bugs and license, the root LICENSE file, an `exports` map that works for
// `import` and `require()` (ESM-only: Node >= 20.19 loads it through require(esm); see
// docs/packaging.md), and `files` that ship only what `exports` and the types reach.
//
//   node scripts/package-meta.mjs --check   report differences, exit 1 if any (CI)
//   node scripts/package-meta.mjs --write   rewrite package.json files and LICENSE copies
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const mode = process.argv[2];
if (mode !== '--check' && mode !== '--write') {
  console.error('usage: package-meta.mjs --check | --write');
  process.exit(2);
}
const root = new URL('..', import.meta.url).pathname;
const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const license = readFileSync(join(root, 'LICENSE'), 'utf8');
const repoWeb = rootPkg.repository.url.replace(/^git\+/, '').replace(/\.git$/, '');
const problems = [];

for (const dir of readdirSync(join(root, 'packages')).sort()) {
  const pkgPath = join(root, 'packages', dir, 'package.json');
  const text = readFileSync(pkgPath, 'utf8');
  const pkg = JSON.parse(text);
  if (pkg.private) continue;
  const bundle = pkg.exports?.['.']?.default ?? pkg.exports?.['.']?.import;
  if (typeof bundle !== 'string') {
    problems.push(`${pkg.name}: exports["."] names no JavaScript file`);
    continue;
  }
  const wanted = {
    license: 'MIT',
    repository: { type: 'git', url: rootPkg.repository.url, directory: `packages/${dir}` },
    homepage: `${repoWeb}/tree/main/packages/${dir}#readme`,
    bugs: rootPkg.bugs,
    exports: {
      '.': { types: './dist/index.d.ts', default: bundle },
      './package.json': './package.json',
    },
    main: bundle,
    types: './dist/index.d.ts',
    files: [
      bundle.replace(/^\.\//, ''),
      `${bundle.replace(/^\.\//, '')}.map`,
      'dist/**/*.d.ts',
      // A command's bin script ships too.
      ...Object.values(pkg.bin ?? {}).map((bin) => bin.replace(/^\.\//, '')),
      'README.md',
      'LICENSE',
      'CHANGELOG.md',
    ],
  };
  const next = { ...pkg };
  for (const [key, value] of Object.entries(wanted)) {
    if (JSON.stringify(pkg[key]) !== JSON.stringify(value)) {
      problems.push(`${pkg.name}: ${key} should be ${JSON.stringify(value)}`);
      next[key] = value;
    }
  }
  const licensePath = join(root, 'packages', dir, 'LICENSE');
  let packageLicense = '';
  try {
    packageLicense = readFileSync(licensePath, 'utf8');
  } catch {}
  if (packageLicense !== license) problems.push(`${pkg.name}: LICENSE differs from the root LICENSE`);
  // The registry shows the README without the repository around it: links must be absolute.
  const readme = readFileSync(join(root, 'packages', dir, 'README.md'), 'utf8');
  for (const match of readme.matchAll(/\]\((\.\.\/[^)]*)\)/g)) {
    problems.push(
      `${pkg.name}: README links to ${match[1]}, which is not in the package; link ${repoWeb}/… instead`,
    );
  }
  if (mode === '--write') {
    // Keep the file's key order, appending keys it lacked.
    writeFileSync(pkgPath, `${JSON.stringify(next, null, 2)}\n`);
    writeFileSync(licensePath, license);
  }
}

if (mode === '--check' && problems.length > 0) {
  console.error(
    `package metadata: ${problems.length} problem(s)\n${problems.map((p) => `  - ${p}`).join('\n')}`,
  );
  console.error('Run `node scripts/package-meta.mjs --write` (README links are fixed by hand).');
  process.exit(1);
}
console.log(mode === '--write' ? 'package metadata written' : 'package metadata ok');
