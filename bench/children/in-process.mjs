// In-process cost of one small page in a fresh process: from Nunjucks imported to the page
// rendered, with the mode's set-up in between (importing bcc and making the cache, or requiring
// the precompiled module). argv[2]: JSON config { mode, templates, pages, precompiled?, directory? }.
const { default: nunjucks } = await import('nunjucks');
const { context } = await import('../context.mjs');
const { makeEnvironment } = await import('./environment.mjs');
const config = JSON.parse(process.argv[2]);
const started = performance.now();
const { env, bcc } = await makeEnvironment(nunjucks, config);
let bytes = 0;
for (const page of config.pages) {
  bytes += await new Promise((resolve, reject) =>
    env.render(page, context, (error, html) => (error ? reject(error) : resolve(html.length))),
  );
}
const inProcess = performance.now() - started;
if (bcc) await bcc.flush();
process.stdout.write(`${JSON.stringify({ inProcess, bytes, stats: bcc?.stats ?? null })}\n`);
