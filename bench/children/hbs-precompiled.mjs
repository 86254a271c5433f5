// Handlebars' own ahead-of-time path: template specs precompiled at build time into one module.
import { createRequire } from 'node:module';
import Handlebars from 'handlebars';
import { config, registerHelpers, renderAndReport } from './hbs-common.mjs';

const specs = createRequire(import.meta.url)(config.precompiled);
const hb = Handlebars.create();
registerHelpers(hb);
const templates = Object.fromEntries(
  Object.entries(specs).map(([name, spec]) => [name.replace(/\.hbs$/, ''), hb.template(spec)]),
);
for (const [name, template] of Object.entries(templates))
  if (name.startsWith('partials/')) hb.registerPartial(name.slice(9), template);
const pages = Object.entries(templates).filter(([name]) => name.startsWith('pages/'));
await renderAndReport('hbs-precompiled', templates['layouts/main'], pages, performance.now());
