// The Handlebars workload: a realistic site of 50 templates (a layout, 9 partials, 40 pages)
// using helpers, partials with parameters, each/if/with/unless and escaping, generated
// deterministically. Pages are rendered into the layout (express-handlebars' way: the page's
// output becomes the layout's {{{body}}}).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Handlebars from 'handlebars';
import { prng } from './generate.mjs';

export const HBS_PAGES = 40;

const LAYOUT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{title}} · {{site.name}}</title>
{{#each site.stylesheets}}<link rel="stylesheet" href="/css/{{this}}.css">{{/each}}</head>
<body class="page-{{page}}">
{{> header}}
{{> flash}}
<main class="container">{{{body}}}</main>
{{> footer}}
</body></html>
`;

const PARTIALS = {
  header: `<header class="navbar"><a class="brand" href="/">{{site.name}}</a>
<nav>{{#each menu}}<a href="{{href}}"{{#if (eq label ../page)}} class="active"{{/if}}>{{titlecase label}}</a>{{/each}}</nav>
{{#if user}}<span class="user">{{user.name}}{{#if user.admin}} (admin){{/if}}</span>{{/if}}</header>`,
  footer: `<footer><div class="cols">{{#each footerColumns}}<div class="col"><h4>{{title}}</h4><ul>{{#each links}}<li><a href="{{href}}">{{label}}</a></li>{{/each}}</ul></div>{{/each}}</div>
<p class="legal">&copy; {{site.year}} {{site.name}}. {{site.legal}}</p></footer>`,
  flash: `{{#each flash}}<div class="alert alert-{{kind}}">{{message}}</div>{{/each}}`,
  card: `<div class="card{{#if highlight}} card-highlight{{/if}}"><h3>{{title}}</h3><div class="card-body">{{{body}}}</div>{{#if links}}<ul class="links">{{#each links}}<li><a href="{{href}}">{{label}}</a></li>{{/each}}</ul>{{/if}}</div>`,
  productTile: `<div class="product-tile{{#unless stock}} sold-out{{/unless}}"><h4>{{name}}</h4><p class="price">{{money price}}</p>{{#if tags}}<p class="tags">{{#each tags}}<span class="tag">{{this}}</span>{{/each}}</p>{{/if}}</div>`,
  orderRow: `<tr class="order-{{status}}"><td>#{{id}}</td><td>{{titlecase status}}</td><td class="num">{{money total}}</td></tr>`,
  comment: `<div class="comment" id="c-{{id}}"><p class="meta">{{author.name}} · {{date}}</p><div class="body">{{{body}}}</div>{{#if replies.length}}<p class="replies">{{replies.length}} replies</p>{{/if}}</div>`,
  pager: `<nav class="pager">{{#each (range pages)}}<a href="?p={{this}}"{{#if (eq this ../current)}} class="current"{{/if}}>{{this}}</a>{{/each}}</nav>`,
  field: `<label>{{label}}<input name="{{name}}" type="{{#if type}}{{type}}{{else}}text{{/if}}" value="{{value}}"{{#if required}} required{{/if}}></label>{{#if help}}<small>{{help}}</small>{{/if}}`,
};

const SECTIONS = [
  (r) =>
    `<section class="products"><h2>Featured {{titlecase category${Math.floor(r() * 3)}}}</h2><div class="grid">{{#each products}}{{> productTile}}{{/each}}</div>{{> pager pages=5 current=${1 + Math.floor(r() * 5)}}}</section>`,
  () =>
    `<section class="orders"><h2>Recent orders</h2><table>{{#each orders}}{{> orderRow}}{{else}}<tr><td>No orders</td></tr>{{/each}}</table><p>Total {{money (sum orders)}}</p></section>`,
  () =>
    `<section class="comments"><h2>{{comments.length}} comments</h2>{{#each comments}}{{> comment}}{{/each}}</section>`,
  (r) =>
    `{{#> card title="Notice ${Math.floor(r() * 100)}" highlight=true links=sidebarLinks}}<p>{{site.legal}}</p>{{/card}}`,
  () =>
    `<form class="account" method="post">{{#with user}}{{> field label="Name" name="name" value=name required=true}}{{> field label="E-mail" name="email" type="email" value=email help="We never share it."}}{{/with}}<button>Save</button></form>`,
  () =>
    `<section class="stats"><ul>{{#each stats}}<li><strong>{{value}}</strong> {{label}}{{#if delta}} <span class="delta">{{delta}}%</span>{{/if}}</li>{{/each}}</ul></section>`,
];

function page(index) {
  const r = prng(5000 + index);
  const parts = [`<h1>{{titlecase title}} ${index}</h1>`];
  const count = 3 + Math.floor(r() * 5);
  for (let i = 0; i < count; i++) parts.push(SECTIONS[Math.floor(r() * SECTIONS.length)](r));
  return `${parts.join('\n')}\n`;
}

/** Name → source: `layouts/main`, `partials/<name>` and `pages/page-NN`. */
export function hbsTemplates() {
  const files = { 'layouts/main.hbs': LAYOUT };
  for (const [name, source] of Object.entries(PARTIALS)) files[`partials/${name}.hbs`] = source;
  for (let i = 1; i <= HBS_PAGES; i++) files[`pages/page-${String(i).padStart(2, '0')}.hbs`] = page(i);
  return files;
}

export function writeHbsTemplates(dir) {
  rmSync(dir, { recursive: true, force: true });
  for (const [name, source] of Object.entries(hbsTemplates())) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), source);
  }
}

/** Handlebars' own ahead-of-time path: every template's spec in one CommonJS module. */
export function writeHbsPrecompiled(file) {
  const entries = Object.entries(hbsTemplates()).map(
    ([name, source]) => `${JSON.stringify(name)}: ${Handlebars.precompile(source)},\n`,
  );
  writeFileSync(file, `module.exports = {\n${entries.join('')}};\n`);
}
