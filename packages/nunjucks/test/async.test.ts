import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BccBackendError, type Bucket, MemoryBytecodeCache, TieredBytecodeCache } from '@bcc/core';
import nunjucks from 'nunjucks';
import { describe, expect, it } from 'vitest';
import { useBytecodeCache } from '../src/index.js';
import {
  AsyncOnlyCache,
  copyOfTemplates,
  type FixtureEnvironment,
  fixtures,
  renderAsync,
  renderError,
  tempDir,
} from './helpers.js';

const pages = [...fixtures.syncPages, ...fixtures.asyncPages];

async function renderAll(env: FixtureEnvironment): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const page of pages) out[page] = await renderAsync(env, page);
  return out;
}

describe('useBytecodeCache with the callback API', () => {
  it('renders every fixture (async filters included) exactly as Nunjucks does, through an async-only cache', async () => {
    const plain = await renderAll(fixtures.createEnvironment());
    const cache = new AsyncOnlyCache();

    const first = fixtures.createEnvironment();
    const firstHandle = useBytecodeCache(first, cache);
    expect(firstHandle.mode).toBe('async');
    expect(await renderAll(first)).toEqual(plain);
    await firstHandle.flush();
    expect(firstHandle.stats).toMatchObject({ compiled: 12, cacheV8: 0, codeCachesStored: 12 });

    const second = fixtures.createEnvironment();
    const secondHandle = useBytecodeCache(second, cache);
    expect(await renderAll(second)).toEqual(plain);
    await secondHandle.flush();
    expect(secondHandle.stats).toMatchObject({ compiled: 0, cache: 0, cacheV8: 12, codeCachesStored: 0 });
  });

  it('does not read again the templates of a page that Nunjucks already holds compiled', async () => {
    const plain = fixtures.createEnvironment();
    const env = fixtures.createEnvironment();
    const reads: string[] = [];
    const loader = env.loaders[0] as unknown as {
      getSource(name: string): unknown;
      cache: Record<string, unknown>;
    };
    const getSource = loader.getSource;
    loader.getSource = function (this: unknown, name: string) {
      reads.push(name);
      return getSource.call(this, name);
    };
    useBytecodeCache(env, new AsyncOnlyCache());
    expect(await renderAsync(env, 'pages/home.njk')).toBe(await renderAsync(plain, 'pages/home.njk'));
    expect(reads).toContain('layout.njk');
    // Another page on the same layout: only what Nunjucks does not hold yet is read (and hashed).
    reads.length = 0;
    expect(await renderAsync(env, 'pages/list.njk')).toBe(await renderAsync(plain, 'pages/list.njk'));
    expect(reads).toContain('pages/list.njk');
    expect(reads).not.toContain('layout.njk');
    // A template Nunjucks dropped from its cache (as its watcher does on a change) is read again.
    delete loader.cache['layout.njk'];
    delete loader.cache['pages/forms.njk'];
    reads.length = 0;
    expect(await renderAsync(env, 'pages/forms.njk')).toBe(await renderAsync(plain, 'pages/forms.njk'));
    expect(reads).toContain('layout.njk');
  });

  it('works in async mode with a synchronous cache too', async () => {
    const plain = await renderAll(fixtures.createEnvironment());
    const env = fixtures.createEnvironment();
    const handle = useBytecodeCache(env, new MemoryBytecodeCache(), { mode: 'async' });
    expect(handle.mode).toBe('async');
    expect(await renderAll(env)).toEqual(plain);
  });

  it('works with the callback API in sync mode', async () => {
    const plain = await renderAll(fixtures.createEnvironment());
    const env = fixtures.createEnvironment();
    useBytecodeCache(env, new MemoryBytecodeCache());
    expect(await renderAll(env)).toEqual(plain);
  });

  it('compiles a template once when many renders ask for it at the same time', async () => {
    const cache = new AsyncOnlyCache();
    const envs = [fixtures.createEnvironment(), fixtures.createEnvironment(), fixtures.createEnvironment()];
    const handles = envs.map((env) => useBytecodeCache(env, cache));
    const results = await Promise.all(envs.map((env) => renderAsync(env, 'pages/home.njk')));
    expect(new Set(results).size).toBe(1);
    await Promise.all(handles.map((h) => h.flush()));
    // home, layout, macros, nav, footer, legal, post: seven templates, each compiled once in
    // all, so seven JavaScript writes and seven code-cache writes.
    expect(cache.count).toBe(7);
    expect(cache.stats.writes).toBe(14);
  });

  it('renders {% include %} inside {% for %} correctly on first load, which a plain async loader does not', async () => {
    const expected = fixtures.createEnvironment().render('pages/home.njk', fixtures.context);
    expect(expected).toContain('<li class="post">Third (42 words) — last</li>');

    // Nunjucks itself, given an asynchronous loader, drops the includes' output in the loop.
    const plainAsync = fixtures.createEnvironment();
    const loader = plainAsync.loaders[0] as unknown as { async?: boolean; getSource: Function };
    const own = loader.getSource.bind(loader);
    loader.async = true;
    loader.getSource = (name: string, cb: Function) => setImmediate(() => cb(null, own(name)));
    expect(await renderAsync(plainAsync, 'pages/home.njk')).not.toBe(expected);

    // bcc loads the template's static dependencies first, so Nunjucks never waits mid-render.
    const cache = new AsyncOnlyCache();
    for (let round = 0; round < 2; round++) {
      const env = fixtures.createEnvironment();
      useBytecodeCache(env, cache);
      expect(await renderAsync(env, 'pages/home.njk')).toBe(expected);
    }
  });

  it('preload() lets the synchronous API render through an async cache', async () => {
    const cache = new AsyncOnlyCache();
    const first = fixtures.createEnvironment();
    const firstHandle = useBytecodeCache(first, cache);
    await firstHandle.preload({ extensions: ['.njk'] });
    const expected = fixtures.createEnvironment().render('pages/list.njk', fixtures.context);
    expect(first.render('pages/list.njk', fixtures.context)).toBe(expected);
    await firstHandle.flush();

    const env = fixtures.createEnvironment();
    const handle = useBytecodeCache(env, cache);
    await handle.preload({ names: ['pages/list.njk'] });
    expect(env.render('pages/list.njk', fixtures.context)).toBe(expected);
    // list, section, layout, macros, nav, footer, legal.
    expect(handle.stats).toMatchObject({ compiled: 0, cacheV8: 7 });
  });

  it('the synchronous API over an async cache renders as Nunjucks does, warns once, and stores in the background', async () => {
    const warnings: Error[] = [];
    const listen = (warning: Error) => warnings.push(warning);
    process.on('warning', listen);
    try {
      const expected = fixtures.createEnvironment().render('pages/home.njk', fixtures.context);
      const cache = new AsyncOnlyCache();
      const env = fixtures.createEnvironment();
      const handle = useBytecodeCache(env, cache);
      // Switching BCC_CACHE from file: to redis:// must not break this line.
      expect(env.render('pages/home.njk', fixtures.context)).toBe(expected);
      expect(env.render('pages/home.njk', fixtures.context)).toBe(expected);
      expect(handle.stats.uncached).toBeGreaterThan(0);
      await handle.flush();
      await new Promise((resolve) => setImmediate(resolve));
      expect(
        warnings.filter((w) => (w as { code?: string }).code === 'BCC_SYNC_RENDER_UNCACHED'),
      ).toHaveLength(1);
      // The background loads filled the store: after preload(), the synchronous API gets hits.
      expect(cache.count).toBeGreaterThan(0);
      const next = fixtures.createEnvironment();
      const nextHandle = useBytecodeCache(next, cache);
      await nextHandle.preload({ names: ['pages/home.njk'] });
      expect(next.render('pages/home.njk', fixtures.context)).toBe(expected);
      expect(nextHandle.stats.uncached).toBe(0);
      expect(nextHandle.stats.cache + nextHandle.stats.cacheV8).toBeGreaterThan(0);
    } finally {
      process.off('warning', listen);
    }
  });

  it('the synchronous API is served by a synchronous first tier when it has the templates', async () => {
    const expected = fixtures.createEnvironment().render('pages/home.njk', fixtures.context);
    const memory = new MemoryBytecodeCache();
    const slow = new AsyncOnlyCache();
    const first = fixtures.createEnvironment();
    const firstHandle = useBytecodeCache(first, new TieredBytecodeCache([memory, slow]), {
      onError: () => {},
    });
    expect(first.render('pages/home.njk', fixtures.context)).toBe(expected);
    await firstHandle.flush();
    await (firstHandle.cache as TieredBytecodeCache).flush();
    // A new process in effect: the memory tier (a filesystem tier in real life) has the entries.
    const env = fixtures.createEnvironment();
    const handle = useBytecodeCache(env, new TieredBytecodeCache([memory, slow]));
    expect(env.render('pages/home.njk', fixtures.context)).toBe(expected);
    expect(handle.stats.uncached).toBe(0);
    expect(handle.stats.cache + handle.stats.cacheV8).toBeGreaterThan(0);
  });

  it('reports a syntax error exactly as Nunjucks does, and stores nothing for it', async () => {
    const cache = new AsyncOnlyCache();
    const env = fixtures.createEnvironment();
    const handle = useBytecodeCache(env, cache);
    const plain = fixtures.createEnvironment();
    for (const name of ['broken/syntax.njk', 'broken/child.njk']) {
      const expected = await renderError(plain, name);
      const actual = await renderError(env, name);
      expect(`${actual.name}: ${actual.message}`).toBe(`${expected.name}: ${expected.message}`);
    }
    await handle.flush();
    expect(handle.stats.compileErrors).toBe(1);
    expect(cache.count).toBe(1);
  });

  it('reports a broken parent template as a synchronous loader would, in a fresh environment', async () => {
    // Nunjucks with an async loader throws this error out of its loader callback (uncaught);
    // bcc has the broken parent ready before rendering, so Nunjucks sees a synchronous loader.
    const expected = await renderError(fixtures.createEnvironment(), 'broken/child.njk');
    const env = fixtures.createEnvironment();
    useBytecodeCache(env, new AsyncOnlyCache());
    const actual = await renderError(env, 'broken/child.njk');
    expect(`${actual.name}: ${actual.message}`).toBe(`${expected.name}: ${expected.message}`);
  });

  it('reports a missing template as Nunjucks does, and loads templates named at run time', async () => {
    const plain = fixtures.createEnvironment();
    const env = fixtures.createEnvironment();
    useBytecodeCache(env, new AsyncOnlyCache());
    const expected = await renderError(plain, 'nope.njk');
    expect((await renderError(env, 'nope.njk')).message).toBe(expected.message);

    const source = '{% include which %}|{% include "partials/legal.njk" %}';
    const render = (e: FixtureEnvironment) =>
      new Promise<string>((resolve, reject) =>
        e.renderString(
          source,
          { which: 'partials/post.njk', post: { title: 'T', words: 1 } },
          (error, html) => (error ? reject(error) : resolve(html ?? '')),
        ),
      );
    expect(await render(env)).toBe(await render(plain));
  });

  it('recompiles a template edited on disk, honouring noCache', async () => {
    const copy = copyOfTemplates();
    try {
      const env = fixtures.createEnvironment({ dir: copy.dir, noCache: true });
      const handle = useBytecodeCache(env, new AsyncOnlyCache());
      expect(await renderAsync(env, 'pages/home.njk')).toContain('(42 words) — last');
      const compiled = handle.stats.compiled;
      const file = join(copy.dir, 'partials/post.njk');
      writeFileSync(file, readFileSync(file, 'utf8').replace('words)', 'words, edited)'));
      const after = await renderAsync(env, 'pages/home.njk');
      expect(after).toContain('(42 words, edited) — last');
      expect(handle.stats.compiled).toBe(compiled + 1);
      expect(after).toBe(await renderAsync(fixtures.createEnvironment({ dir: copy.dir }), 'pages/home.njk'));
    } finally {
      copy.remove();
    }
  });

  it('keeps rendering when the store fails, and reports the failure', async () => {
    const errors: Error[] = [];
    class BrokenCache extends AsyncOnlyCache {
      override async loadBytecode(_bucket: Bucket): Promise<void> {
        throw new Error('store is down');
      }
      override async dumpBytecode(_bucket: Bucket): Promise<void> {
        throw new Error('store is down');
      }
    }
    const cache = new BrokenCache();
    (cache as unknown as { report: (e: Error) => void }).report = (e: Error) => errors.push(e);
    const env = fixtures.createEnvironment();
    const handle = useBytecodeCache(env, cache);
    expect(await renderAsync(env, 'pages/home.njk')).toBe(
      await renderAsync(fixtures.createEnvironment(), 'pages/home.njk'),
    );
    await handle.flush();
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toBeInstanceOf(BccBackendError);
  });

  it('passes a backend error to the render callback when the cache is made with ignoreErrors: false', async () => {
    class StrictBrokenCache extends MemoryBytecodeCache {
      constructor() {
        super({ ignoreErrors: false });
      }
      override async loadBytecode(_bucket: Bucket): Promise<void> {
        throw new Error('store is down');
      }
    }
    const env = fixtures.createEnvironment();
    useBytecodeCache(env, new StrictBrokenCache(), { mode: 'async' });
    const error = await renderError(env, 'pages/home.njk');
    expect(error.message).toMatch(/store is down/);
  });
});

