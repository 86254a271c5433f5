import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createBytecodeCacheFromEnv, MemoryBytecodeCache } from '@bcc/core';
import { FileSystemBytecodeCache } from '@bcc/fs';
import nunjucks from 'nunjucks';
import { afterEach, describe, expect, it } from 'vitest';
import { useBytecodeCache } from '../src/index.js';
import { AsyncOnlyCache, copyOfTemplates, type FixtureEnvironment, fixtures, tempDir } from './helpers.js';

const { context, syncPages } = fixtures;

function renderAll(env: FixtureEnvironment): Record<string, string> {
  return Object.fromEntries(syncPages.map((page) => [page, env.render(page, context)]));
}

describe('useBytecodeCache with the synchronous API', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });

  it('renders every fixture exactly as Nunjucks does, compiling on a miss and loading with V8 on a hit', async () => {
    const plain = renderAll(fixtures.createEnvironment());
    const cache = new MemoryBytecodeCache();

    const first = fixtures.createEnvironment();
    const firstHandle = useBytecodeCache(first, cache);
    expect(firstHandle.mode).toBe('sync');
    expect(renderAll(first)).toEqual(plain);
    await firstHandle.flush();
    expect(firstHandle.stats.compiled).toBe(11);
    expect(firstHandle.stats.cacheV8 + firstHandle.stats.cache).toBe(0);
    // Each entry was stored twice: its JavaScript after compiling, then with the V8 code cache.
    expect(firstHandle.stats.codeCachesStored).toBe(11);
    expect(cache.stats.writes).toBe(22);
    expect(cache.count).toBe(11);

    const second = fixtures.createEnvironment();
    const secondHandle = useBytecodeCache(second, cache);
    expect(renderAll(second)).toEqual(plain);
    await secondHandle.flush();
    expect(secondHandle.stats).toMatchObject({ compiled: 0, cache: 0, cacheV8: 11, codeCachesStored: 0 });
    expect(cache.stats.writes).toBe(22);
  });

  it('keeps Nunjucks template caching: a second render does not touch the bcc cache', () => {
    const cache = new MemoryBytecodeCache();
    const env = fixtures.createEnvironment();
    useBytecodeCache(env, cache);
    env.render('pages/home.njk', context);
    const lookups = cache.stats.hits + cache.stats.misses;
    env.render('pages/home.njk', context);
    expect(cache.stats.hits + cache.stats.misses).toBe(lookups);
  });

  it('recompiles a template edited on disk (checksum), honouring noCache', () => {
    const copy = copyOfTemplates();
    cleanups.push(copy.remove);
    const cache = new MemoryBytecodeCache();
    const env = fixtures.createEnvironment({ dir: copy.dir, noCache: true });
    const handle = useBytecodeCache(env, cache);
    const before = env.render('pages/custom.njk', context);
    expect(before).toContain('QUIET WORDS');
    const compiledBefore = handle.stats.compiled;

    const file = join(copy.dir, 'pages/custom.njk');
    writeFileSync(file, readFileSync(file, 'utf8').replace('quiet words', 'edited words'));
    const after = env.render('pages/custom.njk', context);
    expect(after).toContain('EDITED WORDS');
    // Only the edited template was compiled again; its parents and partials came from the cache.
    expect(handle.stats.compiled).toBe(compiledBefore + 1);

    // And the result is what plain Nunjucks renders from the edited files.
    expect(after).toBe(fixtures.createEnvironment({ dir: copy.dir }).render('pages/custom.njk', context));
  });

  it("reloads a template after the loader's update event (what watch: true emits)", () => {
    const copy = copyOfTemplates();
    cleanups.push(copy.remove);
    const cache = new MemoryBytecodeCache();
    const env = fixtures.createEnvironment({ dir: copy.dir });
    useBytecodeCache(env, cache);
    expect(env.render('partials/legal.njk', context)).toContain('ALL RIGHTS RESERVED!');
    const file = join(copy.dir, 'partials/legal.njk');
    writeFileSync(file, '<small>{{ "changed" | shout }}</small>\n');
    // Without an update event, Nunjucks keeps its compiled template, with or without bcc.
    expect(env.render('partials/legal.njk', context)).toContain('ALL RIGHTS RESERVED!');
    env.loaders[0]!.emit('update', 'partials/legal.njk', file);
    expect(env.render('partials/legal.njk', context)).toContain('CHANGED!');
  });

  it('reports a syntax error exactly as Nunjucks does, and caches nothing for it', () => {
    const messageOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return `${(error as Error).name}: ${(error as Error).message}`;
      }
      throw new Error('expected an error');
    };
    const plain = fixtures.createEnvironment();
    const cache = new MemoryBytecodeCache();
    const env = fixtures.createEnvironment();
    const handle = useBytecodeCache(env, cache);

    for (const name of ['broken/syntax.njk', 'broken/child.njk']) {
      expect(messageOf(() => env.render(name, context))).toBe(messageOf(() => plain.render(name, context)));
    }
    expect(messageOf(() => env.getTemplate('broken/syntax.njk', true))).toBe(
      messageOf(() => plain.getTemplate('broken/syntax.njk', true)),
    );
    expect(messageOf(() => env.render('broken/syntax.njk', context))).toMatch(/expected variable end/);
    // Nunjucks keeps the broken template (as source) in its own cache, so bcc sees it once.
    expect(handle.stats.compileErrors).toBe(1);
    // broken/child.njk itself compiles and is stored; nothing is stored for broken/syntax.njk.
    const path = join(fixtures.templatesDir, 'broken/syntax.njk');
    const lookup = cache.getBucketSync(handle.environment, path, path, readFileSync(path, 'utf8'));
    expect(lookup.code).toBeNull();
    expect(cache.count).toBe(1);
  });

  it('with a secret, ignores entries someone without it wrote, and recompiles', () => {
    const dir = tempDir();
    cleanups.push(dir.remove);
    const expected = fixtures.createEnvironment().render('pages/home.njk', context);
    // Someone without the secret fills the shared directory.
    const intruder = fixtures.createEnvironment();
    useBytecodeCache(intruder, new FileSystemBytecodeCache({ directory: dir.dir }));
    intruder.render('pages/home.njk', context);

    const refused: Error[] = [];
    const env = fixtures.createEnvironment();
    const handle = useBytecodeCache(
      env,
      new FileSystemBytecodeCache({
        directory: dir.dir,
        secret: 'a long random secret',
        onError: (e) => refused.push(e),
      }),
    );
    expect(env.render('pages/home.njk', context)).toBe(expected);
    expect(handle.stats.compiled).toBe(7);
    expect(refused.length).toBe(7);
    expect(refused[0]!.message).toMatch(/not signed/);
  });

  it('dispose() puts the loaders back', () => {
    const env = fixtures.createEnvironment();
    const own = env.loaders[0]!.getSource;
    const handle = useBytecodeCache(env, new MemoryBytecodeCache());
    expect(env.loaders[0]!.getSource).not.toBe(own);
    expect(() => useBytecodeCache(env, new MemoryBytecodeCache())).toThrow(/already uses a bcc cache/);
    handle.dispose();
    expect(env.loaders[0]!.getSource).toBe(own);
    expect(Object.hasOwn(env.loaders[0]!, 'async')).toBe(false);
  });

  it('refuses mode sync for a cache without synchronous methods, and things that are not environments or caches', async () => {
    const { AsyncOnlyCache } = await import('./helpers.js');
    expect(() =>
      useBytecodeCache(fixtures.createEnvironment(), new AsyncOnlyCache(), { mode: 'sync' }),
    ).toThrow(/no synchronous load/);
    expect(() => useBytecodeCache({}, new MemoryBytecodeCache())).toThrow(/nunjucks.Environment/);
    expect(() => useBytecodeCache(fixtures.createEnvironment(), {} as never)).toThrow(/bcc cache/);
  });
});

