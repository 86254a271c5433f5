// @bcc/eta against plain Eta: the engine conformance suite, and templates read from files.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BccConfigError, MemoryBytecodeCache } from '@bcc/core';
import { runEngineSuite } from '@bcc/testkit';
import { Eta } from 'eta';
import { afterEach, describe, expect, it } from 'vitest';
import { useBytecodeCache } from '../src/index.js';

const data = { name: 'Ada <3', html: '<i>x</i>', items: ['a', '<b>'] };

runEngineSuite<Eta>(
  { describe, it, expect },
  {
    name: 'eta',
    createEngine: (options) => new Eta({ cache: false, ...(options as object | undefined) }),
    install: (eta, cache) => useBytecodeCache(eta, cache, { onError: () => {} }),
    render: (eta, source) => {
      try {
        return `ok ${eta.renderString(source, data)}`;
      } catch (error) {
        return `error ${(error as Error).name}: ${(error as Error).message}`;
      }
    },
    snapshot: (eta) => [eta.compile],
    samples: [
      'Hello <%= it.name %> <%= it.html %> <%~ it.html %>',
      '<% it.items.forEach(function (x, i) { %>[<%= i %> <%= x %>]<% }) %>',
      '<%_ if (it.items.length) { _%>\n  many\n<%_ } _%>',
    ],
    compileError: 'Hello <%= it.name',
    renderError: 'before <%= it.missing.deep %> after',
    edit: ['v1 <%= it.name %>', 'v2 <%= it.name %>!'],
    variants: [
      { name: 'autoEscape', options: { autoEscape: false }, source: '<%= it.html %>' },
      { name: 'tags', options: { tags: ['{{', '}}'] }, source: '{{= it.name }} <%= it.name %>' },
      { name: 'varName', options: { varName: 'data' }, source: '<%= typeof data %>' },
      { name: 'autoTrim', options: { autoTrim: false }, source: 'a\n<% if (true) { %>\nb\n<% } %>\nc' },
    ],
  },
);

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A views directory with a layout, an include and a page for each of `pages`. */
function viewsWith(pages: readonly string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'bcc-eta-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'layout.eta'), '<main><%~ it.body %></main>');
  writeFileSync(join(dir, 'part.eta'), '<p><%= it.items.length %> items</p>');
  for (const page of pages) {
    writeFileSync(
      join(dir, `${page}.eta`),
      `<% layout("./layout") %><h1>${page} <%= it.name %></h1><%~ include("./part", it) %>`,
    );
  }
  return dir;
}

describe('templates read from files', () => {
  const views = () => viewsWith(['page']);

  it('render() with layouts and includes: same as plain Eta, from the cache warm, keyed by path', () => {
    const dir = views();
    const expected = new Eta({ views: dir, cache: false }).render('./page', data);
    const cache = new MemoryBytecodeCache();
    const cold = new Eta({ views: dir, cache: false });
    const coldHandle = useBytecodeCache(cold, cache);
    expect(cold.render('./page', data)).toBe(expected);
    expect(coldHandle.stats.compiled).toBe(3);
    const warm = new Eta({ views: dir, cache: true });
    const handle = useBytecodeCache(warm, cache);
    expect(warm.render('./page', data)).toBe(expected);
    expect(handle.stats).toMatchObject({ compiled: 0, cacheV8: 3 });
    // Keyed by the file: editing it replaces its entry rather than adding one.
    writeFileSync(join(dir, 'part.eta'), '<p>edited</p>');
    const edited = new Eta({ views: dir, cache: false });
    useBytecodeCache(edited, cache);
    expect(edited.render('./page', data)).toBe(new Eta({ views: dir, cache: false }).render('./page', data));
    expect(cache.count).toBe(3);
  });

  it('renderAsync compiles async functions through the cache too', async () => {
    const dir = views();
    const expected = await new Eta({ views: dir, cache: false }).renderAsync('./page', data);
    const cache = new MemoryBytecodeCache();
    for (let round = 0; round < 2; round++) {
      const eta = new Eta({ views: dir, cache: false });
      useBytecodeCache(eta, cache);
      expect(await eta.renderAsync('./page', data)).toBe(expected);
    }
  });
});

