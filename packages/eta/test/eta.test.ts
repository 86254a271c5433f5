// @bcc/eta against plain Eta: the engine conformance suite, and templates read from files.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryBytecodeCache } from '@bcc/core';
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

describe('templates read from files', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const views = () => {
    const dir = mkdtempSync(join(tmpdir(), 'bcc-eta-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'layout.eta'), '<main><%~ it.body %></main>');
    writeFileSync(
      join(dir, 'page.eta'),
      '<% layout("./layout") %><h1><%= it.name %></h1><%~ include("./part", it) %>',
    );
    writeFileSync(join(dir, 'part.eta'), '<p><%= it.items.length %> items</p>');
    return dir;
  };

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
