import { MemoryBytecodeCache } from '@bcc/core';
import nunjucks from 'nunjucks';
import { describe, expect, it } from 'vitest';
import { useBytecodeCache } from '../src/index.js';
import { AsyncOnlyCache, type FixtureEnvironment, fixtures, renderAsync } from './helpers.js';

/** A loader that answers through a callback on a later turn, as a network loader would. */
function asyncFileLoader() {
  const loader = new nunjucks.FileSystemLoader(fixtures.templatesDir) as unknown as {
    async?: boolean;
    getSource: Function;
  };
  const read = loader.getSource.bind(loader);
  loader.async = true;
  loader.getSource = (name: string, cb: (error: Error | null, info?: unknown) => void) => {
    setImmediate(() => {
      try {
        cb(null, read(name));
      } catch (error) {
        cb(error as Error);
      }
    });
  };
  return loader;
}

function environmentWith(loaders: unknown[]): FixtureEnvironment {
  const env = fixtures.createEnvironment();
  // Same filters, globals and extension as the fixtures, other loaders.
  const other = new nunjucks.Environment(loaders as never, { autoescape: true }) as FixtureEnvironment;
  Object.assign(other, {
    filters: (env as unknown as { filters: object }).filters,
    globals: (env as unknown as { globals: object }).globals,
    extensions: (env as unknown as { extensions: object }).extensions,
    extensionsList: (env as unknown as { extensionsList: object }).extensionsList,
    asyncFilters: (env as unknown as { asyncFilters: object }).asyncFilters,
  });
  return other;
}

describe('other loaders', () => {
  it.each([
    ['a synchronous cache', () => new MemoryBytecodeCache()],
    ['an asynchronous cache', () => new AsyncOnlyCache()],
  ])('an asynchronous loader renders as it does without bcc, through %s', async (_label, makeCache) => {
    const cache = makeCache();
    for (const page of ['pages/list.njk', 'pages/forms.njk', 'pages/home.njk']) {
      const expected = await renderAsync(environmentWith([asyncFileLoader()]), page);
      for (let round = 0; round < 2; round++) {
        const env = environmentWith([asyncFileLoader()]);
        useBytecodeCache(env, cache);
        expect(await renderAsync(env, page)).toBe(expected);
      }
    }
    expect(cache.stats.hits).toBeGreaterThan(0);
  });

  it('leaves precompiled templates to Nunjucks and caches the rest', () => {
    const partial = nunjucks.precompileString('<b>{{ "precompiled" | upper }}</b>', {
      name: 'partials/nav.njk',
      wrapper: (templates: { template: string }[]) => templates[0]!.template,
    } as never) as unknown as string;
    const precompiled = { 'partials/nav.njk': new Function(partial)() };
    const make = () =>
      environmentWith([
        new nunjucks.PrecompiledLoader(precompiled as never),
        new nunjucks.FileSystemLoader(fixtures.templatesDir),
      ]);
    const expected = make().render('pages/custom.njk', fixtures.context);
    expect(expected).toContain('<b>PRECOMPILED</b>');
    const cache = new MemoryBytecodeCache();
    const loads: string[] = [];
    const env = make();
    useBytecodeCache(env, cache, { onLoad: (event) => loads.push(event.name) });
    expect(env.render('pages/custom.njk', fixtures.context)).toBe(expected);
    expect(loads).not.toContain('partials/nav.njk');
    expect(loads).toContain('pages/custom.njk');
  });
});

describe('one loader object, several environments', () => {
  // Two areas of a site share one loader: one escapes HTML, the other uses other tags and does
  // not. `noCache` keeps Nunjucks' own per-loader template cache out of the picture (with it,
  // plain Nunjucks hands the second environment the first one's Template object, and so does bcc).
  const templates = {
    'card.njk': '<p>{{ html }}</p>\n',
    'custom.njk': '<p><% html %></p>\n',
  };
  const context = { html: '<b>bold</b>' };

  function setUp(withBcc: boolean, order: 'escaped-first' | 'raw-first') {
    const loader = new nunjucks.FileSystemLoader('.');
    const source = new Map(Object.entries(templates));
    const shared = Object.assign(Object.create(Object.getPrototypeOf(loader)), {
      getSource: (name: string) => ({ src: source.get(name), path: `/views/${name}`, noCache: false }),
    }) as nunjucks.ILoader;
    const original = shared.getSource;
    const escaped = new nunjucks.Environment(shared, { autoescape: true, noCache: true });
    const raw = new nunjucks.Environment(shared, {
      autoescape: false,
      noCache: true,
      tags: { variableStart: '<%', variableEnd: '%>' },
    });
    const cache = new MemoryBytecodeCache();
    const handles = withBcc ? [useBytecodeCache(escaped, cache), useBytecodeCache(raw, cache)] : [];
    const envs = order === 'escaped-first' ? [escaped, raw] : [raw, escaped];
    const out = envs.flatMap((env) => [env.render('card.njk', context), env.render('custom.njk', context)]);
    return { out, handles, shared, original, escaped, raw };
  }

  it.each(['escaped-first', 'raw-first'] as const)(
    'each environment gets code compiled with its own options (%s)',
    (order) => {
      const plain = setUp(false, order);
      const cached = setUp(true, order);
      expect(cached.out).toEqual(plain.out);
      // And again, from the entries the first round stored.
      const again = setUp(true, order === 'escaped-first' ? 'raw-first' : 'escaped-first');
      const plainAgain = setUp(false, order === 'escaped-first' ? 'raw-first' : 'escaped-first');
      expect(again.out).toEqual(plainAgain.out);
    },
  );

  it.each([
    [0, 1],
    [1, 0],
  ])('disposing the handles in any order (%i, %i) restores every loader exactly', (first, second) => {
    const { handles, shared, original, escaped, raw } = setUp(true, 'escaped-first');
    expect(shared.getSource).toBe(original);
    handles[first]!.dispose();
    handles[second]!.dispose();
    for (const env of [escaped, raw]) {
      const loaders = (env as unknown as { loaders: unknown[] }).loaders;
      expect(loaders).toEqual([shared]);
      expect(loaders[0]).toBe(shared);
    }
    expect(shared.getSource).toBe(original);
    expect(Object.hasOwn(shared, 'async')).toBe(false);
  });
});
