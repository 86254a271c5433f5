// The same work as the other children, split into phases (for the "where the time goes" table):
// importing Nunjucks, setting up the mode (importing bcc, or requiring the precompiled module),
// loading all 50 templates (getTemplate with eager compile), and rendering the pages.
// argv[2]: JSON config as for the other children plus { mode: 'none' | 'precompiled' | 'bcc-fs' }.
const started = performance.now();
const { default: nunjucks } = await import('nunjucks');
const imported = performance.now();
const config = JSON.parse(process.argv[2]);
const { makeEnvironment } = await import('./environment.mjs');
const { env } = await makeEnvironment(nunjucks, config);
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
