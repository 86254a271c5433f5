import { describe, expect, it } from 'vitest';
import { loadTemplate, loadTemplateSync, type TemplateEnvironment } from '../src/compile.js';
import { MemoryBytecodeCache } from '../src/memory.js';
import { instantiate } from '../src/runtime.js';

const template = (body: string) => `(function () { ${body} })`;

describe('instantiate', () => {
  it('returns the completion value of the JavaScript', () => {
    const r = instantiate<() => number>({ js: template('return 6 * 7;') });
    expect(r.value()).toBe(42);
    expect(r.codeCache).toBe('absent');
    expect(r.needsCodeCache).toBe(true);
  });
  it('uses a code cache made for the same JavaScript', () => {
    const js = template('return [1, 2, 3].map((x) => x * 2);');
    const first = instantiate<() => number[]>({ js });
    first.value();
    const v8 = first.createCodeCache();
    expect(v8.length).toBeGreaterThan(0);
    const second = instantiate<() => number[]>({ js, v8 });
    expect(second.codeCache).toBe('accepted');
    expect(second.needsCodeCache).toBe(false);
    expect(second.value()).toEqual([2, 4, 6]);
  });
  it('reports a code cache V8 rejects, and still runs the JavaScript', () => {
    const js = template('return "ok";');
    const junk = new Uint8Array(200).fill(7);
    const r = instantiate<() => string>({ js, v8: junk });
    expect(r.codeCache).toBe('rejected');
    expect(r.needsCodeCache).toBe(true);
    expect(r.value()).toBe('ok');
  });
  it('a code cache taken after the first call holds the lazily compiled inner functions', () => {
    const body = Array.from({ length: 50 }, (_, i) => `function f${i}(x) { return x + ${i}; }`).join('\n');
    const js = template(
      `${body}\n return () => ${Array.from({ length: 50 }, (_, i) => `f${i}(1)`).join(' + ')};`,
    );
    const r = instantiate<() => () => number>({ js });
    const early = r.createCodeCache().length;
    r.value()();
    expect(r.createCodeCache().length).toBeGreaterThan(early);
  });
});

describe('loadTemplate (compile-through)', () => {
  const environment = (counter: { n: number }): TemplateEnvironment => ({
    fingerprint: 'test',
    compile: async (source) => {
      counter.n++;
      await new Promise((r) => setTimeout(r, 5));
      return template(`return (name) => ${JSON.stringify(source)}.replace('{{name}}', name);`);
    },
  });

  it('compiles on a miss, stores, then serves from the cache with the V8 code cache', async () => {
    const cache = new MemoryBytecodeCache();
    const counter = { n: 0 };
    const env = environment(counter);
    const first = await loadTemplate<() => (n: string) => string>(cache, env, {
      name: 'a',
      source: 'Hi {{name}}',
    });
    expect(first.from).toBe('compiled');
    expect(first.value()('Ada')).toBe('Hi Ada');
    await first.persistCodeCache();
    const second = await loadTemplate<() => (n: string) => string>(cache, env, {
      name: 'a',
      source: 'Hi {{name}}',
    });
    expect(second.from).toBe('cache+v8');
    expect(second.codeCache).toBe('accepted');
    expect(second.value()('Bob')).toBe('Hi Bob');
    expect(counter.n).toBe(1);
    const edited = await loadTemplate(cache, env, { name: 'a', source: 'Bye {{name}}' });
    expect(edited.from).toBe('compiled');
    expect(counter.n).toBe(2);
  });

  it('compiles once for concurrent loads of the same template', async () => {
    const cache = new MemoryBytecodeCache();
    const counter = { n: 0 };
    const env = environment(counter);
    const all = await Promise.all(
      Array.from({ length: 10 }, () => loadTemplate(cache, env, { name: 'a', source: 'x' })),
    );
    expect(counter.n).toBe(1);
    expect(new Set(all).size).toBe(1);
    expect(cache.stats.writes).toBe(1);
  });

  it('stores nothing for a template that does not compile', async () => {
    const cache = new MemoryBytecodeCache();
    const failing: TemplateEnvironment = {
      fingerprint: 'f',
      compile: () => {
        throw new SyntaxError('unexpected end of template');
      },
    };
    await expect(loadTemplate(cache, failing, { name: 'bad', source: '{%' })).rejects.toThrow(
      'unexpected end of template',
    );
    expect(cache.count).toBe(0);
  });

  it('has a synchronous form for synchronous caches', () => {
    const cache = new MemoryBytecodeCache();
    const env: TemplateEnvironment = { fingerprint: 's', compile: () => template('return 1;') };
    const a = loadTemplateSync<() => number>(cache, env, { name: 'a', source: 's' });
    expect(a.from).toBe('compiled');
    expect(a.value()).toBe(1);
    void a.persistCodeCache();
    const b = loadTemplateSync(cache, env, { name: 'a', source: 's' });
    expect(b.from).toBe('cache+v8');
  });
});
