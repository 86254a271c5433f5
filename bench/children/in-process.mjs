// In-process cost of one small page in a fresh process: from Nunjucks imported to the page
// rendered, with the mode's set-up in between (importing bcc and making the cache, or requiring
// the precompiled module). argv[2]: JSON config { mode, templates, pages, precompiled?, directory? }.
const { default: nunjucks } = await import('nunjucks');
const { context } = await import('../context.mjs');
const config = JSON.parse(process.argv[2]);
const started = performance.now();
let env;
let bcc = null;
if (config.mode === 'precompiled') {
  const { createRequire } = await import('node:module');
  env = new nunjucks.Environment(
    new nunjucks.PrecompiledLoader(createRequire(import.meta.url)(config.precompiled)),
  );
} else {
  env = new nunjucks.Environment(new nunjucks.FileSystemLoader(config.templates));
  if (config.mode === 'bcc-fs') {
    const [{ FileSystemBytecodeCache }, { useBytecodeCache }] = await Promise.all([
      import('@bcc/fs'),
      import('@bcc/nunjucks'),
    ]);
    bcc = useBytecodeCache(env, new FileSystemBytecodeCache({ directory: config.directory }));
  }
}
let bytes = 0;
for (const page of config.pages) {
  bytes += await new Promise((resolve, reject) =>
    env.render(page, context, (error, html) => (error ? reject(error) : resolve(html.length))),
  );
}
const inProcess = performance.now() - started;
if (bcc) await bcc.flush();
process.stdout.write(`${JSON.stringify({ inProcess, bytes, stats: bcc?.stats ?? null })}\n`);
