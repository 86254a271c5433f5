import { type BytecodeCache, type EngineStats, MemoryBytecodeCache } from '@bcc/core';
import { AsyncOnlyMemoryCache } from './async-memory.js';
import type { TestApi } from './types.js';

/** What an engine integration's `useBytecodeCache` returns, as far as the suite needs it. */
export interface EngineHandle {
  readonly stats: EngineStats;
  flush(): Promise<void>;
  dispose(): void;
}

/**
 * An engine integration under test: how to make the engine, install bcc on it, and render a
 * template source with it. The suite compares every render through bcc with the same render on
 * a plain engine.
 */
export interface EngineTarget<Engine> {
  /** Shown in the test names. */
  name: string;
  /** A fresh engine (an environment, an instance), configured with `options` (a variant's, or none). */
  createEngine(options?: unknown): Engine;
  /** Installs bcc on the engine (the integration's `useBytecodeCache`). */
  install(engine: Engine, cache: BytecodeCache): EngineHandle;
  /**
   * Renders `source` with the engine: the output as `ok <output>`, or the error as
   * `error <name>: <message>`, exactly as the engine reports it.
   */
  render(engine: Engine, source: string): string | Promise<string>;
  /** The engine's members bcc may replace (methods, loaders), to check `dispose()` restores them. */
  snapshot(engine: Engine): unknown[];
  /** Templates that render. */
  samples: readonly string[];
  /** A template that fails to compile. */
  compileError: string;
  /** A template that compiles and fails while rendering. */
  renderError: string;
  /** Two versions of one template (the second an edit of the first). */
  edit: readonly [string, string];
  /**
   * Engine options that change the generated code, each with a template whose output shows it:
   * the same template rendered under each through one cache must match each plain render.
   */
  variants: readonly { name: string; options: unknown; source: string }[];
  /**
   * Renders every sample in a fresh process, plainly or through a filesystem cache in
   * `directory`, and returns the outcomes in order (see `render`).
   */
  inFreshProcess?(mode: 'plain' | 'bcc', directory: string): string[] | Promise<string[]>;
  /** Makes a scratch directory for `inFreshProcess` and removes it afterwards. */
  scratchDirectory?(): { path: string; remove(): void };
}

/**
 * The conformance suite of engine integrations (as `runConformanceSuite` is for stores): output
 * and errors identical to the plain engine cold and warm, in this process and in fresh ones;
 * an edited template recompiles; nothing that fails to compile is stored; every
 * code-changing option keeps entries apart; asynchronous stores work; `dispose()` restores the
 * engine.
 *
 * ```ts
 * runEngineSuite({ describe, it, expect }, {
 *   name: 'handlebars',
 *   createEngine: (options) => Handlebars.create(),
 *   install: (hb, cache) => useBytecodeCache(hb, cache),
 *   render: (hb, source) => …,
 *   …
 * });
 * ```
 */
export function runEngineSuite<Engine>(api: TestApi, target: EngineTarget<Engine>): void {
  const { describe, it, expect } = api;
  const plain = (source: string, options?: unknown) => target.render(target.createEngine(options), source);
  const through = async (cache: BytecodeCache, source: string, options?: unknown) => {
    const engine = target.createEngine(options);
    const handle = target.install(engine, cache);
    const outcome = await target.render(engine, source);
    await handle.flush();
    return { outcome, handle };
  };

  describe(`${target.name}: bcc engine conformance`, () => {
    it('renders every sample as the plain engine does, cold and warm', async () => {
      const cache = new MemoryBytecodeCache();
      for (const source of target.samples) {
        const expected = await plain(source);
        expect(expected.startsWith('ok ')).toBe(true);
        expect((await through(cache, source)).outcome).toBe(expected);
        const warm = await through(cache, source);
        expect(warm.outcome).toBe(expected);
        expect(warm.handle.stats.compiled).toBe(0);
        expect(warm.handle.stats.cache + warm.handle.stats.cacheV8).toBeGreaterThan(0);
      }
    });

    it('reports a compile error as the plain engine does, and stores nothing for it', async () => {
      const cache = new MemoryBytecodeCache();
      const expected = await plain(target.compileError);
      expect(expected.startsWith('error ')).toBe(true);
      expect((await through(cache, target.compileError)).outcome).toBe(expected);
      expect((await through(cache, target.compileError)).outcome).toBe(expected);
      expect(cache.stats.writes).toBe(0);
    });

    it('reports a render error as the plain engine does, cold and warm', async () => {
      const cache = new MemoryBytecodeCache();
      const expected = await plain(target.renderError);
      expect(expected.startsWith('error ')).toBe(true);
      expect((await through(cache, target.renderError)).outcome).toBe(expected);
      expect((await through(cache, target.renderError)).outcome).toBe(expected);
    });

    it('recompiles an edited template', async () => {
      const cache = new MemoryBytecodeCache();
      const [before, after] = target.edit;
      expect((await through(cache, before)).outcome).toBe(await plain(before));
      const edited = await through(cache, after);
      expect(edited.outcome).toBe(await plain(after));
      expect(edited.handle.stats.compiled).toBe(1);
    });

    it('keeps entries of differently configured engines apart (every code-changing option)', async () => {
      for (const variant of target.variants) {
        const cache = new MemoryBytecodeCache();
        const defaults = await plain(variant.source);
        const configured = await plain(variant.source, variant.options);
        // The variant must change the output, or it shows nothing about the fingerprint.
        expect({ variant: variant.name, differs: configured !== defaults }).toEqual({
          variant: variant.name,
          differs: true,
        });
        // The same template, first on a default engine, then on the variant, through one cache.
        expect({ variant: variant.name, outcome: (await through(cache, variant.source)).outcome }).toEqual({
          variant: variant.name,
          outcome: defaults,
        });
        expect({
          variant: variant.name,
          outcome: (await through(cache, variant.source, variant.options)).outcome,
        }).toEqual({ variant: variant.name, outcome: configured });
      }
    });

    it('renders as the plain engine does with an asynchronous store', async () => {
      const cache = new AsyncOnlyMemoryCache();
      for (const source of target.samples) {
        const expected = await plain(source);
        expect((await through(cache, source)).outcome).toBe(expected);
        expect((await through(cache, source)).outcome).toBe(expected);
      }
    });

    it('dispose() restores the engine', async () => {
      const engine = target.createEngine();
      const before = target.snapshot(engine);
      const handle = target.install(engine, new MemoryBytecodeCache());
      await target.render(engine, target.samples[0]!);
      handle.dispose();
      const after = target.snapshot(engine);
      expect(after.length).toBe(before.length);
      for (const [i, member] of before.entries()) expect(after[i]).toBe(member);
    });

    const inFreshProcess = target.inFreshProcess;
    const scratch = target.scratchDirectory;
    if (inFreshProcess && scratch) {
      it('renders every sample as the plain engine does in fresh processes, cold then warm', async () => {
        const directory = scratch();
        try {
          const expected = await inFreshProcess('plain', directory.path);
          expect(expected).toHaveLength(target.samples.length);
          expect(await inFreshProcess('bcc', directory.path)).toEqual(expected);
          expect(await inFreshProcess('bcc', directory.path)).toEqual(expected);
        } finally {
          directory.remove();
        }
      }, 60_000);
    }
  });
}
