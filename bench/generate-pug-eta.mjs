// The Pug and Eta workloads: 50 templates each (a layout, 9 partials or mixin files, 40 pages),
// generated deterministically from the same shop data as the Nunjucks pages, and each engine's
// own ahead-of-time path (Pug's client functions; Eta's compiled functions) in one module.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Eta } from 'eta';
import pug from 'pug';
import { prng } from './generate.mjs';

export const PAGES = 40;
const page = (i) => `pages/page-${String(i).padStart(2, '0')}`;
export const pageNames = Array.from({ length: PAGES }, (_, i) => page(i + 1));

// --- Pug: every page extends the layout and includes the mixins; Pug inlines them all. -------
const PUG = {
  'layout.pug': `doctype html
html(lang=locale)
  head
    title= title + ' · ' + site.name
    each sheet in site.stylesheets
      link(rel="stylesheet" href=site.assets + '/' + sheet + '.css')
  body(class='page-' + page)
    include partials/header.pug
    include partials/flash.pug
    main.container
      block content
    include partials/footer.pug
`,
  'partials/header.pug': `header.navbar
  a.brand(href="/")= site.name
  nav
    each item in menu
      a(href=item.href class=item.href === current ? 'active' : undefined)= item.label
  if user
    span.user= user.name + (user.admin ? ' (admin)' : '')
`,
  'partials/flash.pug': `each message in flash
  .alert(class='alert-' + message.level)= message.text
`,
  'partials/footer.pug': `footer
  .cols
    each column in footerColumns
      .col
        h4= column.title
        ul
          each link in column.links
            li: a(href=link.href)= link.label
  p.legal © #{site.year} #{site.name}. #{site.legal}
`,
  'partials/mixins.pug': `mixin product(p)
  .product-tile(class=p.stock ? undefined : 'sold-out')
    h4= p.name
    p.price= (p.price / 100).toFixed(2) + ' €'
    if p.tags.length
      p.tags
        each tag in p.tags
          span.tag= tag
mixin orderRow(o)
  tr(class='order-' + o.status)
    td= '#' + o.id
    td= o.status
    td.num= o.total.toFixed(2)
mixin comment(c)
  .comment(id='c-' + c.id)
    p.meta #{c.author.name} · #{c.date}
    .body!= c.body
    if c.replies.length
      p.replies= c.replies.length + ' replies'
mixin pager(pages, current)
  nav.pager
    - for (var n = 1; n <= pages; n++)
      a(href='?p=' + n class=n === current ? 'current' : undefined)= n
mixin field(label, name, value, type)
  label= label
    input(name=name type=type || 'text' value=value)
`,
  'partials/sidebar.pug': `aside.sidebar
  each block in sidebar
    section(class=block.kind)
      h3= block.title
      ul
        each link in block.links
          li: a(href=link.href)= link.label
`,
  'partials/breadcrumbs.pug': `ol.breadcrumbs
  each crumb in breadcrumbs
    li: a(href=crumb.href)= crumb.label
`,
  'partials/posts.pug': `each post in posts
  article.post
    h3: a(href='/blog/' + post.slug)= post.title
    p.summary= post.summary
    p.meta= post.date + ' · ' + post.author.name
`,
  'partials/settings.pug': `dl.settings
  each value, key in settings
    dt= key
    dd= value
`,
};

const PUG_SECTIONS = [
  (r) => `  section.products
    h2 Featured
    .grid
      each p in products
        +product(p)
    +pager(5, ${1 + Math.floor(r() * 5)})`,
  () => `  section.orders
    h2 Recent orders
    table
      each o in orders
        +orderRow(o)`,
  () => `  section.comments
    h2= comments.length + ' comments'
    each c in comments
      +comment(c)`,
  () => `  include ../partials/sidebar.pug`,
  () => `  include ../partials/posts.pug`,
  () => `  form.account(method="post")
    +field('Name', 'name', user.name)
    +field('E-mail', 'email', user.email, 'email')
    include ../partials/settings.pug`,
];

function pugPage(index) {
  const r = prng(7000 + index);
  const lines = [
    'extends ../layout.pug',
    'include ../partials/mixins.pug',
    'block content',
    '  include ../partials/breadcrumbs.pug',
    `  h1= title + ' ${index}'`,
  ];
  const count = 3 + Math.floor(r() * 4);
  for (let i = 0; i < count; i++) lines.push(PUG_SECTIONS[Math.floor(r() * PUG_SECTIONS.length)](r));
  return `${lines.join('\n')}\n`;
}

export function pugFiles() {
  const files = { ...PUG };
  for (let i = 1; i <= PAGES; i++) files[`${page(i)}.pug`] = pugPage(i);
  return files;
}

