// @bcc/handlebars against plain Handlebars: the same output, the same errors, cold and warm,
// in this process and in fresh ones.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBytecodeCacheFromEnv, MemoryBytecodeCache, TieredBytecodeCache } from '@bcc/core';
import { AsyncOnlyMemoryCache } from '@bcc/testkit';
import Handlebars from 'handlebars';
import { describe, expect, it } from 'vitest';
import { useBytecodeCache } from '../src/index.js';
import { cases, context, setUp } from './cases.mjs';

/** What rendering `source` does: its output, or the error's name and message. */
function outcome(hb: typeof Handlebars, source: string, options: object): string {
  try {
    return `ok ${hb.compile(source, options)(context)}`;
  } catch (error) {
    return `error ${(error as Error).name}: ${(error as Error).message}`;
  }
}

function instance() {
  const hb = Handlebars.create();
  setUp(hb);
  return hb;
}

describe('useBytecodeCache(handlebars, cache)', () => {
  it.each(cases)('%s: same as plain Handlebars, cold and warm', (_label, source, options) => {
    const expected = outcome(instance(), source, options);
    const cache = new MemoryBytecodeCache();
    const cold = instance();
    useBytecodeCache(cold, cache);
    expect(outcome(cold, source, options)).toBe(expected);
    const warm = instance();
    const handle = useBytecodeCache(warm, cache);
    expect(outcome(warm, source, options)).toBe(expected);
    if (expected.startsWith('ok')) expect(handle.stats.compiled).toBe(0);
  });

  it('caches partials registered as strings, and serves everything from the cache warm', () => {
    const cache = new MemoryBytecodeCache();
    const source = cases[1]![1];
    const cold = instance();
    const coldHandle = useBytecodeCache(cold, cache);
    cold.compile(source)(context);
    // The page and its `item` partial.
    expect(coldHandle.stats.compiled).toBe(2);
    const warm = instance();
    const handle = useBytecodeCache(warm, cache);
    warm.compile(source)(context);
    expect(handle.stats).toMatchObject({ compiled: 0, cacheV8: 2 });
  });

  it('keeps differently configured compiles apart', () => {
    const cache = new MemoryBytecodeCache();
    const hb = instance();
    useBytecodeCache(hb, cache);
    const source = '{{html}}';
    expect(hb.compile(source)(context)).toBe('&lt;i&gt;x&lt;/i&gt;');
    expect(hb.compile(source, { noEscape: true })(context)).toBe('<i>x</i>');
    expect(cache.count).toBe(2);
  });

  it('recompiles an edited template and stores nothing that does not compile', () => {
    const cache = new MemoryBytecodeCache();
    const hb = instance();
    const handle = useBytecodeCache(hb, cache);
    expect(hb.compile('v1 {{title}}')(context)).toBe('v1 Orders &lt;&amp;&gt;');
    expect(hb.compile('v2 {{title}}')(context)).toBe('v2 Orders &lt;&amp;&gt;');
    expect(() => hb.compile('{{#if}}')(context)).toThrow();
    expect(cache.count).toBe(2);
    expect(handle.stats.compileErrors).toBe(1);
  });

  it('compiles at the first call, like Handlebars: a helper registered after compile() works', () => {
    const sequence = (hb: typeof Handlebars) => {
      const template = hb.compile('{{late title}}', { knownHelpers: { late: true } });
      hb.registerHelper('late', (v: string) => `late:${v}`);
      return template(context);
    };
    const expected = sequence(instance());
    expect(expected).toBe('late:Orders &lt;&amp;&gt;');
    const hb = instance();
    useBytecodeCache(hb, new MemoryBytecodeCache());
    expect(sequence(hb)).toBe(expected);
  });

  it('dispose() restores compile; a second installation on one instance is refused', () => {
    const hb = instance();
    const original = hb.compile;
    const handle = useBytecodeCache(hb, new MemoryBytecodeCache());
    expect(() => useBytecodeCache(hb, new MemoryBytecodeCache())).toThrow(/already uses a bcc cache/);
    handle.dispose();
    expect(hb.compile).toBe(original);
  });

  it('with an asynchronous store: plain compile first (warned once), cache hits after preload()', async () => {
    const cache = new AsyncOnlyMemoryCache();
    const source = cases[0]![1];
    const expected = outcome(instance(), source, {});
    const hb = instance();
    const handle = useBytecodeCache(hb, cache, { onError: () => {} });
    expect(handle.mode).toBe('async');
    expect(outcome(hb, source, {})).toBe(expected);
    expect(handle.stats.uncached).toBe(1);
    await handle.flush();
    const next = instance();
    const nextHandle = useBytecodeCache(next, cache);
    const report = await nextHandle.preload([source]);
    expect(report).toMatchObject({ total: 1, hits: 1, compiled: 0 });
    expect(outcome(next, source, {})).toBe(expected);
    expect(nextHandle.stats.uncached).toBe(0);
  });

  it('a tiered cache with a synchronous first tier is synchronous only when every tier is', () => {
    const tiered = new TieredBytecodeCache([new MemoryBytecodeCache(), new AsyncOnlyMemoryCache()]);
    expect(useBytecodeCache(instance(), tiered).mode).toBe('async');
  });

  it('BCC_CACHE=none leaves Handlebars untouched', async () => {
    const hb = instance();
    const original = hb.compile;
    useBytecodeCache(hb, await createBytecodeCacheFromEnv({ env: { BCC_CACHE: 'none' } }));
    expect(hb.compile).toBe(original);
  });
});

describe('in fresh processes', () => {
  const child = fileURLToPath(new URL('./fixtures/render.mjs', import.meta.url));
  const run = (mode: string, directory: string) =>
    JSON.parse(execFileSync(process.execPath, [child, mode, directory], { encoding: 'utf8' })) as {
      outcomes: string[];
      stats: { compiled: number; cacheV8: number } | null;
    };

  it('renders every case as plain Handlebars, cold then warm from a filesystem cache', () => {
    const directory = mkdtempSync(join(tmpdir(), 'bcc-hbs-'));
    try {
      const plain = run('plain', directory);
      const cold = run('bcc', directory);
      const warm = run('bcc', directory);
      expect(cold.outcomes).toEqual(plain.outcomes);
      expect(warm.outcomes).toEqual(plain.outcomes);
      expect(cold.stats!.compiled).toBeGreaterThan(0);
      expect(warm.stats!.compiled).toBe(0);
      expect(warm.stats!.cacheV8).toBeGreaterThan(0);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
