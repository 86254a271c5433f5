// Handlebars with no cache: every template and partial compiled in every process.
import Handlebars from 'handlebars';
import { config, readTemplates, registerHelpers, renderAndReport } from './hbs-common.mjs';

const hb = Handlebars.create();
registerHelpers(hb);
const sources = readTemplates(config.templates);
for (const [name, source] of Object.entries(sources))
  if (name.startsWith('partials/')) hb.registerPartial(name.slice(9), source);
const pages = Object.entries(sources)
  .filter(([name]) => name.startsWith('pages/'))
  .map(([name, source]) => [name, hb.compile(source)]);
await renderAndReport('hbs-none', hb.compile(sources['layouts/main']), pages, performance.now());