describe('JavaScript that Nunjucks generates but V8 refuses', () => {
  // Nunjucks' parser accepts a symbol ending in a backslash; the code it generates holds an
  // unterminated string literal. Plain Nunjucks reports that through the render callback,
  // naming the template.
  const broken = { 'bad.njk': '{{ foo\\ }}', 'child.njk': '{% extends "bad.njk" %}' };

  function environmentFor(dir: string) {
    return new nunjucks.Environment(new nunjucks.FileSystemLoader(dir));
  }

  const outcome = (env: nunjucks.Environment, name: string) =>
    new Promise<string>((resolve) => {
      let settled = false;
      try {
        env.render(name, {}, (error, out) => {
          settled = true;
          resolve(error ? `callback ${error.name}: ${error.message}` : `ok ${out}`);
        });
      } catch (error) {
        if (!settled) resolve(`thrown ${(error as Error).name}: ${(error as Error).message}`);
      }
    });

  it.each(['sync', 'async'] as const)(
    'is reported as plain Nunjucks reports it, and never stored (%s caches)',
    async (mode) => {
      const { dir, remove } = tempDir();
      try {
        for (const [name, source] of Object.entries(broken)) writeFileSync(join(dir, name), source);
        const cache = mode === 'sync' ? new MemoryBytecodeCache() : new AsyncOnlyCache();
        for (const name of Object.keys(broken)) {
          const expected = await outcome(environmentFor(dir), name);
          expect(expected).toMatch(/^callback Template render error: .*bad\.njk.*SyntaxError/s);
          // Twice: a second environment on the same cache must not find a stored broken entry.
          for (let round = 0; round < 2; round++) {
            const env = environmentFor(dir);
            const handle = useBytecodeCache(env, cache);
            expect(await outcome(env, name)).toBe(expected);
            await handle.flush();
            handle.dispose();
          }
        }
        // Only child.njk, which compiles (its parent is what fails), was stored; bad.njk never was.
        expect(cache.stats.writes).toBe(1);
      } finally {
        remove();
      }
    },
  );
});
