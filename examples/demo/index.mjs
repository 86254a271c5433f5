// The README's main command. Renders five Nunjucks pages (extends, include, import, macros,
// loops) in fresh processes: without a cache, through the filesystem cache cold (first run
// after clearing it) and warm. Each line is one process; times are from process start.
// `--check` (used by the tests) also fails unless the warm runs are all cache hits and every
// run renders the same bytes.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSystemBytecodeCache } from '@bcc/fs';

const check = process.argv.includes('--check');
// The demo has a directory of its own (private, mode 0700, removed at the end), so clearing it
// for the cold run never touches the entries of your apps in bcc's default directory.
// BCC_DEMO_DIR names another one, kept afterwards.
const directory = process.env.BCC_DEMO_DIR || mkdtempSync(join(tmpdir(), 'bcc-demo-'));
const removeAtEnd = !process.env.BCC_DEMO_DIR;
const cache = new FileSystemBytecodeCache({ directory });
await cache.clear();
console.log(`bcc demo: filesystem cache in ${cache.directory}\n`);

const run = (mode) => {
  const out = execFileSync(
    process.execPath,
    [new URL('./render.mjs', import.meta.url).pathname, mode, directory],
    {
      encoding: 'utf8',
    },
  );
  return JSON.parse(out.trim().split('\n').pop());
};

const rows = [];
const plain = [];
const warm = [];
for (let i = 0; i < 3; i++) plain.push(run('none'));
const cold = run('bcc');
for (let i = 0; i < 3; i++) warm.push(run('bcc'));
const median = (list, field) => list.map((r) => r[field]).sort((a, b) => a - b)[Math.floor(list.length / 2)];
const describe = (r) =>
  r.stats
    ? `compiled ${r.stats.compiled}, from cache ${r.stats.cache + r.stats.cacheV8} (with V8 code cache ${r.stats.cacheV8})`
    : 'Nunjucks compiles every template';
rows.push(['no cache (median of 3)', median(plain, 'total'), median(plain, 'templates'), describe(plain[0])]);
rows.push(['bcc fs, cold', cold.total, cold.templates, describe(cold)]);
rows.push([
  'bcc fs, warm (median of 3)',
  median(warm, 'total'),
  median(warm, 'templates'),
  describe(warm[warm.length - 1]),
]);
console.log(
  `${'run'.padEnd(28)} ${'process'.padStart(9)} ${'templates'.padStart(10)}  where the code came from`,
);
for (const [name, total, templates, note] of rows) {
  console.log(
    `${name.padEnd(28)} ${total.toFixed(1).padStart(6)} ms ${templates.toFixed(1).padStart(7)} ms  ${note}`,
  );
}
const speedup = median(plain, 'templates') / median(warm, 'templates');
console.log(
  `\nloading and rendering the templates: ${speedup.toFixed(1)}× faster from the warm cache than compiling.`,
);
console.log(
  'the process column also holds Node start-up, importing Nunjucks and, for bcc, importing bcc (about 8 ms);\n' +
    'with five small pages that import is most of what the cache saves. `pnpm bench` measures 50 templates.',
);

if (removeAtEnd) rmSync(directory, { recursive: true, force: true });

if (check) {
  const problems = [];
  if (cold.stats.compiled === 0) problems.push('the cold run compiled nothing: the cache was not empty');
  for (const r of warm)
    if (r.stats.compiled !== 0 || r.stats.cacheV8 === 0)
      problems.push(`a warm run was not served from the cache: ${JSON.stringify(r.stats)}`);
  for (const r of [...warm, cold])
    if (r.bytes !== plain[0].bytes) problems.push(`output differs: ${r.bytes} vs ${plain[0].bytes} bytes`);
  if (problems.length) {
    console.error(`\ndemo check failed:\n- ${problems.join('\n- ')}`);
    process.exit(1);
  }
  console.log('demo check passed: warm runs were cache hits and output matched byte for byte.');
}