describe('working-set bundles (option bundle)', () => {
  const views = () => viewsWith(['a', 'b', 'c']);
  const pages = ['./a', './b', './c'];
  const plain = (dir: string) => pages.map((page) => new Eta({ views: dir, cache: true }).render(page, data));

  /** One "process": a fresh Eta over the shared cache, rendering every page, then flush(). */
  async function processRun(cache: MemoryBytecodeCache, dir: string, readFile?: (path: string) => string) {
    const eta = new Eta({ views: dir, cache: true });
    if (readFile) eta.readFile = readFile;
    const handle = useBytecodeCache(eta, cache, { bundle: 'site' });
    const output = pages.map((page) => eta.render(page, data));
    const writes = cache.stats.writes;
    await handle.flush();
    return { output, stats: { ...handle.stats }, bundleWrites: cache.stats.writes - writes, handle, eta };
  }

  it('the first process stores its templates as one entry, the next adds V8 code, later ones read one entry', async () => {
    const dir = views();
    const cache = new MemoryBytecodeCache();
    const first = await processRun(cache, dir);
    expect(first.output).toEqual(plain(dir));
    expect(first.stats.compiled).toBe(5);
    expect(first.bundleWrites).toBe(1);
    const second = await processRun(cache, dir);
    expect(second.output).toEqual(plain(dir));
    expect(second.stats).toMatchObject({ compiled: 0, cache: 5, cacheV8: 0 });
    expect(second.bundleWrites).toBe(1);
    const third = await processRun(cache, dir);
    expect(third.output).toEqual(plain(dir));
    expect(third.stats).toMatchObject({ compiled: 0, cache: 0, cacheV8: 5 });
    expect(third.bundleWrites).toBe(0);
  });

  it('serves the unchanged templates after an edit, compiles the edited one, and writes a new bundle', async () => {
    const dir = views();
    const cache = new MemoryBytecodeCache();
    await processRun(cache, dir);
    await processRun(cache, dir);
    writeFileSync(join(dir, 'part.eta'), '<p>edited <%= it.items.length %></p>');
    const edited = await processRun(cache, dir);
    expect(edited.output).toEqual(plain(dir));
    expect(edited.output[0]).toContain('edited');
    expect(edited.stats).toMatchObject({ compiled: 1, cacheV8: 4 });
    expect(edited.bundleWrites).toBe(1);
    const next = await processRun(cache, dir);
    expect(next.stats).toMatchObject({ compiled: 0, cache: 5 });
  });

  it('vouches for a file by its stamp only when Eta read it with its own readFile', async () => {
    const dir = views();
    await new Promise((resolve) => setTimeout(resolve, 2_100)); // stamps of fresh files are not recorded
    const cache = new MemoryBytecodeCache();
    await processRun(cache, dir);
    await processRun(cache, dir);
    const hashed: string[] = [];
    const checksumOf = cache.getSourceChecksum.bind(cache);
    cache.getSourceChecksum = (source: string) => {
      hashed.push(source);
      return checksumOf(source);
    };
    const third = await processRun(cache, dir);
    expect(third.stats).toMatchObject({ compiled: 0, cacheV8: 5 });
    expect(hashed).toEqual(['bcc:eta-bundle:2']);
    // A readFile of the app's own (it could transform the text): every source is compared by checksum.
    const own = await processRun(cache, dir, (path) => readFileSync(path, 'utf8'));
    expect(own.output).toEqual(plain(dir));
    expect(own.stats).toMatchObject({ compiled: 0, cacheV8: 5 });
    expect(hashed.length).toBe(1 + 1 + 5);
    // Text that is not what Eta's readFile just read from that path is compared by checksum too.
    const direct = new Eta({ views: dir, cache: true });
    useBytecodeCache(direct, cache, { bundle: 'site' });
    const path = join(dir, 'part.eta');
    direct.readFile!(path);
    const other = direct.compile('<b>other <%= it.name %></b>', { filepath: path });
    expect(other.call(direct, data, {})).toBe('<b>other Ada &lt;3</b>');
    // dispose() puts Eta's own readFile back.
    const eta = new Eta({ views: dir });
    const builtIn = eta.readFile;
    useBytecodeCache(eta, cache, { bundle: 'site' }).dispose();
    expect(eta.readFile).toBe(builtIn);
  });

  it('holds only file templates compiled for synchronous renders', async () => {
    const dir = views();
    const cache = new MemoryBytecodeCache();
    const eta = new Eta({ views: dir, cache: true });
    const handle = useBytecodeCache(eta, cache, { bundle: 'site' });
    // An async page (Eta renders its layout and include synchronously) and a string.
    expect(await eta.renderAsync('./a', data)).toBe(await new Eta({ views: dir }).renderAsync('./a', data));
    expect(eta.renderString('<%= it.name %>', data)).toBe('Ada &lt;3');
    await handle.flush();
    const next = new Eta({ views: dir, cache: true });
    const nextHandle = useBytecodeCache(next, cache, { bundle: 'site' });
    expect(next.render('./a', data)).toBe(new Eta({ views: dir }).render('./a', data));
    // What Eta compiled for the async render (the page, at least) is not in the bundle: compiled
    // now; what it compiled synchronously for it comes from the bundle.
    const { compiled, cache: fromBundle, cacheV8 } = nextHandle.stats;
    expect(compiled).toBeGreaterThanOrEqual(1);
    expect(fromBundle).toBeGreaterThanOrEqual(1);
    expect(compiled + fromBundle + cacheV8).toBe(3);
  });

  it('needs a sensible name', () => {
    expect(() => useBytecodeCache(new Eta(), new MemoryBytecodeCache(), { bundle: '' })).toThrow(
      BccConfigError,
    );
  });
});
