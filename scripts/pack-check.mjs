#!/usr/bin/env node
// What a user gets from the registry, checked before it gets there: packs every public package,
// lints the tarballs (publint, and @arethetypeswrong/cli for the types of both module kinds),
// installs them with npm into throwaway apps outside the workspace (an ES module app, a
// CommonJS app, and TypeScript apps under `module: nodenext` compiled both ways), and runs each
// app, cold then warm, on every Node binary given.
//
//   node scripts/pack-check.mjs [--node <path to node> …]   (default: this Node)
//
// Needs the packages built (`pnpm build`) and the npm registry (for nunjucks and typescript).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { apps, views } from './pack-check/apps.mjs';

const root = new URL('..', import.meta.url).pathname;
const bin = (name) => join(root, 'node_modules', '.bin', name);
const nodes = [];
for (let i = 2; i < process.argv.length; i++) {
  if (process.argv[i] === '--node') nodes.push(resolve(process.argv[++i]));
}
if (nodes.length === 0) nodes.push(process.execPath);
const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const versionOf = (dep) => rootPkg.devDependencies?.[dep];

const work = mkdtempSync(join(tmpdir(), 'bcc-pack-check-'));
const failures = [];
const step = (what, fn) => {
  try {
    return fn();
  } catch (error) {
    const output = [error.stdout, error.stderr].filter(Boolean).join('\n').trim();
    failures.push(`${what}: ${error.message.split('\n')[0]}${output ? `\n${output}` : ''}`);
    return undefined;
  }
};

