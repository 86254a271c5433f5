// Invokes the function in a fresh process each time, as a platform does on cold starts:
// without bcc, with an empty shared cache (the first cold start after a deploy), and with the
// cache that run filled. `--check` (the package's test) runs fewer invocations and fails unless
// every invocation renders the same page and the warm ones compile nothing.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const check = process.argv.includes('--check');
const runs = check ? 2 : 7;
const dir = mkdtempSync(join(tmpdir(), 'bcc-serverless-'));
const script = new URL('./cold-start.mjs', import.meta.url).pathname;

// Like the repository's benchmark: no NODE_EXTRA_CA_CERTS or NODE_OPTIONS in the function's
// environment, which would add their own start-up cost to every cold start.
const baseEnv = { ...process.env };
delete baseEnv.NODE_EXTRA_CA_CERTS;
delete baseEnv.NODE_OPTIONS;

function coldStart(cache) {
  const started = process.hrtime.bigint();
  const out = execFileSync(process.execPath, [script], {
    env: { ...baseEnv, BCC_CACHE: cache },
    encoding: 'utf8',
  });
  return {
    ...JSON.parse(out.trim().split('\n').pop()),
    wall: Number(process.hrtime.bigint() - started) / 1e6,
  };
}

const plain = [];
const warm = [];
let cold;
try {
  for (let i = 0; i < runs; i++) plain.push(coldStart('none'));
  cold = coldStart(`file://${dir}`);
  // Interleave the warm runs with more plain ones so machine noise hits both alike.
  for (let i = 0; i < runs; i++) {
    warm.push(coldStart(`file://${dir}`));
    plain.push(coldStart('none'));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const median = (list, field) => {
  const sorted = list.map((r) => r[field]).sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const rows = [
  ['no cache', plain],
  ['bcc, cold (empty cache)', [cold]],
  ['bcc, warm', warm],
].map(([label, list]) => [
  `${label}${list.length > 1 ? ` (median of ${list.length})` : ''}`,
  median(list, 'init').toFixed(1),
  median(list, 'invoke').toFixed(1),
  median(list, 'total').toFixed(1),
  median(list, 'wall').toFixed(1),
]);
const header = ['cold start', 'init ms', 'invocation ms', 'ready→done ms', 'process wall ms'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
for (const row of [header, ...rows]) console.log(row.map((c, i) => c.padEnd(widths[i])).join('  '));
console.log(
  `\nfirst invocation of a cold instance: ${(median(plain, 'invoke') / median(warm, 'invoke')).toFixed(1)}× faster with a warm bcc cache; whole process ${(median(plain, 'wall') / median(warm, 'wall')).toFixed(2)}× faster`,
);

const failures = [];
for (const run of [...warm, cold])
  if (run.body !== plain[0].body) failures.push('a bcc invocation rendered a different page');
if (warm.some((run) => run.stats.compiled !== 0)) failures.push('a warm invocation compiled templates');
if (cold.stats.compiled !== 3)
  failures.push(`the cold invocation compiled ${cold.stats.compiled} templates, expected 3`);
if (failures.length > 0) {
  console.error(`FAILED:\n- ${failures.join('\n- ')}`);
  process.exit(1);
}
if (check) console.log('check passed: same page every time, warm invocations compiled nothing');