describe('BCC_CACHE=none', () => {
  it('a disabled cache leaves the environment exactly as it was', async () => {
    const env = fixtures.createEnvironment();
    const loaders = env.loaders.map((loader) => ({ loader, getSource: loader.getSource }));
    const render = env.render;
    const cache = await createBytecodeCacheFromEnv({ env: { BCC_CACHE: 'none' } });
    const handle = useBytecodeCache(env, cache);
    expect(env.render).toBe(render);
    for (const { loader, getSource } of loaders) expect(loader.getSource).toBe(getSource);
    const plain = fixtures.createEnvironment();
    expect(env.render('pages/home.njk', fixtures.context)).toBe(
      plain.render('pages/home.njk', fixtures.context),
    );
    expect(handle.stats.compiled).toBe(0);
    expect(await handle.warm()).toMatchObject({ total: 0 });
    handle.dispose();
    // Turning it off twice, or on after off, is not an error.
    useBytecodeCache(env, cache).dispose();
    useBytecodeCache(env, new MemoryBytecodeCache()).dispose();
  });
});

describe('compile later, like Nunjucks', () => {
  // Filters registered after getTemplate() but before the first render take effect in plain
  // Nunjucks, which compiles at the first render. An async filter changes the generated code.
  const source = '{{ name | shout }}!';

  function run(withCache: 'none' | 'sync' | 'async') {
    const loader = { getSource: (name: string) => ({ src: source, path: `/v/${name}`, noCache: false }) };
    const env = new nunjucks.Environment([loader] as never);
    if (withCache !== 'none') {
      useBytecodeCache(env, withCache === 'sync' ? new MemoryBytecodeCache() : new AsyncOnlyCache());
    }
    const getTemplate = env.getTemplate as unknown as (
      name: string,
      cb: (error: Error | null, template: nunjucks.Template) => void,
    ) => void;
    return new Promise<string>((resolve) => {
      getTemplate.call(env, 't.njk', (error, template) => {
        if (error) return resolve(`getTemplate failed: ${error.message}`);
        const shout = (value: string, cb: (e: null, r: string) => void) =>
          setImmediate(() => cb(null, value.toUpperCase()));
        env.addFilter('shout', shout, true);
        template.render({ name: 'ada' }, (renderError, out) =>
          resolve(renderError ? `render failed: ${renderError.message}` : String(out)),
        );
      });
    });
  }

  it.each(['sync', 'async'] as const)(
    'an async filter added between getTemplate and render works (%s cache)',
    async (mode) => {
      const plain = await run('none');
      expect(plain).toBe('ADA!');
      expect(await run(mode)).toBe(plain);
    },
  );
});
