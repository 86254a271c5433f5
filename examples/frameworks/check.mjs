// `pnpm test`: every framework setup in fresh processes: plain (BCC_CACHE=none), bcc cold (an
// empty directory) and bcc warm must serve the same bytes; the warm process must compile nothing.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SETUPS = [
  ['express-nunjucks'],
  ['express-pug'],
  ['express-eta'],
  ['koa-nunjucks'],
  ['koa', 'pug'],
  ['koa', 'handlebars'],
  ['koa', 'eta'],
  ['fastify', 'nunjucks'],
  ['fastify', 'pug'],
  ['fastify', 'handlebars'],
  ['fastify', 'eta'],
];

if (process.argv[2] === '--child') {
  const [, , , module, engine] = process.argv;
  const { start } = await import(`./setups/${module}.mjs`);
  const server = await start(engine);
  const response = await fetch(server.url);
  const page = {
    status: response.status,
    type: response.headers.get('content-type'),
    body: await response.text(),
  };
  await server.bcc?.flush();
  await server.close();
  console.log(JSON.stringify({ page, stats: server.bcc?.stats ?? null }));
} else {
  const problems = [];
  for (const [module, engine] of SETUPS) {
    const label = engine ? `${module} ${engine}` : module;
    const directory = mkdtempSync(join(tmpdir(), 'bcc-frameworks-'));
    const run = (cache) =>
      JSON.parse(
        execFileSync(process.execPath, [new URL(import.meta.url).pathname, '--child', module, engine ?? ''], {
          encoding: 'utf8',
          env: { ...process.env, BCC_CACHE: cache },
        }),
      );
    try {
      const plain = run('none');
      const cold = run(`file://${directory}`);
      const warm = run(`file://${directory}`);
      if (plain.page.status !== 200 || !plain.page.body.includes('<li class="item">PEARS</li>'))
        problems.push(`${label}: the plain page did not render: ${JSON.stringify(plain.page).slice(0, 200)}`);
      for (const [name, result] of [
        ['cold', cold],
        ['warm', warm],
      ]) {
        if (JSON.stringify(result.page) !== JSON.stringify(plain.page))
          problems.push(`${label}: ${name} differs from plain`);
      }
      if (!cold.stats || cold.stats.compiled === 0)
        problems.push(`${label}: the cold process compiled nothing`);
      if (warm.stats?.compiled !== 0 || warm.stats.cache + warm.stats.cacheV8 === 0)
        problems.push(
          `${label}: the warm process was not served from the cache: ${JSON.stringify(warm.stats)}`,
        );
      console.log(
        `${label.padEnd(22)} plain = cold = warm; cold compiled ${cold.stats?.compiled}, warm from the cache ${warm.stats?.cacheV8} (+${warm.stats?.cache} without V8 cache)`,
      );
    } catch (error) {
      problems.push(`${label}: ${error.message}`);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  }
  if (problems.length > 0) {
    console.error(`frameworks check failed:\n- ${problems.join('\n- ')}`);
    process.exitCode = 1;
  } else console.log(`frameworks check passed: ${SETUPS.length} setups`);
}
