// @bcc/nunjucks runs the engine conformance suite of @bcc/testkit (fresh processes are covered
// by processes.test.ts and the differential harness).
import { runEngineSuite } from '@bcc/testkit';
import nunjucks from 'nunjucks';
import { describe, expect, it } from 'vitest';
import { useBytecodeCache } from '../src/index.js';

/** An environment whose loader serves `page.njk` (the source under test) and a fixed partial. */
interface Engine {
  env: nunjucks.Environment;
  source: string;
}

const context = { name: 'Ada <3', html: '<i>x</i>', items: ['a', '<b>'] };

runEngineSuite<Engine>(
  { describe, it, expect },
  {
    name: 'nunjucks',
    createEngine: (options) => {
      const engine = { source: '' } as Engine;
      const loader = {
        getSource: (name: string) =>
          name === 'page.njk'
            ? { src: engine.source, path: '/views/page.njk', noCache: true }
            : name === 'part.njk'
              ? { src: '<p>{{ name | upper }}</p>', path: '/views/part.njk', noCache: true }
              : null,
      };
      engine.env = new nunjucks.Environment([loader] as never, (options as object | undefined) ?? {});
      engine.env.addGlobal('fail', () => {
        throw new Error('a global failed on purpose');
      });
      return engine;
    },
    install: ({ env }, cache) => useBytecodeCache(env, cache, { onError: () => {} }),
    render: (engine, source) => {
      engine.source = source;
      return new Promise<string>((resolve) => {
        engine.env.render('page.njk', context, (error, out) =>
          resolve(error ? `error ${error.name}: ${error.message}` : `ok ${out}`),
        );
      });
    },
    snapshot: ({ env }) => [...(env as unknown as { loaders: unknown[] }).loaders, env.render],
    samples: [
      'Hello {{ name }} {{ html }}',
      '{% for x in items %}[{{ loop.index }} {{ x }}]{% endfor %}{% include "part.njk" %}',
      '{% macro m(a) %}<{{ a }}>{% endmacro %}{{ m(name) }}{% set n = 3 %}{{ n * 2 }}',
    ],
    compileError: '{% if %}x{% endif %}',
    renderError: 'before {{ fail() }} after',
    edit: ['v1 {{ name }}', 'v2 {{ name }}!'],
    variants: [
      { name: 'trimBlocks', options: { trimBlocks: true }, source: '{% if true %}\nX\n{% endif %}\n' },
      { name: 'lstripBlocks', options: { lstripBlocks: true }, source: 'a\n    {% if true %}X{% endif %}' },
      {
        name: 'custom tags',
        options: { tags: { variableStart: '<$', variableEnd: '$>' } },
        source: '<$ name $> {{ name }}',
      },
      { name: 'throwOnUndefined', options: { throwOnUndefined: true }, source: '[{{ missing }}]' },
      { name: 'autoescape', options: { autoescape: false }, source: '{{ html }}' },
    ],
  },
);
