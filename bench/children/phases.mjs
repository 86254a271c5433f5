// The same work as the other children, split into phases (for the "where the time goes" table):
// importing Nunjucks, setting up the mode (importing bcc, or requiring the precompiled module),
// loading all 50 templates (getTemplate with eager compile), and rendering the pages.
// argv[2]: JSON config as for the other children plus { mode: 'none' | 'precompiled' | 'bcc-fs' }.
const started = performance.now();
const { default: nunjucks } = await import('nunjucks');
const imported = performance.now();
const config = JSON.parse(process.argv[2]);
let env;
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
    useBytecodeCache(env, new FileSystemBytecodeCache({ directory: config.directory }));
  }
}
const setUp = performance.now();
for (const name of config.templateNames) env.getTemplate(name, true);
const loaded = performance.now();
const { context } = await import('../context.mjs');
const contextReady = performance.now();
for (const page of config.pages) env.render(page, context);
const rendered = performance.now();
process.stdout.write(
  `${JSON.stringify({
    start: started,
    nunjucks: imported - started,
    setup: setUp - imported,
    load: loaded - setUp,
    render: rendered - contextReady,
  })}\n`,
);
