import { MemoryBytecodeCache } from '@bcc/core';
import { describe, expect, it } from 'vitest';
import { listTemplates, useBytecodeCache, type WarmProgress, warmBytecodeCache } from '../src/index.js';
import { AsyncOnlyCache, fixtures, renderAsync } from './helpers.js';

describe('warm-up', () => {
  it('lists every template under a directory, sorted, with / separators', () => {
    const names = listTemplates(fixtures.templatesDir, ['.njk']);
    expect(names).toContain('pages/home.njk');
    expect(names).toContain('partials/nav.njk');
    expect(names).toEqual([...names].sort());
    expect(names).toHaveLength(14);
  });

  it("compiles and stores every template of the environment's loaders, reporting progress and failures", async () => {
    const cache = new AsyncOnlyCache();
    const env = fixtures.createEnvironment();
    const progress: WarmProgress[] = [];
    const report = await warmBytecodeCache(env, cache, { onProgress: (p) => progress.push(p) });
    expect(report.total).toBe(14);
    expect(report.compiled).toBe(13);
    expect(report.failed.map((f) => f.name)).toEqual(['broken/syntax.njk']);
    expect(report.failed[0]!.error.message).toMatch(/expected variable end/);
    expect(progress).toHaveLength(14);
    expect(progress.at(-1)!.done).toBe(14);
    expect(new Set(progress.map((p) => p.status))).toEqual(new Set(['compiled', 'failed']));
    // Entries were looked up in one batch.
    expect(cache.loadManyCalls).toBe(1);

    // A second warm-up finds everything valid and writes nothing.
    const writes = cache.stats.writes;
    const again = await warmBytecodeCache(env, cache, { extensions: ['.njk'] });
    expect(again).toMatchObject({ total: 14, hits: 13, compiled: 0 });
    expect(cache.stats.writes).toBe(writes);
  });

  it('fills the cache so that the first render compiles nothing, and the first render adds the V8 code cache', async () => {
    const cache = new AsyncOnlyCache();
    const warmEnv = fixtures.createEnvironment();
    const handle0 = useBytecodeCache(warmEnv, cache);
    await handle0.warm({ names: ['pages/home.njk', 'layout.njk', 'macros.njk', 'partials/nav.njk'] });
    // An environment rooted at partials/ knows footer and legal by other names; same files, same entries.
    const partials = fixtures.createEnvironment({ dir: `${fixtures.templatesDir}/partials` });
    expect(
      await warmBytecodeCache(partials, cache, { dirs: `${fixtures.templatesDir}/partials` }),
    ).toMatchObject({
      hits: 1,
      compiled: 3,
    });

    const env = fixtures.createEnvironment();
    const handle = useBytecodeCache(env, cache);
    const html = await renderAsync(env, 'pages/home.njk');
    expect(html).toBe(await renderAsync(fixtures.createEnvironment(), 'pages/home.njk'));
    await handle.flush();
    expect(handle.stats).toMatchObject({ compiled: 0, cache: 7, cacheV8: 0, codeCachesStored: 7 });

    const next = fixtures.createEnvironment();
    const nextHandle = useBytecodeCache(next, cache);
    await renderAsync(next, 'pages/home.njk');
    expect(nextHandle.stats).toMatchObject({ compiled: 0, cache: 0, cacheV8: 7 });
  });

  it('reports templates no loader can find', async () => {
    const report = await warmBytecodeCache(fixtures.createEnvironment(), new MemoryBytecodeCache(), {
      names: ['pages/home.njk', 'nope.njk'],
    });
    expect(report).toMatchObject({ total: 2, compiled: 1, missing: ['nope.njk'] });
  });
});
