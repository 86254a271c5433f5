// The two halves of the limit no template cache can beat. argv[2]: JSON config.
// - mode "start": start Node, import Nunjucks, exit (the parent measures the wall time);
// - mode "warm": a long-lived process that has rendered the pages once renders them again;
//   prints the milliseconds of that second render.
const config = JSON.parse(process.argv[2]);
const { default: nunjucks } = await import('nunjucks');
if (config.mode === 'warm') {
  const { context } = await import('../context.mjs');
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(config.templates));
  for (const page of config.pages) env.render(page, context);
  const started = performance.now();
  for (const page of config.pages) env.render(page, context);
  process.stdout.write(`${JSON.stringify({ warmRender: performance.now() - started })}\n`);
} else {
  process.stdout.write(`${JSON.stringify({ started: true })}\n`);
}
