// Writes the benchmark's 50 templates: 3 layouts, 2 macro libraries, 5 partials and 40 pages
// built from a seeded generator, so every run on every machine renders the same bytes.
// Pages extend the layouts, import macros, include partials, loop, branch and filter; about
// half of them are 100-200+ lines. `node generate.mjs [dir]` (default .generated/templates).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PAGE_COUNT = 40;

/** mulberry32: a tiny seeded PRNG, so the templates are the same on every run. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'account active amber anchor archive arrow atlas audit badge balance banner basket beacon border bright ' +
  'bundle button cabin canvas cargo catalog cedar center channel chapter circle cloud cobalt column comet ' +
  'copper corner cotton crystal delta detail device digest dimension domain draft ember engine estate event ' +
  'fabric falcon feature field filter flame forest format frame garden gate glacier harbor header horizon ' +
  'index island ivory journal kernel ladder lantern ledger lemon linen lotus magnet margin marble meadow ' +
  'mirror module monitor motion native needle nimbus north oasis ocean orbit palette panel paper pattern ' +
  'pepper pillar pixel planet plaza pocket portal prism quartz quest radar random raven record relay ribbon ' +
  'river rocket saddle salmon scarlet season shadow signal silver sketch socket spiral spring square stable ' +
  'summit switch symbol tablet tandem target temple thread timber token topaz tower trail travel tunnel ' +
  'unity valley vector velvet vertex violet vision voyage walnut window winter wonder yellow zenith zephyr'
).split(' ');

function generator(seed) {
  const rand = prng(seed);
  const int = (min, max) => min + Math.floor(rand() * (max - min + 1));
  const pick = (list) => list[Math.floor(rand() * list.length)];
  const words = (n) => Array.from({ length: n }, () => pick(WORDS)).join(' ');
  const title = (n) =>
    words(n)
      .split(' ')
      .map((w) => w[0].toUpperCase() + w.slice(1))
      .join(' ');
  return { rand, int, pick, words, title };
}

const BASE = `{% import "macros/components.njk" as c %}
<!doctype html>
<html lang="{{ locale | default('en') }}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{% block title %}{{ site.name }}{% endblock %} · {{ site.name }}</title>
  {% block meta %}
  <meta name="description" content="{{ site.description | truncate(120) }}">
  <meta property="og:site_name" content="{{ site.name }}">
  {% endblock %}
  {% block head %}
  <link rel="stylesheet" href="{{ site.assets }}/css/main.css?v={{ site.version }}">
  {% for sheet in site.stylesheets %}
  <link rel="stylesheet" href="{{ site.assets }}/css/{{ sheet }}.css">
  {% endfor %}
  {% endblock %}
</head>
<body class="{% block body_class %}page{% endblock %}{% if user.admin %} is-admin{% endif %}">
  {% include "partials/nav.njk" %}
  {% include "partials/flash.njk" %}
  <div class="container">
    {% block breadcrumb %}{{ c.breadcrumb(breadcrumbs) }}{% endblock %}
    <main id="main">
      {% block content %}
      <p>Nothing here yet.</p>
      {% endblock %}
    </main>
    {% block sidebar %}
    <aside class="sidebar">
      {% for widget in sidebar %}
      <section class="widget widget-{{ widget.kind }}">
        <h4>{{ widget.title | title }}</h4>
        <ul>
          {% for link in widget.links %}
          <li><a href="{{ link.href }}">{{ link.label }}</a>{% if link.count %} <span>{{ link.count }}</span>{% endif %}</li>
          {% endfor %}
        </ul>
      </section>
      {% endfor %}
    </aside>
    {% endblock %}
  </div>
  {% include "partials/footer.njk" %}
  {% block scripts %}
  <script src="{{ site.assets }}/js/app.js?v={{ site.version }}" defer></script>
  {% endblock %}
</body>
</html>
`;

const TWO_COLUMN = `{% extends "layouts/base.njk" %}
{% block body_class %}page two-column{% endblock %}
{% block content %}
<div class="row">
  <div class="col-main">
    {% block main %}{% endblock %}
  </div>
  <div class="col-side">
    {% block aside %}
    {{ c.card("Need help?", "Our team answers within a day.", [{ href: "/help", label: "Help center" }]) }}
    {% endblock %}
  </div>
</div>
{% endblock %}
`;

const LANDING = `{% extends "layouts/base.njk" %}
{% block body_class %}page landing{% endblock %}
{% block sidebar %}{% endblock %}
{% block content %}
<section class="hero">
  {% block hero %}
  <h1>{{ site.name }}</h1>
  <p>{{ site.description }}</p>
  {% endblock %}
</section>
<section class="features">
  {% for feature in features %}
  <article class="feature{% if loop.first %} first{% endif %}">
    <h3>{{ loop.index }}. {{ feature.title }}</h3>
    <p>{{ feature.text | truncate(80) }}</p>
  </article>
  {% endfor %}
</section>
{% block sections %}{% endblock %}
{% endblock %}
`;

const COMPONENTS = `{% macro card(title, body, links=[], footer=null) -%}
<div class="card">
  <div class="card-body">
    <h3 class="card-title">{{ title }}</h3>
    <p class="card-text">{{ body }}</p>
    {%- if links | length %}
    <ul class="card-links">
      {%- for link in links %}
      <li><a href="{{ link.href }}">{{ link.label }}</a></li>
      {%- endfor %}
    </ul>
    {%- endif %}
  </div>
  {%- if footer %}<div class="card-footer">{{ footer }}</div>{% endif %}
</div>
{%- endmacro %}

{% macro badge(text, kind='default') -%}
<span class="badge badge-{{ kind }}">{{ text }}</span>
{%- endmacro %}

{% macro alert(message, level='info', dismissible=true) -%}
<div class="alert alert-{{ level }}{% if dismissible %} alert-dismissible{% endif %}" role="alert">
  {{ message }}
  {%- if dismissible %}<button type="button" class="close" aria-label="Close">&times;</button>{% endif %}
</div>
{%- endmacro %}

{% macro breadcrumb(items) -%}
<nav aria-label="breadcrumb"><ol class="breadcrumb">
  {%- for item in items %}
  <li class="breadcrumb-item{% if loop.last %} active{% endif %}">
    {%- if loop.last %}{{ item.label }}{% else %}<a href="{{ item.href }}">{{ item.label }}</a>{% endif -%}
  </li>
  {%- endfor %}
</ol></nav>
{%- endmacro %}

{% macro pagination(page, pages, base='?page=') -%}
<ul class="pagination">
  <li class="{% if page <= 1 %}disabled{% endif %}"><a href="{{ base }}{{ page - 1 }}">&laquo;</a></li>
  {%- for p in range(1, pages + 1) %}
  <li class="{% if p == page %}active{% endif %}"><a href="{{ base }}{{ p }}">{{ p }}</a></li>
  {%- endfor %}
  <li class="{% if page >= pages %}disabled{% endif %}"><a href="{{ base }}{{ page + 1 }}">&raquo;</a></li>
</ul>
{%- endmacro %}

{% macro price(cents, currency='USD') -%}
<span class="price">{{ (cents / 100) | round(2) }} {{ currency }}</span>
{%- endmacro %}

{% macro rating(value, max=5) -%}
<span class="rating" title="{{ value }} of {{ max }}">
  {%- for i in range(max) %}{% if i < value %}&#9733;{% else %}&#9734;{% endif %}{% endfor -%}
</span>
{%- endmacro %}

{% macro avatar(person, size=32) -%}
<img class="avatar" src="/avatars/{{ person.id }}.png" width="{{ size }}" height="{{ size }}" alt="{{ person.name }}">
{%- endmacro %}

{% macro table(rows, columns) -%}
<table class="table">
  <thead><tr>{% for col in columns %}<th>{{ col | capitalize }}</th>{% endfor %}</tr></thead>
  <tbody>
  {%- for row in rows %}
    <tr>{% for col in columns %}<td>{{ row[col] }}</td>{% endfor %}</tr>
  {%- endfor %}
  </tbody>
</table>
{%- endmacro %}

{% macro list_group(items, active=null) -%}
<div class="list-group">
  {%- for item in items %}
  <a href="{{ item.href }}" class="list-group-item{% if item.href == active %} active{% endif %}">{{ item.label }}</a>
  {%- endfor %}
</div>
{%- endmacro %}
`;

const FORMS = `{% macro input(name, value='', type='text', label=null, required=false, help=null) -%}
<div class="form-group">
  <label for="f-{{ name }}">{{ label or (name | replace('_', ' ') | capitalize) }}{% if required %} *{% endif %}</label>
  <input type="{{ type }}" class="form-control" id="f-{{ name }}" name="{{ name }}" value="{{ value }}"{% if required %} required{% endif %}>
  {%- if help %}<small class="form-text">{{ help }}</small>{% endif %}
</div>
{%- endmacro %}

{% macro select(name, options, selected=null, label=null) -%}
<div class="form-group">
  <label for="f-{{ name }}">{{ label or (name | capitalize) }}</label>
  <select class="form-control" id="f-{{ name }}" name="{{ name }}">
    {%- for option in options %}
    <option value="{{ option.value }}"{% if option.value == selected %} selected{% endif %}>{{ option.label }}</option>
    {%- endfor %}
  </select>
</div>
{%- endmacro %}

{% macro checkbox(name, checked=false, label=null) -%}
<div class="form-check">
  <input class="form-check-input" type="checkbox" id="f-{{ name }}" name="{{ name }}"{% if checked %} checked{% endif %}>
  <label class="form-check-label" for="f-{{ name }}">{{ label or name }}</label>
</div>
{%- endmacro %}

{% macro textarea(name, value='', rows=4, label=null) -%}
<div class="form-group">
  <label for="f-{{ name }}">{{ label or (name | capitalize) }}</label>
  <textarea class="form-control" id="f-{{ name }}" name="{{ name }}" rows="{{ rows }}">{{ value }}</textarea>
</div>
{%- endmacro %}

{% macro errors(list) -%}
{%- if list | length %}
<ul class="errors">{% for e in list %}<li>{{ e.field }}: {{ e.message }}</li>{% endfor %}</ul>
{%- endif %}
{%- endmacro %}

{% macro button(text, kind='primary', type='submit') -%}
<button type="{{ type }}" class="btn btn-{{ kind }}">{{ text }}</button>
{%- endmacro %}

{% macro fieldset(legend) -%}
<fieldset>
  <legend>{{ legend }}</legend>
  {{ caller() }}
</fieldset>
{%- endmacro %}
`;

const NAV = `<nav class="navbar">
  <a class="brand" href="/">{{ site.name }}</a>
  <ul class="nav">
    {%- for item in menu %}
    <li class="nav-item{% if item.href == current %} active{% endif %}"><a href="{{ item.href }}">{{ item.label | title }}</a></li>
    {%- endfor %}
  </ul>
  {% if user %}<span class="user">{{ user.name | title }}{% if user.admin %} (admin){% endif %}</span>{% else %}<a href="/login">Sign in</a>{% endif %}
</nav>
`;

const FOOTER = `<footer class="footer">
  <div class="columns">
    {%- for column in footerColumns %}
    <div class="column">
      <h5>{{ column.title }}</h5>
      <ul>{% for link in column.links %}<li><a href="{{ link.href }}">{{ link.label }}</a></li>{% endfor %}</ul>
    </div>
    {%- endfor %}
  </div>
  <p>&copy; {{ site.year }} {{ site.name }}. {{ site.legal | default('All rights reserved.') }}</p>
</footer>
`;

const FLASH = `{%- for message in flash %}
<div class="flash flash-{{ message.level }}">{{ message.text }}</div>
{%- endfor %}
`;

const PRODUCT_TILE = `<div class="product-tile{% if product.stock == 0 %} sold-out{% endif %}">
  <h4><a href="/p/{{ product.sku }}">{{ product.name }}</a></h4>
  <p>{{ product.description | truncate(60) }}</p>
  <p>{{ (product.price / 100) | round(2) }} USD{% if product.stock < 3 and product.stock > 0 %} · only {{ product.stock }} left{% endif %}</p>
  <p>{% for tag in product.tags %}<span class="tag">{{ tag }}</span>{% endfor %}</p>
</div>
`;

const COMMENT = `<div class="comment" id="c-{{ comment.id }}">
  <strong>{{ comment.author.name }}</strong> <time>{{ comment.date }}</time>
  <p>{{ comment.body | striptags | truncate(140) }}</p>
  {% if comment.replies | length %}<p class="replies">{{ comment.replies | length }} replies</p>{% endif %}
</div>
`;

/** The pieces a page is built from; each returns template lines. */
function sectionKinds(g, page) {
  const id = (kind) => `${kind}-${page}-${g.int(100, 999)}`;
  return [
    () => {
      const attr = g.pick(['name', 'price', 'stock']);
      const n = g.int(4, 12);
      return [
        `<section class="products" id="${id('products')}">`,
        `  <h2>${g.title(3)}</h2>`,
        `  <table class="table table-${g.pick(['striped', 'hover', 'compact'])}">`,
        `    <thead><tr><th>#</th><th>Name</th><th>Price</th><th>Stock</th><th>Tags</th></tr></thead>`,
        `    <tbody>`,
        `    {% for product in products | sort(${g.rand() < 0.5}, false, '${attr}') %}{% if loop.index <= ${n} %}`,
        `      <tr class="{{ loop.cycle if false else ('odd' if loop.index % 2 else 'even') }}">`,
        `        <td>{{ loop.index }}</td>`,
        `        <td>{{ product.name | ${g.pick(['upper', 'title', 'capitalize'])} }}</td>`,
        `        <td>{{ c.price(product.price) }}</td>`,
        `        <td>{% if product.stock > ${g.int(1, 4)} %}in stock{% elif product.stock > 0 %}low{% else %}sold out{% endif %}</td>`,
        `        <td>{{ product.tags | join("${g.pick([', ', ' / ', ' · '])}") }}</td>`,
        `      </tr>`,
        `    {% endif %}{% endfor %}`,
        `    </tbody>`,
        `  </table>`,
        `  <p>{{ products | length }} products, {{ products | sum('stock') }} items in stock.</p>`,
        `</section>`,
      ];
    },
    () => {
      const k = g.int(2, 6);
      return [
        `<section class="cards" id="${id('cards')}">`,
        `  <h2>${g.title(2)}</h2>`,
        `  <div class="grid grid-${g.int(2, 4)}">`,
        `  {% for post in posts | batch(${g.int(2, 3)}) | first %}`,
        `    {{ c.card(post.title, post.summary | truncate(${g.int(40, 90)}), post.links, post.author.name) }}`,
        `  {% endfor %}`,
        `  {% for post in posts %}{% if loop.index > 1 and loop.index <= ${k} %}`,
        `    <article class="teaser">`,
        `      <h3><a href="/blog/{{ post.slug }}">{{ post.title }}</a></h3>`,
        `      <p>{{ c.avatar(post.author, ${g.pick([24, 32, 48])}) }} {{ post.author.name }} · {{ post.date }}</p>`,
        `      <p>{{ post.summary | wordcount }} words · {{ c.rating(post.rating) }}</p>`,
        `      {% if post.tags | length %}<p>{% for tag in post.tags %}{{ c.badge(tag, '${g.pick(['info', 'success', 'warning'])}') }}{% endfor %}</p>{% endif %}`,
        `    </article>`,
        `  {% endif %}{% endfor %}`,
        `  </div>`,
        `</section>`,
      ];
    },
    () => [
      `<section class="form" id="${id('form')}">`,
      `  <h2>${g.title(3)}</h2>`,
      `  {{ f.errors(formErrors) }}`,
      `  <form method="post" action="/${g.pick(WORDS)}/${g.pick(WORDS)}">`,
      `    {% call f.fieldset("${g.title(2)}") %}`,
      `      {{ f.input("email", user.email, type="email", required=true, help="${g.words(5)}") }}`,
      `      {{ f.input("full_name", user.name, required=${g.rand() < 0.5}) }}`,
      `      {{ f.select("country", countries, user.country) }}`,
      `    {% endcall %}`,
      `    {% call f.fieldset("${g.title(2)}") %}`,
      `      {{ f.textarea("bio", user.bio, rows=${g.int(3, 8)}) }}`,
      `      {{ f.checkbox("newsletter", user.newsletter, "${g.words(4)}") }}`,
      `      {{ f.checkbox("terms", false, "${g.words(3)}") }}`,
      `    {% endcall %}`,
      `    {{ f.button("${g.title(1)}") }} {{ f.button("Cancel", "secondary", "reset") }}`,
      `  </form>`,
      `</section>`,
    ],
    () => [
      `<section class="categories" id="${id('categories')}">`,
      `  <h2>${g.title(2)}</h2>`,
      `  {% for category in categories %}`,
      `  <div class="category">`,
      `    <h3>{{ category.name | title }} <small>({{ category.items | length }})</small></h3>`,
      `    <ul>`,
      `    {% for item in category.items %}`,
      `      <li class="{% if loop.first %}first{% elif loop.last %}last{% endif %}">`,
      `        <a href="/c/{{ category.slug }}/{{ item.slug }}">{{ item.label }}</a>`,
      `        {% if item.count > ${g.int(5, 40)} %}{{ c.badge(item.count, "hot") }}{% endif %}`,
      `      </li>`,
      `    {% endfor %}`,
      `    </ul>`,
      `  </div>`,
      `  {% endfor %}`,
      `</section>`,
    ],
    () => [
      `<section class="settings" id="${id('settings')}">`,
      `  <h2>${g.title(2)}</h2>`,
      `  <dl>`,
      `  {% for key, value in settings | dictsort %}`,
      `    <dt>{{ key | replace("_", " ") | capitalize }}</dt>`,
      `    <dd>{% if value === true %}yes{% elif value === false %}no{% else %}{{ value }}{% endif %}</dd>`,
      `  {% endfor %}`,
      `  </dl>`,
      `  {{ c.table(orders, ["id", "status", "total"]) }}`,
      `</section>`,
    ],
    () => {
      const start = g.int(0, 3);
      return [
        `<section class="totals" id="${id('totals')}">`,
        `  <h2>${g.title(2)}</h2>`,
        `  {% set total = ${start} %}`,
        `  {% set count = 0 %}`,
        `  {% for order in orders %}`,
        `    {% set total = total + order.total %}`,
        `    {% if order.status == "${g.pick(['paid', 'shipped', 'open'])}" %}{% set count = count + 1 %}{% endif %}`,
        `  {% endfor %}`,
        `  <p>Total: {{ total | round(2) }} over {{ orders | length }} orders; {{ count }} match.</p>`,
        `  {% for status, group in orders | groupby("status") %}`,
        `  <h4>{{ status | upper }} ({{ group | length }})</h4>`,
        `  <ul>{% for o in group %}<li>#{{ o.id }} — {{ o.total | round(1) }}</li>{% endfor %}</ul>`,
        `  {% endfor %}`,
        `</section>`,
      ];
    },
    () => [
      `<section class="comments" id="${id('comments')}">`,
      `  <h2>${g.title(2)} ({{ comments | length }})</h2>`,
      `  {% for comment in comments %}`,
      `    {% include "partials/comment.njk" %}`,
      `  {% else %}`,
      `    <p>${g.words(6)}</p>`,
      `  {% endfor %}`,
      `  {{ c.pagination(${g.int(1, 3)}, ${g.int(3, 7)}, "/${g.pick(WORDS)}?page=") }}`,
      `</section>`,
    ],
    () => [
      `<section class="shop" id="${id('shop')}">`,
      `  <h2>${g.title(3)}</h2>`,
      `  <div class="tiles">`,
      `  {% for product in products %}{% if product.category == "${g.pick(['books', 'tools', 'games', 'garden'])}" or loop.index < ${g.int(2, 5)} %}`,
      `    {% include "partials/product-tile.njk" %}`,
      `  {% endif %}{% endfor %}`,
      `  </div>`,
      `</section>`,
    ],
    () => [
      `<section class="account" id="${id('account')}">`,
      `  <h2>${g.title(2)}</h2>`,
      `  {% if user.admin %}`,
      `    {{ c.alert("${g.words(6)}", "warning") }}`,
      `    <p>{{ c.list_group(adminLinks, current) }}</p>`,
      `  {% elif user.name %}`,
      `    <p>${g.words(8)} {{ user.name | title }}.</p>`,
      `  {% else %}`,
      `    <p>${g.words(5)}</p>`,
      `  {% endif %}`,
      `  {% switch user.plan %}`,
      `  {% case "pro" %}<p>{{ c.badge("Pro", "success") }} ${g.words(4)}</p>`,
      `  {% case "team" %}<p>{{ c.badge("Team", "info") }} ${g.words(4)}</p>`,
      `  {% default %}<p>${g.words(4)}</p>`,
      `  {% endswitch %}`,
      `</section>`,
    ],
    () => {
      const name = `row_${page}_${g.int(10, 99)}`;
      return [
        `{% macro ${name}(item, index) -%}`,
        `<tr><td>{{ index }}</td><td>{{ item.label | ${g.pick(['upper', 'lower', 'title'])} }}</td><td>{{ item.count * ${g.int(2, 9)} }}</td></tr>`,
        `{%- endmacro %}`,
        `<section class="report" id="${id('report')}">`,
        `  <h2>${g.title(2)}</h2>`,
        `  <table>`,
        `  {% for category in categories %}{% for item in category.items %}`,
        `    {{ ${name}(item, loop.index) }}`,
        `  {% endfor %}{% endfor %}`,
        `  </table>`,
        `  {% filter ${g.pick(['upper', 'lower', 'title'])} %}${g.words(10)}{% endfilter %}`,
        `  <p>{{ tags | reverse | join(" ") }} — {{ tags | first }}…{{ tags | last }}</p>`,
        `  {% raw %}{{ ${g.pick(WORDS)} }} is literal{% endraw %}`,
        `</section>`,
      ];
    },
    () => [
      `<section class="prose" id="${id('prose')}">`,
      `  <h2>${g.title(4)}</h2>`,
      ...Array.from({ length: g.int(2, 5) }, () => `  <p>${g.words(g.int(12, 30))}.</p>`),
      `  <p>{{ "${g.words(8)}" | title }} — {{ site.name | lower }} — {{ "${g.words(3)}" | urlencode }}</p>`,
      `  <blockquote>{{ quote.text }} <cite>{{ quote.author | default("anonymous") }}</cite></blockquote>`,
      `</section>`,
    ],
  ];
}

