#!/usr/bin/env node
// Checks the release plan that `changeset version` would carry out, so a surprise is caught in
// CI and not on the registry: every public package (one "fixed" family) moves to the same
// version, no private package is versioned, and no package jumps more than one major. This is
// what would have caught adapters being planned as 1.0.0 beside a core at 0.2.0 (their peer
// range `workspace:^` stopped matching a 0.x core's new minor).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const publicPackages = readdirSync(join(root, 'packages'))
  .map((dir) => JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')))
  .filter((pkg) => !pkg.private);
const dir = mkdtempSync(join(tmpdir(), 'bcc-release-'));
const out = join(dir, 'plan.json');
try {
  execFileSync(join(root, 'node_modules/.bin/changeset'), ['status', `--output=${out}`], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const plan = JSON.parse(readFileSync(out, 'utf8'));
  const problems = [];
  const planned = new Map(plan.releases.filter((r) => r.type !== 'none').map((r) => [r.name, r]));
  const versions = new Set();
  for (const pkg of publicPackages) {
    const release = planned.get(pkg.name);
    if (!release) {
      if (planned.size > 0) problems.push(`${pkg.name} is not in the release plan, but its family is`);
      continue;
    }
    versions.add(release.newVersion);
    const [oldMajor] = pkg.version.split('.').map(Number);
    const [newMajor] = release.newVersion.split('.').map(Number);
    if (newMajor > Math.max(oldMajor, 0) + 1)
      problems.push(`${pkg.name} jumps from ${pkg.version} to ${release.newVersion}`);
  }
  if (versions.size > 1) {
    problems.push(
      `the family would split across versions: ${publicPackages.map((p) => `${p.name}@${planned.get(p.name)?.newVersion ?? p.version}`).join(', ')}`,
    );
  }
  for (const name of planned.keys()) {
    if (!publicPackages.some((p) => p.name === name))
      problems.push(`private package ${name} would be versioned`);
  }
  if (problems.length > 0) {
    console.error(
      `release plan: ${problems.length} problem(s)\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    process.exit(1);
  }
  console.log(
    `release plan ok: ${planned.size === 0 ? 'nothing to release' : `${[...versions][0]} for ${planned.size} packages`}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
