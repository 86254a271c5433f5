import { describe, expect, it } from 'vitest';
import { EngineSession, fingerprintText, inertEngineHandle, SyncEngineLoader } from '../src/engine.js';
import { MemoryBytecodeCache } from '../src/memory.js';

describe('fingerprintText', () => {
  it('does not depend on key order', () => {
    expect(fingerprintText({ a: 1, b: { c: true, d: 'x' } })).toBe(
      fingerprintText({ b: { d: 'x', c: true }, a: 1 }),
    );
  });

  it('tells apart values that shape code differently', () => {
    const texts = [
      { strict: true },
      { strict: false },
      { strict: 'true' },
      { knownHelpers: { eq: true } },
      { knownHelpers: { eq: false } },
      { tags: ['<%', '%>'] },
      { tags: ['{{', '}}'] },
      { n: 1n },
      { n: 2n },
      { n: 1 },
    ].map((options) => fingerprintText(options));
    expect(new Set(texts).size).toBe(texts.length);
  });

  it('names functions by their source', () => {
    const a = { plugin: (s: string) => s.trim() };
    const b = { plugin: (s: string) => s.trim() };
    const c = { plugin: (s: string) => s.toUpperCase() };
    expect(fingerprintText(a)).toBe(fingerprintText(b));
    expect(fingerprintText(a)).not.toBe(fingerprintText(c));
  });

  it('never throws: cycles, deep nesting, bigints, symbols and getters that throw', () => {
    const cyclic: Record<string, unknown> = { name: 'x' };
    cyclic.self = cyclic;
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 100; i++) deep = { next: deep };
    const hostile = Object.defineProperty({}, 'boom', {
      enumerable: true,
      get() {
        throw new Error('boom');
      },
    });
    for (const value of [cyclic, deep, { big: 10n ** 30n }, { sym: Symbol('s') }, hostile, undefined]) {
      expect(typeof fingerprintText(value)).toBe('string');
    }
    expect(fingerprintText(hostile)).toContain('boom');
  });
});

describe('SyncEngineLoader.useNow', () => {
  const environment = (compile: (source: string) => string) => ({ fingerprint: 'use-now', compile });

  it('loads and counts a template, then counts a hit from the store', () => {
    const cache = new MemoryBytecodeCache();
    const session = new EngineSession();
    const loader = new SyncEngineLoader<() => number>(session, cache, { engineName: 'Test', warn: false });
    const env = environment(() => '(function () { return 7; })');
    const first = loader.useNow(env, { name: 'a', filename: null, source: 'seven' });
    expect(first?.loaded.value()).toBe(7);
    expect(first?.ready.from).toBe('compiled');
    expect(session.stats.compiled).toBe(1);
    const again = new SyncEngineLoader<() => number>(new EngineSession(), cache, {
      engineName: 'Test',
      warn: false,
    });
    expect(again.useNow(env, { name: 'a', filename: null, source: 'seven' })?.ready.from).not.toBe(
      'compiled',
    );
  });

  it('leaves code V8 refuses to the engine (null), and counts and throws a compile error', () => {
    const session = new EngineSession();
    const loader = new SyncEngineLoader(session, new MemoryBytecodeCache(), {
      engineName: 'Test',
      warn: false,
    });
    expect(
      loader.useNow(
        environment(() => '(function ( {'),
        { name: 'b', filename: null, source: 'x' },
      ),
    ).toBeNull();
    expect(session.stats.compileErrors).toBe(0);
    const broken = environment(() => {
      throw new Error('unexpected end of template');
    });
    expect(() => loader.useNow(broken, { name: 'c', filename: null, source: 'y' })).toThrow(
      'unexpected end of template',
    );
    expect(session.stats.compileErrors).toBe(1);
  });
});

describe('inertEngineHandle', () => {
  it('installs nothing, counts nothing, and reports a preload as neither hits nor compiles', async () => {
    const cache = new MemoryBytecodeCache();
    const session = new EngineSession();
    const handle = inertEngineHandle(cache, session);
    expect(handle).toMatchObject({ cache, mode: 'sync', stats: session.stats });
    expect(await handle.preload(['a', 'b', 'c'])).toEqual({ total: 3, hits: 0, compiled: 0, failed: [] });
    await handle.flush();
    handle.dispose();
    expect(Object.values(session.stats).every((count) => count === 0)).toBe(true);
  });
});
