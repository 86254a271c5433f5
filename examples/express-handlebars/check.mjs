// `pnpm test`: each run is a fresh process that starts the app on a free loopback port, requests
// every page, prints the HTML and bcc's stats, and exits. Plain (BCC_CACHE=none), bcc cold (an
// empty directory) and bcc warm must serve the same bytes; the warm process must compile nothing.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

if (process.argv[2] === '--child') {
  const { createApp } = await import('./app.mjs');
  const { app, bcc } = await createApp();
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address();
  const pages = {};
  for (const path of ['/', '/orders'])
    pages[path] = await (await fetch(`http://127.0.0.1:${port}${path}`)).text();
  await bcc?.flush();
  server.close();
  console.log(JSON.stringify({ pages, stats: bcc?.stats ?? null }));
} else {
  const directory = mkdtempSync(join(tmpdir(), 'bcc-express-hbs-'));
  const run = (cache) =>
    JSON.parse(
      execFileSync(process.execPath, [new URL(import.meta.url).pathname, '--child'], {
        encoding: 'utf8',
        env: { ...process.env, BCC_CACHE: cache },
      }),
    );
  try {
    const plain = run('none');
    const cold = run(`file://${directory}`);
    const warm = run(`file://${directory}`);
    const problems = [];
    for (const [label, result] of [
      ['cold', cold],
      ['warm', warm],
    ]) {
      for (const path of Object.keys(plain.pages)) {
        if (result.pages[path] !== plain.pages[path])
          problems.push(`${label} ${path} differs from plain Handlebars`);
      }
    }
    if (!plain.pages['/'].includes('Welcome back, Ada Lovelace'))
      problems.push('the home page did not render');
    if (cold.stats.compiled === 0) problems.push('the cold process compiled nothing');
    if (warm.stats.compiled !== 0 || warm.stats.cacheV8 === 0)
      problems.push(`the warm process was not served from the cache: ${JSON.stringify(warm.stats)}`);
    console.log(`plain, cold and warm processes served the same ${Object.keys(plain.pages).length} pages`);
    console.log(`cold: ${JSON.stringify(cold.stats)}\nwarm: ${JSON.stringify(warm.stats)}`);
    if (problems.length > 0) {
      console.error(`express-handlebars check failed:\n- ${problems.join('\n- ')}`);
      process.exitCode = 1;
    } else console.log('express-handlebars check passed');
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
