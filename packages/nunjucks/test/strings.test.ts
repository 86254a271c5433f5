// String templates (`strings: true`): renderString and new Template(src, env) through the cache,
// compared with plain Nunjucks on output and errors.
import { MemoryBytecodeCache } from '@bcc/core';
import nunjucks from 'nunjucks';
import { describe, expect, it } from 'vitest';
import { useBytecodeCache } from '../src/index.js';
import { AsyncOnlyCache } from './helpers.js';

const strings = [
  'Hello {{ name | upper }}!',
  '{% macro li(x) %}<li>{{ x }}</li>{% endmacro %}<ul>{% for i in items %}{{ li(i) }}{% endfor %}</ul>',
  '{% set n = items | length %}{{ n }} items{% if html %}: {{ html }}{% endif %}',
  '{{ html | safe }} and {{ html }}',
];
const context = { name: 'ada', items: ['a', '<b>', 'c'], html: '<i>x</i>' };

function environment() {
  return new nunjucks.Environment(null, { autoescape: true });
}

const outcome = (fn: () => string) => {
  try {
    return `ok ${fn()}`;
  } catch (error) {
    return `${(error as Error).name}: ${(error as Error).message}`;
  }
};

describe('strings: true', () => {
  it('renderString and new Template(src, env) render as plain Nunjucks, from the cache once stored', () => {
    const cache = new MemoryBytecodeCache();
    const plain = environment();
    const first = environment();
    const firstHandle = useBytecodeCache(first, cache, { strings: true });
    for (const src of strings) {
      expect(first.renderString(src, context)).toBe(plain.renderString(src, context));
      expect(new nunjucks.Template(src, first).render(context)).toBe(plain.renderString(src, context));
    }
    expect(firstHandle.stats.compiled).toBe(strings.length);
    expect(cache.count).toBe(strings.length);

    // Another process in effect: every string comes from the cache, with V8's code cache.
    const second = environment();
    const handle = useBytecodeCache(second, cache, { strings: true });
    for (const src of strings)
      expect(second.renderString(src, context)).toBe(plain.renderString(src, context));
    expect(handle.stats.compiled).toBe(0);
    expect(handle.stats.cacheV8).toBe(strings.length);
  });

  it('reports a broken string exactly as Nunjucks does, and stores nothing for it', () => {
    const cache = new MemoryBytecodeCache();
    const env = environment();
    useBytecodeCache(env, cache, { strings: true });
    for (const src of ['{{ unclosed', '{% if %}x{% endif %}', '{{ foo\\ }}']) {
      expect(outcome(() => env.renderString(src, {}))).toBe(
        outcome(() => environment().renderString(src, {})),
      );
    }
    expect(cache.count).toBe(0);
  });

  it('is off by default, for other environments, and after dispose()', () => {
    const cache = new MemoryBytecodeCache();
    const env = environment();
    const handle = useBytecodeCache(env, cache);
    env.renderString(strings[0]!, context);
    expect(cache.count).toBe(0);
    const opted = environment();
    const optedHandle = useBytecodeCache(opted, cache, { strings: true });
    environment().renderString(strings[1]!, context); // an environment without bcc
    expect(cache.count).toBe(0);
    optedHandle.dispose();
    opted.renderString(strings[2]!, context);
    expect(cache.count).toBe(0);
    handle.dispose();
  });

  it('with an asynchronous store: Nunjucks compiles the first time, the background load serves the next', async () => {
    const cache = new AsyncOnlyCache();
    const env = environment();
    const handle = useBytecodeCache(env, cache, { strings: true });
    const plain = environment().renderString(strings[1]!, context);
    expect(env.renderString(strings[1]!, context)).toBe(plain);
    expect(handle.stats.compiled + handle.stats.cache + handle.stats.cacheV8).toBe(0);
    await handle.flush();
    expect(env.renderString(strings[1]!, context)).toBe(plain);
    expect(handle.stats.compiled + handle.stats.cache + handle.stats.cacheV8).toBe(1);
    expect(cache.count).toBe(1);
  });

  it('follows the environment: an async filter added later changes the code', async () => {
    const cache = new MemoryBytecodeCache();
    const env = environment();
    useBytecodeCache(env, cache, { strings: true });
    const src = '{{ name | shout }}';
    env.addFilter('shout', (v: string) => `${v}!`);
    expect(env.renderString(src, context)).toBe('ada!');
    env.addFilter('shout', (v: string, cb: (e: null, r: string) => void) => cb(null, `${v}?`), true);
    const out = await new Promise<string>((resolve, reject) =>
      env.renderString(src, context, (error, result) => (error ? reject(error) : resolve(String(result)))),
    );
    expect(out).toBe('ada?');
  });
});
