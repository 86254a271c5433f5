import { MemoryBytecodeCache } from '@bcc/core';
import fc from 'fast-check';
import nunjucks from 'nunjucks';
import { describe, expect, it } from 'vitest';
import { useBytecodeCache } from '../src/index.js';

// Random templates, rendered by plain Nunjucks and through bcc (cold, then warm from the same
// cache in another environment): the outputs, or the errors, must be the same.

const text = fc.string({
  unit: fc.constantFrom(
    'a',
    ' ',
    '\n',
    '"',
    "'",
    '\\',
    '<',
    '&',
    'é',
    '—',
    '…',
    '€',
    '🎉',
    '\u2028',
    '{',
    '}',
    '%',
  ),
  maxLength: 12,
});
const variable = fc.constantFrom('name', 'items', 'n', 'missing', 'html');
const filter = fc.constantFrom(
  'upper',
  'lower',
  'title',
  'escape',
  'safe',
  'length',
  'trim',
  'reverse',
  'first',
);

const node: fc.Memo<string> = fc.memo((depth) => {
  const leaf = fc.oneof(
    text.map((t) => t.replace(/[{}%]/g, '')),
    fc.tuple(variable, filter).map(([v, f]) => `{{ ${v} | ${f} }}`),
    variable.map((v) => `{{ ${v} }}`),
    text.map((t) => `{% raw %}${t.replace(/{%/g, '')}{% endraw %}`),
    fc.constant('{% include "partial.njk" %}'),
    fc.constant('{{ m.tag("x") }}'),
  );
  if (depth <= 1) return leaf;
  return fc.oneof(
    { weight: 3, arbitrary: leaf },
    fc
      .array(node(depth - 1), { maxLength: 3 })
      .map((parts) => `{% for item in items %}${parts.join('')}{{ loop.index }}{% endfor %}`),
    fc
      .tuple(node(depth - 1), node(depth - 1))
      .map(([a, b]) => `{% if n > 1 %}${a}{% elif name %}-{% else %}${b}{% endif %}`),
    fc
      .tuple(fc.constantFrom('-', ''), node(depth - 1))
      .map(([ws, a]) => `{%${ws} set s = "v" ${ws}%}${a}{{ s }}`),
    node(depth - 1).map((a) => `{% filter upper %}${a}{% endfilter %}`),
    node(depth - 1).map((a) => `{% call m.wrap() %}${a}{% endcall %}`),
  );
});

const partials = {
  'partial.njk': '<i>{{ name }}—{{ items | join(",") }}</i>',
  'macros.njk': '{% macro tag(x) %}<{{ x }}>{% endmacro %}{% macro wrap() %}[{{ caller() }}]{% endmacro %}',
};

/** A loader over a map of sources, reporting a path like FileSystemLoader does. */
class MapLoader extends nunjucks.Loader {
  constructor(private readonly files: Record<string, string>) {
    super();
  }
  getSource(name: string) {
    const src = this.files[name];
    return src === undefined ? null : { src, path: `/virtual/${name}`, noCache: false };
  }
}

function render(files: Record<string, string>, cache?: MemoryBytecodeCache): string {
  const env = new nunjucks.Environment(
    new (MapLoader as unknown as new (f: object) => nunjucks.ILoader)(files),
    {
      autoescape: true,
    },
  );
  if (cache) useBytecodeCache(env, cache);
  try {
    return env.render('main.njk', { name: 'Ada <L>', items: ['a', 'b—', '🎉'], n: 2, html: '<b>x</b>' });
  } catch (error) {
    return `ERROR ${(error as Error).name}: ${(error as Error).message}`;
  }
}

describe('random templates', () => {
  it('render the same with and without bcc, cold and warm', () => {
    fc.assert(
      fc.property(node(4), (body) => {
        const files = { ...partials, 'main.njk': `{% import "macros.njk" as m %}${body}` };
        const expected = render(files);
        const cache = new MemoryBytecodeCache();
        expect(render(files, cache)).toBe(expected);
        expect(render(files, cache)).toBe(expected);
      }),
      { numRuns: 150 },
    );
  });
});
