// @bcc/pug against plain Pug: the engine conformance suite, files with include/extends, and
// dependency tracking (an edited include recompiles every template that inlines it).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectFrame, MemoryBytecodeCache } from '@bcc/core';
import { FileSystemBytecodeCache } from '@bcc/fs';
import { AsyncOnlyMemoryCache, runEngineSuite } from '@bcc/testkit';
import pug from 'pug';
import { afterEach, describe, expect, it } from 'vitest';
import { createPugRenderer, type PugModule, PugTemplateEnvironment, useBytecodeCache } from '../src/index.js';

const data = { name: 'Ada <3', html: '<i>x</i>', items: ['a', '<b>'] };

/**
 * Pug is one module, not instances: the suite's engines each get an object inheriting from it
 * and render through its `compile` (the module's own `render` calls the module's `compile`).
 */
type Engine = { pug: typeof pug; options: pug.Options };

const outcome = (run: () => string) => {
  try {
    return `ok ${run()}`;
  } catch (error) {
    return `error ${(error as Error).name}: ${(error as Error).message}`;
  }
};

runEngineSuite<Engine>(
  { describe, it, expect },
  {
    name: 'pug',
    createEngine: (options) => ({
      pug: Object.create(pug),
      options: { ...(options as pug.Options | undefined) },
    }),
    install: (engine, cache) => useBytecodeCache(engine.pug, cache, { onError: () => {} }),
    render: (engine, source) => outcome(() => engine.pug.compile(source, { ...engine.options })({ ...data })),
    snapshot: (engine) => [engine.pug.compile],
    samples: [
      'p Hello #{name} !{html} #[b= html]',
      'ul\n  each x, i in items\n    li(class=i % 2 ? "odd" : "even")= x',
      'mixin card(t)\n  .card= t\n+card(name)\n+card("two")',
      'doctype html\nhtml\n  body\n    input(type="checkbox" checked)',
    ],
    compileError: 'p(class="x"\n  p',
    renderError: 'p before\np= missing.deep\np after',
    edit: ['p v1 #{name}', 'p v2 #{name}!'],
    variants: [
      { name: 'pretty', options: { pretty: true }, source: 'div\n  p a\n  p b' },
      { name: 'doctype', options: { doctype: 'xml' }, source: 'input(checked)' },
      { name: 'self', options: { self: true }, source: 'p= self.name' },
      { name: 'compileDebug', options: { compileDebug: false }, source: 'p= missing.deep' },
      // A name listed in globals is not taken from the locals.
      { name: 'globals', options: { globals: ['items'] }, source: 'p= typeof items' },
      {
        name: 'filters',
        options: { filters: { shout: (text: string) => text.toUpperCase() } },
        source: 'p\n  :shout\n    hello',
      },
      // Without inlined runtime functions the template sees Pug's runtime as `pug`.
      { name: 'inlineRuntimeFunctions', options: { inlineRuntimeFunctions: true }, source: 'p= typeof pug' },
    ],
  },
);

