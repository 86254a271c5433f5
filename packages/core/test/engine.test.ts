import { describe, expect, it } from 'vitest';
import { fingerprintText } from '../src/engine.js';

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
