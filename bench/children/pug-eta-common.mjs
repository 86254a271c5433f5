// What the Pug and Eta benchmark children share: the page data and rendering every page.
import { context } from '../context.mjs';
import { config, pageReport } from './common.mjs';

export { config };

/** Renders each page with `render(name, locals)`; prints the one JSON line every child prints. */
export async function renderPages(mode, render, ready, finish = async () => null) {
  const report = pageReport();
  for (const name of config.pages) report.add(await render(name, { ...context, page: name, title: name }));
  await report.print(mode, ready, finish);
}