try {
  // 1. Pack, as `pnpm publish` would (workspace: ranges replaced by real ones).
  const packs = join(work, 'packs');
  mkdirSync(packs);
  const tarballs = {};
  /** Bin scripts each package declares: they ship besides dist/. */
  const bins = {};
  for (const dir of readdirSync(join(root, 'packages')).sort()) {
    const pkg = JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8'));
    if (pkg.private) continue;
    bins[pkg.name] = Object.values(pkg.bin ?? {}).map((file) => `package/${file.replace(/^\.\//, '')}`);
    execFileSync('pnpm', ['pack', '--pack-destination', packs], {
      cwd: join(root, 'packages', dir),
      stdio: 'ignore',
    });
    const file = readdirSync(packs).find((f) =>
      f.startsWith(`${pkg.name.replace('@', '').replace('/', '-')}-`),
    );
    tarballs[pkg.name] = join(packs, file);
  }
  console.log(`packed ${Object.keys(tarballs).length} packages`);

  // 2. Lint the tarballs.
  for (const [name, tarball] of Object.entries(tarballs)) {
    step(`publint ${name}`, () =>
      execFileSync(bin('publint'), ['run', '--strict', tarball], { encoding: 'utf8' }),
    );
    // ESM-only on purpose (docs/packaging.md): require() of it works through Node's require(esm),
    // so "CJS resolves to ESM" is expected; every other rule applies to both module kinds.
    step(`attw ${name}`, () =>
      execFileSync(
        bin('attw'),
        [tarball, '--profile', 'node16', '--ignore-rules', 'cjs-resolves-to-esm', '--no-color'],
        {
          encoding: 'utf8',
        },
      ),
    );
    const listing = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).split('\n');
    if (!listing.includes('package/LICENSE')) failures.push(`${name}: the tarball has no LICENSE`);
    const stray = listing.filter(
      (f) =>
        f.startsWith('package/') &&
        !/^package\/(dist\/|README\.md$|LICENSE$|CHANGELOG\.md$|package\.json$)/.test(f) &&
        !bins[name].includes(f) &&
        f !== 'package/',
    );
    if (stray.length > 0)
      failures.push(`${name}: ships files outside dist/, README, LICENSE: ${stray.join(', ')}`);
  }
  console.log('linted the tarballs (publint, attw)');

  // 3. One app folder, installed from the tarballs with npm, outside the workspace.
  const app = join(work, 'app');
  mkdirSync(join(app, 'views'), { recursive: true });
  for (const [name, text] of Object.entries(views)) writeFileSync(join(app, 'views', name), text);
  const dependencies = Object.fromEntries(
    Object.entries(tarballs).map(([name, file]) => [name, `file:${file}`]),
  );
  Object.assign(dependencies, {
    nunjucks: '3.2.4',
    '@types/nunjucks': '^3.2.6',
    '@types/node': versionOf('@types/node') ?? '^20.19.0',
    typescript: versionOf('typescript') ?? '5.9.3',
  });
  delete dependencies['@bcc/testkit']; // a test kit: installed below without vitest, as jest users would
  writeFileSync(join(app, 'package.json'), `${JSON.stringify({ private: true, dependencies }, null, 2)}\n`);
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: app,
    stdio: 'inherit',
  });
  step('testkit installs without vitest (an optional peer)', () => {
    execFileSync(
      'npm',
      ['install', '--no-audit', '--no-fund', '--loglevel=error', `file:${tarballs['@bcc/testkit']}`],
      {
        cwd: app,
        encoding: 'utf8',
      },
    );
    const installed = readdirSync(join(app, 'node_modules'));
    if (installed.includes('vitest')) throw new Error('npm installed vitest for @bcc/testkit');
  });

  for (const [kind, spec] of Object.entries(apps)) {
    const dir = join(app, kind);
    mkdirSync(dir, { recursive: true });
    for (const [name, text] of Object.entries(spec.files)) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    if (spec.tsc)
      step(`${kind}: tsc`, () =>
        execFileSync(join(app, 'node_modules/.bin/tsc'), ['-p', dir], { encoding: 'utf8' }),
      );
  }
  console.log(`installed ${Object.keys(apps).length} apps from the tarballs`);

  // 4. Run every app on every Node, cold then warm, in fresh processes.
  for (const node of nodes) {
    const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
    for (const kind of Object.keys(apps)) {
      const cache = mkdtempSync(join(work, `cache-${kind}-`));
      const run = () =>
        JSON.parse(
          execFileSync(node, apps[kind].run, {
            cwd: join(app, kind),
            encoding: 'utf8',
            env: {
              ...process.env,
              BCC_APP_CACHE: cache,
              BCC_APP_VIEWS: join(app, 'views'),
              NODE_OPTIONS: '',
            },
          }),
        );
      step(`${kind} on ${version}`, () => {
        const cold = run();
        const warm = run();
        const expected = '<html><body><h1>Hello Ada</h1></body></html>\n';
        if (cold.html !== expected || warm.html !== expected)
          throw new Error(`rendered ${JSON.stringify(cold.html)} / ${JSON.stringify(warm.html)}`);
        if (!cold.froms.every((f) => f === 'compiled')) throw new Error(`cold run loaded ${cold.froms}`);
        if (!warm.froms.every((f) => f === 'cache+v8')) throw new Error(`warm run loaded ${warm.froms}`);
        if (cold.core !== 'function') throw new Error('@bcc/core did not load');
        console.log(
          `  ${kind.padEnd(7)} ${version}: cold ${cold.froms.join(',')}; warm ${warm.froms.join(',')}`,
        );
      });
    }
    // The `bcc` command from the installed tarball, as `npx bcc` would run it.
    step(`bcc command on ${version}`, () => {
      const cache = mkdtempSync(join(work, 'cache-cli-'));
      const out = execFileSync(node, [join(app, 'node_modules/@bcc/cli/bin/bcc.mjs'), '--json', 'stats'], {
        cwd: app,
        encoding: 'utf8',
        env: { ...process.env, BCC_CACHE: `file://${cache}`, NODE_OPTIONS: '' },
      });
      const entries = JSON.parse(out).stores?.[0]?.entries;
      if (entries !== 0) throw new Error(`bcc stats said ${out}`);
      console.log(`  bcc     ${version}: stats on an empty cache`);
    });
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

if (failures.length > 0) {
  console.error(`\npack-check: ${failures.length} failure(s)\n${failures.map((f) => `- ${f}`).join('\n')}`);
  process.exit(1);
}
console.log('pack-check ok');
