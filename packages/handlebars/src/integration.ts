import {
  assertInstallable,
  BccConfigError,
  type BytecodeCache,
  type EngineCacheHandle,
  type EngineIntegrationOptions,
  EngineSession,
  type EngineTemplate,
  inertEngineHandle,
  isDisabledCache,
  type PreloadReport,
  SyncEngineLoader,
} from '@bcc/core';
import { effectiveOptions, HandlebarsTemplateEnvironment } from './environment.js';
import {
  type CompileOptions,
  type HandlebarsInstance,
  isHandlebars,
  type TemplateDelegate,
} from './handlebars.js';

/** Options of {@link useBytecodeCache}: `codeCache` and `onError`, as every engine integration takes. */
export type UseBytecodeCacheOptions = EngineIntegrationOptions;

/** What a warm-up or preload did. */
export type HandlebarsWarmReport = PreloadReport<{ source: string; error: Error }>;

/** What {@link useBytecodeCache} returns. */
export interface HandlebarsBytecodeCache extends EngineCacheHandle {
  /**
   * Loads these template sources through the cache (compiling and storing what is missing) and
   * keeps them ready in this process: with an asynchronous store, what `compile()` serves from
   * the cache; with any store, the load moved out of the first request.
   */
  preload(sources: readonly string[], compileOptions?: CompileOptions): Promise<HandlebarsWarmReport>;
  /** Compiles and stores these sources (a deploy step); the same as {@link preload}. */
  warm(sources: readonly string[], compileOptions?: CompileOptions): Promise<HandlebarsWarmReport>;
}

const installed = new WeakMap<object, HandlebarsBytecodeCache>();

/**
 * Makes a Handlebars instance (`Handlebars.create()`, or the module itself) compile through a
 * bcc cache: after it, `handlebars.compile(source, options)` and partials registered as
 * strings load the template's compiled code (and V8's code cache) from the cache, and compile
 * and store it only when it is missing.
 *
 * ```js
 * import Handlebars from 'handlebars';
 * import { FileSystemBytecodeCache } from '@bcc/fs';
 * import { useBytecodeCache } from '@bcc/handlebars';
 *
 * const hb = Handlebars.create();
 * useBytecodeCache(hb, new FileSystemBytecodeCache());
 * hb.compile('Hello {{name}}')({ name: 'Ada' });
 * ```
 *
 * Like Handlebars, bcc compiles a template at its first call, so helpers and partials
 * registered before then are used as usual. Entries are keyed by the template's source and the
 * compile options (and the Handlebars version), so two differently configured `compile` calls
 * never share code. With an asynchronous store (Redis, memcached, S3), `compile` cannot wait:
 * templates loaded by `preload()` come from the cache; others are compiled by Handlebars
 * itself, as without bcc, while bcc loads them into the store in the background (`stats.uncached`,
 * one `BCC_SYNC_RENDER_UNCACHED` warning).
 */
export function useBytecodeCache(
  handlebars: unknown,
  cache: BytecodeCache,
  options: UseBytecodeCacheOptions = {},
): HandlebarsBytecodeCache {
  if (!isHandlebars(handlebars)) {
    throw new BccConfigError(
      'useBytecodeCache needs a Handlebars instance (Handlebars.create(), or the handlebars module) as its first argument',
    );
  }
  const hb = handlebars;
  const session = new EngineSession(options.onError);
  if (isDisabledCache(cache)) return inertHandle(cache, session);
  assertInstallable(cache, hb, installed, 'this Handlebars instance');
  const loader = new SyncEngineLoader<unknown>(session, cache, {
    engineName: 'Handlebars',
    warn: !options.onError,
  });
  const mode = loader.mode;
  const wantCodeCache = options.codeCache ?? true;
  const environments = new Map<string, HandlebarsTemplateEnvironment>();
  const environmentFor = (compileOptions: CompileOptions | undefined) => {
    const effective = effectiveOptions(compileOptions);
    const id = JSON.stringify(effective);
    let environment = environments.get(id);
    if (!environment) environments.set(id, (environment = new HandlebarsTemplateEnvironment(hb, effective)));
    return environment;
  };
  // Content-addressed: a string has no name (express-handlebars does not pass the file's path).
  const templateOf = (source: string) => ({
    name: `hbs:${cache.getSourceChecksum(source)}`,
    filename: null,
    source,
  });

  const originalCompile = hb.compile;
  const compileThroughBcc = function (
    this: unknown,
    input: unknown,
    compileOptions?: CompileOptions,
  ): TemplateDelegate {
    // An AST, or anything Handlebars refuses: exactly as Handlebars does it.
    if (typeof input !== 'string') return originalCompile.call(hb, input, compileOptions);
    let compiled: TemplateDelegate | null = null;
    let ready: EngineTemplate | null = null;
    // At the first call, as Handlebars compiles: helpers and partials registered until then count.
    const compileInput = (): TemplateDelegate => {
      const used = loader.useNow(environmentFor(compileOptions), templateOf(input));
      // Not loaded, or V8 refused the generated code: Handlebars compiles it (and reports it) its own way.
      if (!used) return originalCompile.call(hb, input, compileOptions);
      ready = used.ready;
      return hb.template(used.loaded.value);
    };
    const ret = function (this: unknown, context?: unknown, execOptions?: unknown): string {
      compiled ??= compileInput();
      const out = compiled.call(this, context, execOptions);
      // V8 has compiled what the first render ran: take the code cache now.
      if (ready && wantCodeCache) session.persistCodeCache(ready, mode === 'async');
      return out;
    } as TemplateDelegate;
    ret._setup = (setupOptions: unknown) => {
      compiled ??= compileInput();
      return compiled._setup!(setupOptions);
    };
    ret._child = (...args: unknown[]) => {
      compiled ??= compileInput();
      return compiled._child!(...args);
    };
    return ret;
  };
  hb.compile = compileThroughBcc as HandlebarsInstance['compile'];

  const preload = (sources: readonly string[], compileOptions?: CompileOptions) =>
    loader.prepareAll(
      sources,
      (source) => loader.prepare(environmentFor(compileOptions), templateOf(source)),
      (source, error) => ({ source, error }),
    );

  const handle: HandlebarsBytecodeCache = {
    cache,
    mode,
    stats: session.stats,
    flush: () => session.flush(),
    preload,
    warm: preload,
    dispose() {
      if (hb.compile === compileThroughBcc) hb.compile = originalCompile;
      loader.clear();
      installed.delete(hb);
    },
  };
  installed.set(hb, handle);
  return handle;
}

/** The handle of a disabled cache (`BCC_CACHE=none`): nothing is installed. */
function inertHandle(cache: BytecodeCache, session: EngineSession): HandlebarsBytecodeCache {
  const handle = inertEngineHandle(cache, session);
  return { ...handle, warm: handle.preload };
}
