// What every Handlebars benchmark child shares: the helpers, the context, and rendering the 40
// pages into the layout. argv[2]: JSON config { templates, precompiled?, directory? }.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { context } from '../context.mjs';
import { config, pageReport } from './common.mjs';

export { config };

export function registerHelpers(hb) {
  hb.registerHelper('eq', (a, b) => a === b);
  hb.registerHelper('titlecase', (text) => String(text ?? '').replace(/\b\w/g, (c) => c.toUpperCase()));
  hb.registerHelper('money', (amount) => `€${Number(amount ?? 0).toFixed(2)}`);
  hb.registerHelper('sum', (list) => (list ?? []).reduce((total, item) => total + (item.total ?? 0), 0));
  hb.registerHelper('range', (n) => Array.from({ length: n }, (_, i) => i + 1));
}

/** The template sources under `dir`, by name without extension. */
export function readTemplates(dir) {
  const out = {};
  for (const group of ['layouts', 'partials', 'pages']) {
    for (const file of readdirSync(join(dir, group)))
      out[`${group}/${file.replace(/\.hbs$/, '')}`] = readFileSync(join(dir, group, file), 'utf8');
  }
  return out;
}

/**
 * Compiles the site from source with `hb.compile` (as express-handlebars does), partials
 * registered by name: what the no-cache and bcc modes share. Returns the layout and the pages.
 */
export function compileSite(hb) {
  registerHelpers(hb);
  const sources = readTemplates(config.templates);
  for (const [name, source] of Object.entries(sources))
    if (name.startsWith('partials/')) hb.registerPartial(name.slice(9), source);
  const pages = Object.entries(sources)
    .filter(([name]) => name.startsWith('pages/'))
    .map(([name, source]) => [name, hb.compile(source)]);
  return { layout: hb.compile(sources['layouts/main']), pages };
}

const hbsContext = {
  ...context,
  category0: 'garden',
  category1: 'kitchen',
  category2: 'office',
  stats: [
    { label: 'visits', value: 1204, delta: 4 },
    { label: 'orders', value: 87 },
    { label: 'returns', value: 3, delta: -1 },
  ],
  sidebarLinks: [{ href: '/help', label: 'Help' }],
};

/** Renders every page into the layout; prints one JSON line (like the Nunjucks children). */
export async function renderAndReport(mode, layout, pages, ready, finish = async () => null) {
  const report = pageReport();
  for (const [name, page] of pages) {
    const ctx = { ...hbsContext, page: name, title: name };
    report.add(layout({ ...ctx, body: page(ctx) }));
  }
  await report.print(mode, ready, finish);
}
