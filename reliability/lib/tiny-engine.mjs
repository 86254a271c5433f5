/**
 * A tiny template engine for the scripts and tests: `{{ name }}` placeholders and
 * `{% each items %}…{% end %}` loops, compiled to a script whose completion value is the
 * render function, as bcc's integrations expect. Counts its compilations, so a test can tell
 * reused JavaScript from recompiled JavaScript.
 */

/** @param {string} fingerprint */
export function tinyEnvironment(fingerprint) {
  const environment = {
    fingerprint,
    compiles: 0,
    /** @param {string} source */
    compile(source) {
      environment.compiles++;
      let js = "(function (ctx) {\n  let out = '';\n";
      for (const part of source.split(/(\{\{.*?\}\}|\{%.*?%\})/)) {
        const expr = /^\{\{\s*(\w+)\s*\}\}$/.exec(part);
        const each = /^\{%\s*each\s+(\w+)\s*%\}$/.exec(part);
        if (expr) js += `  out += String(ctx[${JSON.stringify(expr[1])}] ?? '');\n`;
        else if (each) {
          js += `  for (const item of ctx[${JSON.stringify(each[1])}] ?? []) { const ctx2 = { ...ctx, item }; { const ctx = ctx2;\n`;
        } else if (/^\{%\s*end\s*%\}$/.test(part)) js += '  } }\n';
        else if (part) js += `  out += ${JSON.stringify(part)};\n`;
      }
      return `${js}  return out;\n})`;
    },
  };
  return environment;
}

const rows = (n, make) => Array.from({ length: n }, (_, i) => make(i)).join('\n');

/** Templates of a few sizes; `count` of them, named `page-<i>.html`. @param {number} count */
export function tinyTemplates(count) {
  return Array.from({ length: count }, (_, i) => ({
    name: `page-${i}.html`,
    source:
      i % 3 === 0
        ? `Hello {{ name }}, page ${i}: you have {{ count }} messages.`
        : i % 3 === 1
          ? `<ul>{% each items %}<li>{{ item }} of {{ name }}</li>{% end %}</ul>\n${rows(40 + i, (r) => `<p>row ${r}: {{ name }}</p>`)}`
          : `<h1>Grüße, {{ name }} ✓</h1>\n${rows(100 + i * 5, (r) => `<td>{{ count }} · ${r} — 日本</td>`)}`,
  }));
}

/** The context every render uses. */
export const TINY_CONTEXT = { name: 'Ada', count: 3, items: ['a', 'b', 'c'] };
