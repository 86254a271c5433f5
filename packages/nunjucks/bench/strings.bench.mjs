// String templates (`strings: true`): templates kept in a database or CMS, rendered with
// env.renderString(). Each run is a fresh process that renders 30 e-mail-like strings: plain
// Nunjucks compiles each one; bcc with a warm filesystem cache loads them. Modes are
// interleaved round by round; prints medians and the ratio.
//
//   node bench/strings.bench.mjs [--runs N]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1] || 9);
const child = fileURLToPath(new URL('./strings-child.mjs', import.meta.url));
const directory = mkdtempSync(join(tmpdir(), 'bcc-strings-bench-'));
const run = (mode) =>
  JSON.parse(execFileSync(process.execPath, [child, mode, directory], { encoding: 'utf8' }));
try {
  run('bcc'); // fills the cache (cold), then every bcc run below is warm
  const samples = { plain: [], bcc: [] };
  for (let i = 0; i < runs; i++) for (const mode of ['plain', 'bcc']) samples[mode].push(run(mode).ms);
  const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
  const plain = median(samples.plain);
  const bcc = median(samples.bcc);
  console.log(
    'string templates: 30 e-mail-like strings rendered once each in a fresh process (median of %d)',
    runs,
  );
  console.log(`  plain Nunjucks (compiles every string)   ${plain.toFixed(1).padStart(6)} ms`);
  console.log(
    `  bcc strings: true, warm fs cache          ${bcc.toFixed(1).padStart(6)} ms   ${(bcc / plain).toFixed(2)}× plain`,
  );
} finally {
  rmSync(directory, { recursive: true, force: true });
}
