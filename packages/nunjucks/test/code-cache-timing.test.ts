import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeFrame, inspectFrame, MemoryBytecodeCache } from '@bcc/core';
import nunjucks from 'nunjucks';
import { afterEach, describe, expect, it } from 'vitest';
import { useBytecodeCache } from '../src/index.js';
import { AsyncOnlyCache, renderAsync, tempDir } from './helpers.js';

// A string literal V8 keeps in a function's bytecode: it is in a code cache only when that
// function had been compiled when the cache was taken (the template source is not in the cache).
const MARKER = 'bcc-macro-body-marker';

const MACROS = `{% macro badge(label) %}<b class="${MARKER}">{{ label }}</b>{% endmacro %}
{% macro unused(label) %}<i class="never-called">{{ label }}</i>{% endmacro %}`;
const PAGE = `{% import "macros.njk" as m %}<p>{{ m.badge("one") }}{{ m.badge("two") }}</p>`;
const FROM_PAGE = `{% from "macros.njk" import badge %}<p>{{ badge("three") }}</p>`;

/** The V8 code cache stored for the template whose name ends with `suffix`, as Latin-1 text. */
async function codeCacheOf(cache: MemoryBytecodeCache, suffix: string): Promise<string> {
  for await (const { key } of cache.listEntries()) {
    const bytes = (await cache.readEntry(key))!;
    const inspected = inspectFrame(bytes);
    if (!inspected.ok || !inspected.info.name.endsWith(suffix)) continue;
    const decoded = decodeFrame(bytes, { key, checksum: inspected.info.checksum });
    if (!decoded.ok) throw new Error(`entry for ${suffix} does not decode: ${decoded.reason}`);
    return Buffer.from(decoded.v8 ?? new Uint8Array()).toString('latin1');
  }
  throw new Error(`no entry for ${suffix}`);
}