function page(index, large) {
  const g = generator(1000 + index);
  const layout = index % 3 === 0 ? 'landing' : index % 3 === 1 ? 'two-column' : 'base';
  const kinds = sectionKinds(g, index);
  // About half the pages are long (100-200+ lines), the rest medium; `large`: every page long.
  const sections = index % 2 === 0 || large ? g.int(7, 12) : g.int(3, 5);
  const body = [];
  for (let i = 0; i < sections; i++) body.push(...g.pick(kinds)());
  const indent = (lines) => lines.map((line) => `  ${line}`);
  const lines = [
    `{% extends "layouts/${layout}.njk" %}`,
    `{% import "macros/forms.njk" as f %}`,
    `{% block title %}${g.title(3)} {{ pageNumber }}{% endblock %}`,
    `{% block meta %}{{ super() }}`,
    `<meta name="keywords" content="${g.words(5).split(' ').join(',')}">`,
    `{% endblock %}`,
  ];
  if (layout === 'landing') {
    lines.push(
      `{% block hero %}`,
      `<h1>${g.title(4)}</h1>`,
      `<p>${g.words(16)}</p>`,
      `<p>{{ c.badge("${g.title(1)}", "info") }} {{ c.rating(${g.int(1, 5)}) }}</p>`,
      `{% endblock %}`,
      `{% block sections %}`,
      ...indent(body),
      `{% endblock %}`,
    );
  } else if (layout === 'two-column') {
    lines.push(`{% block main %}`, ...indent(body), `{% endblock %}`);
    if (g.rand() < 0.5) {
      lines.push(
        `{% block aside %}`,
        `{{ super() }}`,
        `{{ c.list_group(sidebar[0].links) }}`,
        `<p>${g.words(10)}</p>`,
        `{% endblock %}`,
      );
    }
  } else {
    lines.push(`{% block content %}`, `<h1>${g.title(3)}</h1>`, ...indent(body), `{% endblock %}`);
    if (g.rand() < 0.4) lines.push(`{% block sidebar %}{% endblock %}`);
  }
  if (g.rand() < 0.5) {
    lines.push(
      `{% block scripts %}{{ super() }}`,
      `<script>window.page = ${index};</script>`,
      `{% endblock %}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Name → source of the templates: 10 shared ones and `pages` pages (default 40, so 50 in all);
 * `large`: every page 100-200+ lines. `pages: 490` makes the 500-template "large app".
 */
export function templates({ large = false, pages = PAGE_COUNT } = {}) {
  const files = {
    'layouts/base.njk': BASE,
    'layouts/two-column.njk': TWO_COLUMN,
    'layouts/landing.njk': LANDING,
    'macros/components.njk': COMPONENTS,
    'macros/forms.njk': FORMS,
    'partials/nav.njk': NAV,
    'partials/footer.njk': FOOTER,
    'partials/flash.njk': FLASH,
    'partials/product-tile.njk': PRODUCT_TILE,
    'partials/comment.njk': COMMENT,
  };
  for (let i = 1; i <= pages; i++) files[pageName(i)] = page(i, large);
  return files;
}

/** The name of page `i` (1-based). */
export function pageName(i) {
  return `pages/page-${String(i).padStart(2, '0')}.njk`;
}

/** The pages a run renders (every other template is reached through them). */
export const pageNames = Array.from({ length: PAGE_COUNT }, (_, i) => pageName(i + 1));

/**
 * One small page, as a serverless function renders it: a layout it extends, a macro library it
 * imports, and the page (three templates).
 */
export const smallPage = {
  'layout.njk': `<!doctype html><html><head><title>{% block title %}{% endblock %}</title></head>
<body><main>{% block content %}{% endblock %}</main><footer>{{ site.legal }}</footer></body></html>
`,
  'macros.njk': `{% macro button(label, href, kind='primary') -%}
<a class="btn btn-{{ kind }}" href="{{ href }}">{{ label | title }}</a>
{%- endmacro %}
{% macro price(amount, currency='EUR') -%}
<span class="price">{{ amount | round(2) }} {{ currency }}</span>
{%- endmacro %}
`,
  'page.njk': `{% extends "layout.njk" %}
{% import "macros.njk" as m %}
{% set order = orders[0] %}
{% block title %}Order {{ order.id }}{% endblock %}
{% block content %}
<h1>Thanks, {{ user.name | title }}</h1>
<ul>{% for o in orders %}<li>#{{ o.id }} {{ o.status }}: {{ m.price(o.total) }}</li>{% endfor %}</ul>
<p>Total {{ m.price(orders[0].total) }} {{ m.button('track your order', '/orders/' + orders[0].id) }}</p>
{% endblock %}
`,
};

/** Writes the templates (or the given name → source map) into `dir` (emptied first). */
export function writeTemplates(dir, options = {}) {
  rmSync(dir, { recursive: true, force: true });
  for (const [name, source] of Object.entries(options.files ?? templates(options))) {
    const file = join(dir, name);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, source);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '.generated', 'templates');
  writeTemplates(dir);
  const all = templates();
  const lineCounts = Object.values(all).map((s) => s.split('\n').length);
  console.log(
    `wrote ${Object.keys(all).length} templates to ${dir} (${lineCounts.reduce((a, b) => a + b, 0)} lines; pages ${Math.min(...lineCounts.slice(10))}-${Math.max(...lineCounts.slice(10))} lines)`,
  );
}
