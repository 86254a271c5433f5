// One fresh process of strings.bench.mjs: renders 30 string templates, plain or through bcc.
import { FileSystemBytecodeCache } from '@bcc/fs';
import nunjucks from 'nunjucks';
import { useBytecodeCache } from '../dist/bcc-nunjucks.js';

const [mode, directory] = process.argv.slice(2);
const env = new nunjucks.Environment(null, { autoescape: true });
if (mode === 'bcc') useBytecodeCache(env, new FileSystemBytecodeCache({ directory }), { strings: true });
const email = (
  i,
) => `{% macro button(href, label) %}<a class="btn" href="{{ href }}">{{ label }}</a>{% endmacro %}
<html><body><h1>Hello {{ user.name | title }}, message ${i}</h1>
{% for order in orders %}<tr><td>{{ order.id }}</td><td>{{ order.total | round(2) }}</td>
{% if order.shipped %}<td>shipped {{ order.date }}</td>{% else %}<td>{{ button('/o/' + order.id, 'Track') }}</td>{% endif %}</tr>{% endfor %}
<p>{{ footer | default('Thanks for shopping with us') }} ({{ orders | length }} orders)</p></body></html>`;
const context = {
  user: { name: 'ada lovelace' },
  orders: Array.from({ length: 5 }, (_, i) => ({
    id: i,
    total: i * 7.25,
    shipped: i % 2 === 0,
    date: '2026-11-29',
  })),
};
const started = performance.now();
let bytes = 0;
for (let i = 0; i < 30; i++) bytes += env.renderString(email(i), context).length;
console.log(JSON.stringify({ ms: performance.now() - started, bytes }));