// --- Eta: pages use the layout and include partials; Eta compiles each file on its own. ------
const ETA = {
  'layout.eta': `<!doctype html><html lang="<%= it.locale %>"><head><title><%= it.title %> · <%= it.site.name %></title>
<% it.site.stylesheets.forEach(function (s) { %><link rel="stylesheet" href="<%= it.site.assets %>/<%= s %>.css"><% }) %></head>
<body class="page-<%= it.page %>"><%~ include("./partials/header", it) %><%~ include("./partials/flash", it) %>
<main class="container"><%~ it.body %></main><%~ include("./partials/footer", it) %></body></html>
`,
  'partials/header.eta': `<header class="navbar"><a class="brand" href="/"><%= it.site.name %></a><nav><% it.menu.forEach(function (item) { %><a href="<%= item.href %>"<%~ item.href === it.current ? ' class="active"' : '' %>><%= item.label %></a><% }) %></nav><% if (it.user) { %><span class="user"><%= it.user.name %><%= it.user.admin ? ' (admin)' : '' %></span><% } %></header>`,
  'partials/flash.eta': `<% it.flash.forEach(function (m) { %><div class="alert alert-<%= m.level %>"><%= m.text %></div><% }) %>`,
  'partials/footer.eta': `<footer><div class="cols"><% it.footerColumns.forEach(function (c) { %><div class="col"><h4><%= c.title %></h4><ul><% c.links.forEach(function (l) { %><li><a href="<%= l.href %>"><%= l.label %></a></li><% }) %></ul></div><% }) %></div><p class="legal">© <%= it.site.year %> <%= it.site.name %>. <%= it.site.legal %></p></footer>`,
  'partials/product.eta': `<div class="product-tile<%~ it.p.stock ? '' : ' sold-out' %>"><h4><%= it.p.name %></h4><p class="price"><%= (it.p.price / 100).toFixed(2) %> €</p><% if (it.p.tags.length) { %><p class="tags"><% it.p.tags.forEach(function (t) { %><span class="tag"><%= t %></span><% }) %></p><% } %></div>`,
  'partials/order.eta': `<tr class="order-<%= it.o.status %>"><td>#<%= it.o.id %></td><td><%= it.o.status %></td><td class="num"><%= it.o.total.toFixed(2) %></td></tr>`,
  'partials/comment.eta': `<div class="comment" id="c-<%= it.c.id %>"><p class="meta"><%= it.c.author.name %> · <%= it.c.date %></p><div class="body"><%~ it.c.body %></div><% if (it.c.replies.length) { %><p class="replies"><%= it.c.replies.length %> replies</p><% } %></div>`,
  'partials/sidebar.eta': `<aside class="sidebar"><% it.sidebar.forEach(function (b) { %><section class="<%= b.kind %>"><h3><%= b.title %></h3><ul><% b.links.forEach(function (l) { %><li><a href="<%= l.href %>"><%= l.label %></a></li><% }) %></ul></section><% }) %></aside>`,
  'partials/posts.eta': `<% it.posts.forEach(function (post) { %><article class="post"><h3><a href="/blog/<%= post.slug %>"><%= post.title %></a></h3><p class="summary"><%= post.summary %></p><p class="meta"><%= post.date %> · <%= post.author.name %></p></article><% }) %>`,
};

const ETA_SECTIONS = [
  () =>
    `<section class="products"><h2>Featured</h2><div class="grid"><% it.products.forEach(function (p) { %><%~ include("../partials/product", { p: p }) %><% }) %></div></section>`,
  () =>
    `<section class="orders"><h2>Recent orders</h2><table><% it.orders.forEach(function (o) { %><%~ include("../partials/order", { o: o }) %><% }) %></table></section>`,
  () =>
    `<section class="comments"><h2><%= it.comments.length %> comments</h2><% it.comments.forEach(function (c) { %><%~ include("../partials/comment", { c: c }) %><% }) %></section>`,
  () => `<%~ include("../partials/sidebar", it) %>`,
  () => `<%~ include("../partials/posts", it) %>`,
  () =>
    `<dl class="settings"><% Object.keys(it.settings).forEach(function (k) { %><dt><%= k %></dt><dd><%= it.settings[k] %></dd><% }) %></dl>`,
];

function etaPage(index) {
  const r = prng(9000 + index);
  const parts = [`<% layout("../layout", it) %><h1><%= it.title %> ${index}</h1>`];
  const count = 3 + Math.floor(r() * 4);
  for (let i = 0; i < count; i++) parts.push(ETA_SECTIONS[Math.floor(r() * ETA_SECTIONS.length)]());
  return `${parts.join('\n')}\n`;
}

export function etaFiles() {
  const files = { ...ETA };
  for (let i = 1; i <= PAGES; i++) files[`${page(i)}.eta`] = etaPage(i);
  return files;
}

function write(dir, files) {
  rmSync(dir, { recursive: true, force: true });
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
}

/** Writes the Pug templates and Pug's own precompiled module (client functions, runtime inlined). */
export function writePug(dir, precompiled) {
  write(dir, pugFiles());
  const entries = pageNames.map((name) => {
    const file = join(dir, `${name}.pug`);
    const body = pug.compileClient(readFileSync(file, 'utf8'), { filename: file, name: 'template' });
    return `${JSON.stringify(name)}: (function () {\n${body}\nreturn template;\n})(),\n`;
  });
  writeFileSync(precompiled, `module.exports = {\n${entries.join('')}};\n`);
}

/** Writes the Eta templates and Eta's own compiled functions (compileToString) in one module. */
export function writeEta(dir, precompiled) {
  const files = etaFiles();
  write(dir, files);
  const eta = new Eta({ views: dir });
  const entries = Object.entries(files).map(
    ([name, source]) =>
      `${JSON.stringify(join(dir, name))}: function (it, options) {\n${eta.compileToString(source)}\n},\n`,
  );
  writeFileSync(precompiled, `module.exports = {\n${entries.join('')}};\n`);
}
