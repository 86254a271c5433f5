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

  describe('extensions with state', () => {
    // The same class, tags and parser; only the instance's options differ, and with them the
    // code the parser generates (here: the text a custom tag emits).
    class Banner {
      tags = ['banner'];
      constructor(readonly options: { text: string }) {}
      // Nunjucks' parser and node classes, as much of them as this parser uses.
      parse(
        parser: {
          nextToken(): { value: string; lineno: number; colno: number };
          advanceAfterBlockEnd(v: string): void;
        },
        nodes: {
          Output: new (...args: unknown[]) => unknown;
          TemplateData: new (...args: unknown[]) => unknown;
        },
      ) {
        const token = parser.nextToken();
        parser.advanceAfterBlockEnd(token.value);
        return new nodes.Output(token.lineno, token.colno, [
          new nodes.TemplateData(0, 0, (this as Banner).options.text),
        ]);
      }
    }

    it('two instances with different options give different fingerprints, and render their own text', () => {
      const a = bare();
      const b = bare();
      a.addExtension('Banner', new Banner({ text: 'tenant A' }) as never);
      b.addExtension('Banner', new Banner({ text: 'tenant B' }) as never);
      expect(environmentFingerprint(a)).not.toBe(environmentFingerprint(b));
      const c = bare();
      c.addExtension('Banner', new Banner({ text: 'tenant A' }) as never);
      expect(environmentFingerprint(c)).toBe(environmentFingerprint(a));
    });

    it('an extension can declare its identity with cacheKey, which replaces the guess from its properties', () => {
      const make = (key: string, created: number) =>
        Object.assign(new Banner({ text: 'x' }), { created, cacheKey: () => key }) as never;
      const a = bare();
      const b = bare();
      a.addExtension('Banner', make('v1', 1));
      b.addExtension('Banner', make('v1', 2)); // a per-process value: ignored, the author said v1
      expect(environmentFingerprint(a)).toBe(environmentFingerprint(b));
      const c = bare();
      c.addExtension('Banner', make('v2', 1));
      expect(environmentFingerprint(c)).not.toBe(environmentFingerprint(a));
    });

    it('warns once when a per-instance parse() may hide state in a closure', async () => {
      const warnings: Error[] = [];
      const listen = (warning: Error) => warnings.push(warning);
      process.on('warning', listen);
      try {
        for (const text of ['one', 'two']) {
          const env = bare();
          env.addExtension('ClosureTag', { tags: ['closure'], parse: () => text } as never);
          environmentFingerprint(env);
        }
        await new Promise((resolve) => setImmediate(resolve));
        const ours = warnings.filter(
          (w) =>
            (w as { code?: string }).code === 'BCC_EXTENSION_IDENTITY' && w.message.includes('ClosureTag'),
        );
        expect(ours).toHaveLength(1);
        expect(ours[0]!.message).toMatch(/ClosureTag.*cacheKey/);
      } finally {
        process.off('warning', listen);
      }
    });
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
