import { MemoryBytecodeCache } from '@bcc/core';
import nunjucks from 'nunjucks';
import { describe, expect, it } from 'vitest';
import {
  environmentFingerprint,
  fingerprintInputs,
  nunjucksVersion,
  useBytecodeCache,
} from '../src/index.js';
import { fixtures } from './helpers.js';

const bare = (opts: object = {}) =>
  new nunjucks.Environment(new nunjucks.FileSystemLoader(fixtures.templatesDir), opts);

describe('environment fingerprint', () => {
  it('names the Nunjucks version and is stable for equal configurations', () => {
    expect(environmentFingerprint(bare())).toBe(environmentFingerprint(bare()));
    expect(environmentFingerprint(bare())).toMatch(
      new RegExp(`^nunjucks@${nunjucksVersion.replace(/\./g, '\\.')}/`),
    );
    expect(environmentFingerprint(fixtures.createEnvironment())).toBe(
      environmentFingerprint(fixtures.createEnvironment()),
    );
  });

  it.each([
    ['autoescape', { autoescape: false }],
    ['throwOnUndefined', { throwOnUndefined: true }],
    ['trimBlocks', { trimBlocks: true }],
    ['lstripBlocks', { lstripBlocks: true }],
    ['custom tags', { tags: { variableStart: '<$', variableEnd: '$>' } }],
  ])('changes with %s', (_label, opts) => {
    expect(environmentFingerprint(bare(opts))).not.toBe(environmentFingerprint(bare()));
  });

  it('changes with async filters and extensions, also when added after useBytecodeCache', () => {
    const env = bare();
    const base = environmentFingerprint(env);
    env.addFilter('plain', (v: unknown) => v);
    expect(environmentFingerprint(env)).toBe(base); // a sync filter is looked up at render time
    env.addFilter('slow', (v: unknown, cb: (e: null, r: unknown) => void) => cb(null, v), true);
    const withAsync = environmentFingerprint(env);
    expect(withAsync).not.toBe(base);
    env.addExtension('A', { tags: ['a'], parse: () => null } as never);
    const withExtension = environmentFingerprint(env);
    expect(withExtension).not.toBe(withAsync);
    // Same tags, another parser: other generated code.
    const other = bare();
    other.addFilter('slow', (v: unknown, cb: (e: null, r: unknown) => void) => cb(null, v), true);
    other.addExtension('A', { tags: ['a'], parse: () => undefined } as never);
    expect(environmentFingerprint(other)).not.toBe(withExtension);
    expect(fingerprintInputs(env).extensions).toHaveLength(1);
  });

  it('follows installJinjaCompat, which patches the compiler for the whole process', () => {
    const before = environmentFingerprint(bare());
    const uninstall = (nunjucks as unknown as { installJinjaCompat(): () => void }).installJinjaCompat();
    try {
      expect(environmentFingerprint(bare())).not.toBe(before);
    } finally {
      uninstall();
    }
    // uninstall() leaves an added compileSlice behind; the fingerprint stays conservative.
    expect(environmentFingerprint(bare())).toMatch(/^nunjucks@/);
  });

  it('keeps two differently configured environments apart in one cache', () => {
    const cache = new MemoryBytecodeCache();
    const trimmed = fixtures.createEnvironment({ trimBlocks: true, lstripBlocks: true });
    const untrimmed = fixtures.createEnvironment();
    const trimmedHandle = useBytecodeCache(trimmed, cache);
    const untrimmedHandle = useBytecodeCache(untrimmed, cache);
    const expectedTrimmed = fixtures
      .createEnvironment({ trimBlocks: true, lstripBlocks: true })
      .render('pages/list.njk', fixtures.context);
    const expectedUntrimmed = fixtures.createEnvironment().render('pages/list.njk', fixtures.context);
    expect(expectedTrimmed).not.toBe(expectedUntrimmed);

    expect(trimmed.render('pages/list.njk', fixtures.context)).toBe(expectedTrimmed);
    expect(untrimmed.render('pages/list.njk', fixtures.context)).toBe(expectedUntrimmed);
    // Each compiled its own entries: nothing was shared.
    expect(untrimmedHandle.stats.compiled).toBe(trimmedHandle.stats.compiled);
    expect(untrimmedHandle.stats.cache + untrimmedHandle.stats.cacheV8).toBe(0);
    expect(cache.count).toBe(2 * trimmedHandle.stats.compiled);
  });
});
