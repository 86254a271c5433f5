// The engine suite itself: a tiny engine and an integration made right pass it; integrations
// made wrong in each way the suite checks for fail it.
import { runInThisContext } from 'node:vm';
import { type BytecodeCache, EngineSession, loadTemplateSync } from '@bcc/core';
import { expect, it } from 'vitest';
import { type EngineTarget, runEngineSuite, type TestApi } from '../src/index.js';

/** An engine: `Hello {name}` templates; `shout` upper-cases the text; `{!}` is a syntax error; `{boom}` throws. */
interface TinyEngine {
  shout: boolean;
  compile(source: string): (ctx: { name: string }) => string;
}

function tinyCompile(source: string, shout: boolean): string {
  if (source.includes('{!}')) throw new SyntaxError('tiny: unexpected {!}');
  const text = shout ? source.toUpperCase() : source;
  return `(function (ctx) { if (${source.includes('{boom}')}) throw new Error('tiny: boom'); return ${JSON.stringify(text)}.replace(/\\{NAME\\}|\\{name\\}/g, ctx.name); })`;
}

function createEngine(options?: unknown): TinyEngine {
  const shout = (options as { shout?: boolean } | undefined)?.shout ?? false;
  return { shout, compile: (source) => runInThisContext(tinyCompile(source, shout)) };
}

type Flaw = 'none' | 'ignores options' | 'keeps the patch' | 'stores broken code';

function install(flaw: Flaw) {
  return (engine: TinyEngine, cache: BytecodeCache) => {
    const original = engine.compile;
    const session = new EngineSession();
    engine.compile = (source) => {
      // An asynchronous store cannot answer a synchronous compile: the engine compiles as it would.
      if (typeof cache.loadBytecodeSync !== 'function') return original(source);
      const environment = {
        fingerprint: flaw === 'ignores options' ? 'tiny' : `tiny/${engine.shout}`,
        compile: (s: string) =>
          flaw === 'stores broken code' && s.includes('{!}')
            ? '(function () {})'
            : tinyCompile(s, engine.shout),
      };
      const loaded = loadTemplateSync<(ctx: { name: string }) => string>(cache, environment, {
        name: source,
        source,
      });
      session.countLoad({ from: loaded.from, codeCache: loaded.codeCache, persist: null });
      return loaded.value;
    };
    return {
      stats: session.stats,
      flush: () => session.flush(),
      dispose: () => {
        if (flaw !== 'keeps the patch') engine.compile = original;
      },
    };
  };
}

function target(flaw: Flaw): EngineTarget<TinyEngine> {
  return {
    name: `tiny (${flaw})`,
    createEngine,
    install: install(flaw),
    render: (engine, source) => {
      try {
        return `ok ${engine.compile(source)({ name: 'ada' })}`;
      } catch (error) {
        return `error ${(error as Error).name}: ${(error as Error).message}`;
      }
    },
    snapshot: (engine) => [engine.compile],
    samples: ['Hello {name}', 'Bye {name}.'],
    compileError: 'bad {!}',
    renderError: 'x {boom}',
    edit: ['v1 {name}', 'v2 {name}'],
    variants: [{ name: 'shout', options: { shout: true }, source: 'hi {name}' }],
  };
}

/** Runs the suite against `flaw` with a collecting runner; returns the names of failed tests. */
async function failing(flaw: Flaw): Promise<string[]> {
  const tests: { name: string; body: () => Promise<void> | void }[] = [];
  const api: TestApi = {
    describe: (_name, body) => body(),
    it: (name, body) => tests.push({ name, body }),
    expect,
  };
  runEngineSuite(api, target(flaw));
  const failed: string[] = [];
  for (const test of tests) {
    await Promise.resolve()
      .then(test.body)
      .catch(() => failed.push(test.name));
  }
  return failed;
}

it('passes an integration made right', async () => {
  expect(await failing('none')).toEqual([]);
});

it('fails an integration that ignores code-changing options', async () => {
  expect(await failing('ignores options')).toEqual([expect.stringMatching(/differently configured/)]);
});

it('fails an integration whose dispose() leaves the engine patched', async () => {
  expect(await failing('keeps the patch')).toEqual([expect.stringMatching(/dispose/)]);
});

it('fails an integration that stores code for a template that does not compile', async () => {
  expect(await failing('stores broken code')).toContain(
    'reports a compile error as the plain engine does, and stores nothing for it',
  );
});
