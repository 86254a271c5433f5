// pnpm test: runs the example twice against a fresh cache directory, as two processes. The
// first run must compile (a miss), the second must load the cached JavaScript and V8 code cache.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const directory = mkdtempSync(join(tmpdir(), 'bcc-example-fs-'));
const run = () =>
  execFileSync(process.execPath, ['index.mjs'], {
    cwd: import.meta.dirname,
    env: { ...process.env, BCC_CACHE_DIR: directory },
    encoding: 'utf8',
  });

try {
  const first = run();
  const second = run();
  process.stdout.write(`first run:\n${first}second run:\n${second}`);
  const failures = [];
  if (!/^miss: loaded from compiled/m.test(first)) failures.push('the first run should compile (a miss)');
  if (!/^hit: loaded from cache\+v8/m.test(second))
    failures.push('the second run should hit, with the V8 cache');
  if (!second.includes('Hello, Ada &#60;admin&#62;!')) failures.push('the cached template rendered wrongly');
  if (failures.length > 0) {
    console.error(`FAIL: ${failures.join('; ')}`);
    process.exitCode = 1;
  } else {
    console.log('ok: the second process loaded the template from the filesystem cache');
  }
} finally {
  rmSync(directory, { recursive: true, force: true });
}
