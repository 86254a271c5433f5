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