describe('when the V8 code cache of an imported template is taken', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });

  const setUp = (page: string) => {
    const temp = tempDir();
    cleanups.push(temp.remove);
    writeFileSync(join(temp.dir, 'macros.njk'), MACROS);
    writeFileSync(join(temp.dir, 'page.njk'), page);
    const make = () => new nunjucks.Environment(new nunjucks.FileSystemLoader(temp.dir));
    // Plain Nunjucks' output, to compare with.
    const plain = () => make().render('page.njk', {});
    return { dir: temp.dir, make, plain };
  };

  // `{% import %}` runs the macro file's root (which only defines the macros) before the page
  // calls them: a cache taken when that root finished would leave every macro body to be compiled
  // again by V8 in each process that loads it.
  for (const [label, page] of [
    ['import … as', PAGE],
    ['from … import', FROM_PAGE],
  ] as const) {
    it(`with ${label}, after the page that called the macros, so their bodies are in it (sync API)`, async () => {
      const { make, plain } = setUp(page);
      const cache = new MemoryBytecodeCache();
      const env = make();
      const handle = useBytecodeCache(env, cache);
      expect(env.render('page.njk', {})).toBe(plain());
      await handle.flush();
      expect(handle.stats.codeCachesStored).toBe(2);
      const macros = await codeCacheOf(cache, 'macros.njk');
      expect(macros.includes(MARKER), 'the called macro is compiled in the cache').toBe(true);
      // Only what ran: the macro no page called stays lazy.
      expect(macros.includes('never-called'), 'the macro nobody called is not').toBe(false);

      // A fresh environment loads both with their code caches and renders the same.
      const again = make();
      const second = useBytecodeCache(again, cache);
      expect(again.render('page.njk', {})).toBe(plain());
      expect(second.stats).toMatchObject({ compiled: 0, cacheV8: 2, codeCachesStored: 0 });
    });
  }

  it('after the page, with the callback API too', async () => {
    const { make, plain } = setUp(PAGE);
    const cache = new MemoryBytecodeCache();
    const env = make();
    const handle = useBytecodeCache(env, cache);
    expect(await renderAsync(env, 'page.njk', {})).toBe(plain());
    await handle.flush();
    expect(handle.stats.codeCachesStored).toBe(2);
    expect((await codeCacheOf(cache, 'macros.njk')).includes(MARKER)).toBe(true);
  });

  it('after the page, with an asynchronous store', async () => {
    const { make, plain } = setUp(PAGE);
    const cache = new AsyncOnlyCache();
    const env = make();
    const handle = useBytecodeCache(env, cache);
    expect(handle.mode).toBe('async');
    expect(await renderAsync(env, 'page.njk', {})).toBe(plain());
    await handle.flush();
    expect(handle.stats.codeCachesStored).toBe(2);
    expect((await codeCacheOf(cache, 'macros.njk')).includes(MARKER)).toBe(true);
  });

  it('a render that never calls back does not keep the templates it finished from being stored', async () => {
    const { dir, make } = setUp(`{% import "macros.njk" as m %}{{ m.badge("x") }}{{ "y" | never }}`);
    const cache = new MemoryBytecodeCache();
    const env = make();
    // An async filter that never answers: the page's render never ends.
    env.addFilter(
      'never',
      (_value: unknown, _done: (error: Error | null, result?: string) => void) => {},
      true,
    );
    const handle = useBytecodeCache(env, cache);
    let called = false;
    env.render('page.njk', {}, () => {
      called = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    await handle.flush();
    expect(called).toBe(false);
    // The macro file finished its first render (and the page called a macro) before the filter.
    expect(handle.stats.codeCachesStored).toBe(1);
    expect((await codeCacheOf(cache, 'macros.njk')).includes(MARKER)).toBe(true);

    // Later pages of the same environment still get theirs, after the current work.
    writeFileSync(join(dir, 'other.njk'), '<p>{{ 1 + 1 }}</p>');
    expect(env.render('other.njk', {})).toBe('<p>2</p>');
    await new Promise((resolve) => setImmediate(resolve));
    await handle.flush();
    expect(handle.stats.codeCachesStored).toBe(2);
  });

  it('a macro file that imports another: both are stored after the page, with what the page ran', async () => {
    const temp = tempDir();
    cleanups.push(temp.remove);
    writeFileSync(
      join(temp.dir, 'base-macros.njk'),
      `{% macro inner(x) %}<u class="bcc-inner-marker">{{ x }}</u>{% endmacro %}`,
    );
    writeFileSync(
      join(temp.dir, 'macros.njk'),
      `{% import "base-macros.njk" as base %}{% macro outer(x) %}<s class="bcc-outer-marker">{{ base.inner(x) }}</s>{% endmacro %}`,
    );
    writeFileSync(
      join(temp.dir, 'page.njk'),
      `{% import "macros.njk" as m %}{% macro local(y) %}{{ caller() }}{{ y }}{% endmacro %}{% call local("!") %}{{ m.outer("z") }}{% endcall %}`,
    );
    const make = () => new nunjucks.Environment(new nunjucks.FileSystemLoader(temp.dir));
    const plain = make().render('page.njk', {});
    const cache = new MemoryBytecodeCache();
    const env = make();
    const handle = useBytecodeCache(env, cache);
    expect(env.render('page.njk', {})).toBe(plain);
    await handle.flush();
    expect(handle.stats.codeCachesStored).toBe(3);
    expect((await codeCacheOf(cache, '/macros.njk')).includes('bcc-outer-marker')).toBe(true);
    expect((await codeCacheOf(cache, 'base-macros.njk')).includes('bcc-inner-marker')).toBe(true);
    const again = make();
    const second = useBytecodeCache(again, cache);
    expect(again.render('page.njk', {})).toBe(plain);
    expect(second.stats).toMatchObject({ compiled: 0, cacheV8: 3, codeCachesStored: 0 });
  });
});