describe('templates with include and extends', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const views = () => {
    const dir = mkdtempSync(join(tmpdir(), 'bcc-pug-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'layout.pug'), 'html\n  body\n    block content\n    include footer');
    writeFileSync(join(dir, 'footer.pug'), 'footer © #{name}');
    writeFileSync(join(dir, 'mixins.pug'), 'mixin item(x)\n  li= x');
    writeFileSync(
      join(dir, 'page.pug'),
      'extends layout\ninclude mixins\nblock content\n  h1= name\n  ul\n    each x in items\n      +item(x)',
    );
    return dir;
  };
  const plainRender = (file: string) => {
    const fresh = { ...pug };
    return outcome(() => fresh.renderFile(file, { ...data }));
  };

  it('renderFile: same as plain Pug cold and warm; the entry lists every inlined file with its checksum', () => {
    const dir = views();
    const page = join(dir, 'page.pug');
    const expected = plainRender(page);
    expect(expected).toContain('<footer>© Ada &lt;3</footer>');
    const cache = new MemoryBytecodeCache();
    for (const want of ['compiled', 'cacheV8']) {
      const handle = useBytecodeCache(pug, cache);
      try {
        expect(outcome(() => pug.renderFile(page, { ...data }))).toBe(expected);
        expect(handle.stats[want as 'compiled' | 'cacheV8']).toBe(1);
      } finally {
        handle.dispose();
      }
    }
    const key = cache.getCacheKey(page, page, undefined);
    expect(key).toBeTypeOf('string');
    const handle = useBytecodeCache(pug, cache);
    const template = pug.compileFile(page) as { dependencies?: string[] };
    handle.dispose();
    expect(template.dependencies?.map((d) => d.slice(dir.length + 1)).sort()).toEqual([
      'footer.pug',
      'layout.pug',
      'mixins.pug',
    ]);
  });

  it('an edited include, layout or mixin file recompiles the page; a removed one is a miss, never stale output', () => {
    const dir = views();
    const page = join(dir, 'page.pug');
    const cache = new MemoryBytecodeCache();
    const renderThrough = () => {
      const handle = useBytecodeCache(pug, cache);
      try {
        return { out: outcome(() => pug.renderFile(page, { ...data })), stats: { ...handle.stats } };
      } finally {
        handle.dispose();
      }
    };
    renderThrough();
    expect(renderThrough().stats.cacheV8).toBe(1);
    for (const [file, text] of [
      ['footer.pug', 'footer edited #{name}'],
      ['layout.pug', 'html\n  body.v2\n    block content\n    include footer'],
      ['mixins.pug', 'mixin item(x)\n  li.edited= x'],
    ] as const) {
      writeFileSync(join(dir, file), text);
      const after = renderThrough();
      expect(after.out, file).toBe(plainRender(page));
      expect(after.stats.compiled, file).toBe(1);
      expect(renderThrough().stats.cacheV8, file).toBe(1);
    }
    expect(cache.stats.rejected.dependency).toBe(3);
    rmSync(join(dir, 'footer.pug'));
    const gone = renderThrough();
    expect(gone.out).toBe(plainRender(page));
    expect(gone.out).toMatch(/^error /);
  });

  it('an entry naming a FIFO as a dependency is a miss when loaded, not a hung process', async () => {
    const dir = views();
    const page = join(dir, 'page.pug');
    const cache = new MemoryBytecodeCache();
    const first = useBytecodeCache(pug, cache);
    pug.renderFile(page, { ...data });
    first.dispose();
    // The footer replaced by a FIFO: reading it to check the entry would block without a writer.
    rmSync(join(dir, 'footer.pug'));
    spawnSync('mkfifo', [join(dir, 'footer.pug')]);
    const module = pug as unknown as PugModule;
    const compiler = {
      load: () => ({ pug: module, compile: module.compile }),
      globalFilters: () => module.filters,
    };
    const environment = new PugTemplateEnvironment(compiler, { filename: page }, cache);
    const bucket = await cache.getBucket(environment, page, page, readFileSync(page, 'utf8'));
    expect(bucket.code).toBeNull();
    expect(cache.stats.rejected.dependency).toBe(1);
  });

  it('an asynchronous store: preload gives hits; a dependency edited after the preload is not served stale', async () => {
    const dir = views();
    const page = join(dir, 'page.pug');
    const cache = new AsyncOnlyMemoryCache();
    const first = useBytecodeCache(pug, cache, { onError: () => {} });
    expect(first.mode).toBe('async');
    expect(await first.preload([page])).toMatchObject({ total: 1, compiled: 1, failed: [] });
    first.dispose();
    const handle = useBytecodeCache(pug, cache, { onError: () => {} });
    try {
      expect(await handle.preload([page])).toMatchObject({ hits: 1 });
      expect(outcome(() => pug.renderFile(page, { ...data }))).toBe(plainRender(page));
      expect(handle.stats.uncached).toBe(0);
      writeFileSync(join(dir, 'footer.pug'), 'footer changed after preload');
      const out = outcome(() => pug.renderFile(page, { ...data }));
      expect(out).toContain('changed after preload');
      expect(handle.stats.uncached).toBe(1);
      await handle.flush();
      handle.dispose();
      expect(out).toBe(plainRender(page));
    } finally {
      handle.dispose();
    }
  });

  it('locals passed to render do not split entries; options that shape code do', () => {
    const cache = new MemoryBytecodeCache();
    const handle = useBytecodeCache(pug, cache);
    try {
      pug.render('p= name', { name: 'a' });
      pug.render('p= name', { name: 'b', other: 1 });
      expect(handle.stats).toMatchObject({ compiled: 1, cacheV8: 1 });
      expect(pug.render('div\n  p= name', { name: 'c', pretty: true })).toBe('\n<div>\n  <p>c</p>\n</div>');
      expect(handle.stats.compiled).toBe(2);
    } finally {
      handle.dispose();
    }
  });

  it('entries name the template and Pug version (bcc ls), and debug or a read plugin leave the compile to Pug', () => {
    const dir = views();
    const page = join(dir, 'page.pug');
    const cache = new MemoryBytecodeCache();
    const handle = useBytecodeCache(pug, cache);
    try {
      pug.renderFile(page, { ...data });
      writeFileSync(join(dir, 'other.pug'), 'include virtual');
      const read = (file: string) => Buffer.from(`p read by a plugin: ${file.slice(-11)}`);
      const viaPlugin = pug.renderFile(join(dir, 'other.pug'), { plugins: [{ read }] });
      expect(viaPlugin).toBe('<p>read by a plugin: virtual.pug</p>');
      const debugged = pug.compile('p= 1', { debug: true, compileDebug: false });
      expect(debugged()).toBe('<p>1</p>');
      expect(handle.stats.compiled).toBe(1);
    } finally {
      handle.dispose();
    }
    return (async () => {
      const entries = [];
      for await (const entry of cache.listEntries()) entries.push(await cache.readEntry(entry.key));
      const info = inspectFrame(entries[0]!);
      expect(info.ok && info.info.name).toBe(page);
      expect(info.ok && info.info.engine).toMatch(/^pug@3\.\d+\.\d+$/);
    })();
  });

  it('in fresh processes with a filesystem cache: the second process loads from the cache and renders the same', () => {
    const dir = views();
    const cacheDir = join(dir, '.cache');
    const script = `
      import pug from 'pug';
      import { FileSystemBytecodeCache } from '@bcc/fs';
      import { useBytecodeCache } from '@bcc/pug';
      const handle = useBytecodeCache(pug, new FileSystemBytecodeCache({ directory: process.argv[1] }));
      const out = pug.renderFile(process.argv[2], ${JSON.stringify(data)});
      await handle.flush();
      console.log(JSON.stringify({ out, stats: handle.stats }));
    `;
    const run = () => {
      const child = spawnSync(
        process.execPath,
        ['--input-type=module', '-e', script, cacheDir, join(dir, 'page.pug')],
        {
          cwd: join(import.meta.dirname, '..'),
          encoding: 'utf8',
        },
      );
      expect(child.stderr).toBe('');
      return JSON.parse(child.stdout) as { out: string; stats: Record<string, number> };
    };
    const cold = run();
    const warm = run();
    expect(`ok ${cold.out}`).toBe(plainRender(join(dir, 'page.pug')));
    expect(warm.out).toBe(cold.out);
    expect(cold.stats.compiled).toBe(1);
    expect(warm.stats.cacheV8).toBe(1);
    expect(new FileSystemBytecodeCache({ directory: cacheDir }).directory).toBe(cacheDir);
  });
});

describe('createPugRenderer: Pug imported only to compile', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('a warm process renders from the cache without importing Pug; a cold one or an edited include imports it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bcc-pug-renderer-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'layout.pug'), 'html\n  body\n    block content\n    include footer');
    writeFileSync(join(dir, 'footer.pug'), 'footer © #{name}');
    writeFileSync(
      join(dir, 'page.pug'),
      'extends layout\nblock content\n  h1= name\n  each x in items\n    li= x',
    );
    const script = `
      import { createRequire } from 'node:module';
      import { FileSystemBytecodeCache } from '@bcc/fs';
      import { createPugRenderer } from '@bcc/pug';
      const views = createPugRenderer(new FileSystemBytecodeCache({ directory: process.argv[1] }), { options: { pretty: false } });
      const out = views.renderFile(process.argv[2], ${JSON.stringify(data)});
      await views.flush();
      // Their package.json files are read for versions; their code must not be loaded.
      const loaded = Object.keys(createRequire(import.meta.url).cache).filter((p) => /pug-(lexer|parser|code-gen)/.test(p) && p.endsWith('.js'));
      console.log(JSON.stringify({ out, stats: views.stats, compilerLoaded: views.compilerLoaded, loaded: loaded.length }));
    `;
    const run = () => {
      const child = spawnSync(
        process.execPath,
        ['--input-type=module', '-e', script, join(dir, '.cache'), join(dir, 'page.pug')],
        {
          cwd: join(import.meta.dirname, '..'),
          encoding: 'utf8',
        },
      );
      expect(child.stderr).toBe('');
      return JSON.parse(child.stdout) as {
        out: string;
        stats: Record<string, number>;
        compilerLoaded: boolean;
        loaded: number;
      };
    };
    const expected = pug.renderFile(join(dir, 'page.pug'), { ...data });
    const cold = run();
    expect(cold).toMatchObject({ out: expected, compilerLoaded: true });
    expect(cold.stats.compiled).toBe(1);
    const warm = run();
    expect(warm).toMatchObject({ out: expected, compilerLoaded: false, loaded: 0 });
    expect(warm.stats.cacheV8).toBe(1);
    writeFileSync(join(dir, 'footer.pug'), 'footer edited');
    const edited = run();
    expect(edited).toMatchObject({
      out: pug.renderFile(join(dir, 'page.pug'), { ...data }),
      compilerLoaded: true,
    });
  });

  it('shares entries with useBytecodeCache(pug) (bcc warm fills what the renderer reads), and refuses global filters it could not see', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bcc-pug-renderer-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'page.pug'), 'p= name');
    const cache = new MemoryBytecodeCache();
    const handle = useBytecodeCache(pug, cache);
    pug.renderFile(join(dir, 'page.pug'), { name: 'x' });
    handle.dispose();
    const views = createPugRenderer(cache);
    expect(views.renderFile(join(dir, 'page.pug'), { name: 'Ada' })).toBe('<p>Ada</p>');
    expect(views.stats.compiled).toBe(0);
    (pug as unknown as { filters: Record<string, unknown> }).filters.shout = (text: string) =>
      text.toUpperCase();
    try {
      writeFileSync(join(dir, 'other.pug'), 'p other');
      expect(() => createPugRenderer(new MemoryBytecodeCache()).renderFile(join(dir, 'other.pug'))).toThrow(
        /global filters/,
      );
    } finally {
      delete (pug as unknown as { filters: Record<string, unknown> }).filters.shout;
    }
  });
});
