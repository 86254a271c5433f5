import {
  BccConfigError,
  BccUnsupportedError,
  type BytecodeCache,
  isBytecodeCache,
  type LoadedFrom,
  type LoadedTemplate,
  loadTemplate,
  loadTemplateSync,
} from '@bcc/core';
import { isCompileError, NunjucksTemplateEnvironment, templateProps } from './environment.js';
import type {
  LoaderSourceInfo,
  NunjucksEnvironment,
  NunjucksLoader,
  RenderFunction,
  SourceCallback,
  TemplateProps,
} from './internals.js';
import { originalGetSource, rememberLoader, restoreLoader } from './originals.js';
import { templateNames, type WarmOptions, type WarmReport, warmTemplates } from './warm.js';

/** Options of {@link useBytecodeCache}. */
export interface UseBytecodeCacheOptions {
  /**
   * `'sync'`: templates load synchronously, so both of Nunjucks' APIs work; needs a cache with
   * synchronous load and dump (memory, filesystem). `'async'`: any cache; a render with a
   * callback first fetches the template and what it names, then Nunjucks runs with every load
   * answered synchronously; the synchronous API works for templates already loaded (`preload()`).
   * `'auto'` (default): `'sync'` when the cache can.
   */
  mode?: 'auto' | 'sync' | 'async';
  /**
   * Store the entry again with V8's code cache after a template's first render (default `true`).
   * V8 compiles inner functions lazily, so a code cache taken earlier holds almost nothing.
   */
  codeCache?: boolean;
  /** Store the JavaScript right after compiling, before the first render (default `true`). */
  storeOnCompile?: boolean;
  /**
   * Called when a background write fails and the cache was made with `ignoreErrors: false`.
   * Default: a process warning. Rendering never fails because of a write.
   */
  onError?: (error: Error) => void;
  /** Called for every template bcc loads, with where its code came from. For logs and tests. */
  onLoad?: (event: TemplateLoadEvent) => void;
}

/** Where one template's code came from: bcc's `LoadedFrom`, or `'source'` when Nunjucks compiled it itself. */
export interface TemplateLoadEvent {
  name: string;
  path: string | undefined;
  from: LoadedFrom | 'source';
}

/** Counters of one {@link useBytecodeCache} installation. */
export interface NunjucksCacheStats {
  /** Templates compiled by Nunjucks' compiler and stored. */
  compiled: number;
  /** Templates loaded from cached JavaScript without a usable V8 code cache. */
  cache: number;
  /** Templates loaded from cached JavaScript with V8's code cache. */
  cacheV8: number;
  /** Entries stored again with a V8 code cache after a first render. */
  codeCachesStored: number;
  /** Templates that did not compile; Nunjucks reported the error and nothing was cached. */
  compileErrors: number;
}

/** Options of `preload()`: which templates; defaults like {@link WarmOptions}. */
export type PreloadOptions = Pick<WarmOptions, 'names' | 'dirs' | 'extensions'>;

/** What {@link useBytecodeCache} returns. */
export interface NunjucksBytecodeCache {
  readonly cache: BytecodeCache;
  /** The fingerprint and compiler bcc uses for this environment. */
  readonly environment: NunjucksTemplateEnvironment;
  /** Whether templates load synchronously or through callbacks. */
  readonly mode: 'sync' | 'async';
  readonly stats: NunjucksCacheStats;
  /** Resolves when every write started so far (code caches taken after first renders) is done. */
  flush(): Promise<void>;
  /** Compiles and stores every template the environment's loaders can see (see {@link warmBytecodeCache}). */
  warm(options?: WarmOptions): Promise<WarmReport>;
  /**
   * Loads templates (default: every template under the loaders' search paths) and what they
   * extend, include and import, into this process ahead of the first request. With an
   * asynchronous cache this is what lets the synchronous API render them; with any cache it
   * moves the loading cost out of the first request.
   */
  preload(options?: PreloadOptions): Promise<void>;
  /** Puts the environment's loaders back as they were. Templates already loaded stay loaded. */
  dispose(): void;
}

const installed = new WeakMap<object, NunjucksBytecodeCache>();

function canRunSync(cache: BytecodeCache): boolean {
  return typeof cache.loadBytecodeSync === 'function' && typeof cache.dumpBytecodeSync === 'function';
}

/**
 * Turns bcc on for a Nunjucks environment: templates are loaded through `cache`, compiled with
 * Nunjucks' own compiler only on a miss, and instantiated with V8's code cache on a hit.
 *
 * ```js
 * useBytecodeCache(env, new FileSystemBytecodeCache());
 * ```
 *
 * Each loader of the environment keeps reading template source; bcc checks the source against
 * the entry's checksum, so an edited template is recompiled, and Nunjucks' own template cache,
 * `watch` and `noCache` work as before. A template that does not compile is handed back to
 * Nunjucks as source, so its error is reported exactly as Nunjucks reports it, and nothing is
 * cached for it.
 */
export function useBytecodeCache(
  env: unknown,
  cache: BytecodeCache,
  options: UseBytecodeCacheOptions = {},
): NunjucksBytecodeCache {
  const nenv = env as NunjucksEnvironment;
  if (!nenv || !Array.isArray(nenv.loaders) || typeof nenv.render !== 'function') {
    throw new BccConfigError('useBytecodeCache needs a nunjucks.Environment as its first argument');
  }
  if (!isBytecodeCache(cache)) {
    throw new BccConfigError(
      'useBytecodeCache needs a bcc cache (e.g. new MemoryBytecodeCache()) as its second argument',
    );
  }
  if (installed.has(nenv)) {
    throw new BccConfigError(
      'this environment already uses a bcc cache; call dispose() on the first one before adding another',
    );
  }
  const requested = options.mode ?? 'auto';
  if (requested === 'sync' && !canRunSync(cache)) {
    throw new BccConfigError(
      `${cache.backendName} has no synchronous load and dump; use mode 'async' (Nunjucks' callback API) or a memory or filesystem cache`,
    );
  }
  const mode: 'sync' | 'async' = requested === 'auto' ? (canRunSync(cache) ? 'sync' : 'async') : requested;
  const environment = new NunjucksTemplateEnvironment(nenv);
  const stats: NunjucksCacheStats = {
    compiled: 0,
    cache: 0,
    cacheV8: 0,
    codeCachesStored: 0,
    compileErrors: 0,
  };
  const counted = new WeakSet<object>();
  const pending = new Set<Promise<void>>();
  const wantCodeCache = options.codeCache ?? true;
  const loadOptions = { storeOnCompile: options.storeOnCompile ?? true };
  const reportWriteError =
    options.onError ??
    ((error: Error) =>
      process.emitWarning(`bcc: storing a V8 code cache failed: ${error.message}`, 'BccWarning'));

  const persist = (loaded: LoadedTemplate<unknown>, deferred: boolean) => {
    const start = deferred ? new Promise<void>((resolve) => setImmediate(resolve)) : Promise.resolve();
    // Sync caches: persistCodeCache runs its synchronous write before returning.
    const first = deferred ? start.then(() => loaded.persistCodeCache()) : loaded.persistCodeCache();
    const write = first
      .then(() => {
        stats.codeCachesStored++;
      })
      .catch((error: Error) => reportWriteError(error))
      .finally(() => pending.delete(write));
    pending.add(write);
  };

  // The first render is what makes V8 compile the template's inner functions; the code cache is
  // taken right after it. `root` runs for every render (and for a child's parent template), so
  // only its first completion triggers the write. Sync caches write at once, before the render
  // returns, so even a process that renders once and exits leaves a complete entry; async caches
  // write after the current work so the first response is not held up.
  const watchFirstRender = (props: TemplateProps, loaded: LoadedTemplate<unknown>): TemplateProps => {
    const root = props.root;
    let done = false;
    const wrapped: RenderFunction = function (this: unknown, env, context, frame, runtime, cb) {
      if (done) return root.call(this, env, context, frame, runtime, cb);
      return root.call(this, env, context, frame, runtime, (error, result) => {
        if (!error && !done) {
          done = true;
          persist(loaded, mode === 'async');
        }
        cb(error, result);
      });
    };
    return { ...props, root: wrapped };
  };

  /** Hands a loaded template to Nunjucks as precompiled code, as `PrecompiledLoader` does. */
  const toCode = (
    info: LoaderSourceInfo,
    name: string,
    loaded: LoadedTemplate<unknown>,
  ): LoaderSourceInfo => {
    if (!counted.has(loaded)) {
      counted.add(loaded);
      if (loaded.from === 'compiled') stats.compiled++;
      else if (loaded.from === 'cache+v8' && loaded.codeCache === 'accepted') stats.cacheV8++;
      else stats.cache++;
    }
    options.onLoad?.({ name, path: info.path, from: loaded.from });
    let props = templateProps(loaded.value);
    if (wantCodeCache && loaded.needsCodeCache) props = watchFirstRender(props, loaded);
    return { ...info, src: { type: 'code', obj: props } };
  };

  const compileFailed = (info: LoaderSourceInfo, name: string): LoaderSourceInfo => {
    stats.compileErrors++;
    options.onLoad?.({ name, path: info.path, from: 'source' });
    // Nunjucks compiles the source itself and reports the error its own way, at the moment it
    // would have without bcc (render, or getTemplate with eagerCompile).
    return info;
  };

  const load = {
    scriptFilename: (info: LoaderSourceInfo, name: string) => info.path ?? name,
    sync(info: LoaderSourceInfo, name: string, source: string): LoadedTemplate<unknown> {
      return loadTemplateSync(cache, environment, templateOf(info, name, source), {
        ...loadOptions,
        scriptFilename: info.path ?? name,
      });
    },
    async(info: LoaderSourceInfo, name: string, source: string): Promise<LoadedTemplate<unknown>> {
      return loadTemplate(cache, environment, templateOf(info, name, source), {
        ...loadOptions,
        scriptFilename: info.path ?? name,
      });
    },
  };

  const transformSync = (info: LoaderSourceInfo | null | undefined, name: string) => {
    if (!info) return info;
    const source = sourceOf(info);
    if (source === null) return info;
    let loaded: LoadedTemplate<unknown>;
    try {
      loaded = load.sync(info, name, source);
    } catch (error) {
      if (isCompileError(error)) return compileFailed(info, name);
      throw error;
    }
    return toCode(info, name, loaded);
  };

  // --- async caches -------------------------------------------------------------------------
  // Nunjucks' compiled code is only fully correct with loaders that answer synchronously: with
  // an asynchronous loader, `{% include %}` inside a plain `{% for %}` loses its output (Nunjucks
  // documents `asyncEach` for that). So with an async cache, a render first loads the template
  // and everything it statically extends, includes and imports (`prefetch`), in parallel, and
  // then lets Nunjucks run: every load is then answered synchronously from `prepared`, and
  // rendering behaves exactly as with a synchronous loader. Only templates named by a runtime
  // expression fall back to an asynchronous load.
  // `loaded: null` records a template that does not compile, so Nunjucks gets its source (and
  // reports the error) synchronously too.
  const prepared = new Map<string, { checksum: string; loaded: LoadedTemplate<unknown> | null }>();

  const keyOf = (info: LoaderSourceInfo, name: string, source: string) => {
    const template = templateOf(info, name, source);
    return cache.getCacheKey(template.name, template.filename, environment.fingerprint);
  };

  /** The prepared entry for this exact source: a template, `null` (does not compile), or undefined. */
  const preparedFor = (info: LoaderSourceInfo, name: string, source: string) => {
    const entry = prepared.get(keyOf(info, name, source));
    return entry && entry.checksum === cache.getSourceChecksum(source) ? entry.loaded : undefined;
  };

  const loadAndPrepare = async (info: LoaderSourceInfo, name: string, source: string) => {
    try {
      const loaded = await load.async(info, name, source);
      prepared.set(loaded.bucket.key, { checksum: loaded.bucket.checksum, loaded });
      return loaded;
    } catch (error) {
      if (isCompileError(error)) {
        prepared.set(keyOf(info, name, source), { checksum: cache.getSourceChecksum(source), loaded: null });
      }
      throw error;
    }
  };

  const transformAsync = (info: LoaderSourceInfo | null | undefined, name: string, cb: SourceCallback) => {
    const source = info ? sourceOf(info) : null;
    if (!info || source === null) {
      cb(null, info);
      return;
    }
    const ready = preparedFor(info, name, source);
    if (ready === null) {
      cb(null, compileFailed(info, name));
      return;
    }
    if (ready) {
      let result: LoaderSourceInfo;
      try {
        result = toCode(info, name, ready);
      } catch (error) {
        cb(error as Error);
        return;
      }
      cb(null, result);
      return;
    }
    loadAndPrepare(info, name, source).then(
      (loaded) => {
        let result: LoaderSourceInfo;
        try {
          result = toCode(info, name, loaded);
        } catch (error) {
          process.nextTick(cb, error as Error);
          return;
        }
        // Out of the promise chain: an exception thrown by Nunjucks inside the callback must
        // surface as it would from any async loader, not become a swallowed rejection.
        process.nextTick(cb, null, result);
      },
      (error: unknown) => {
        if (isCompileError(error)) process.nextTick(cb, null, compileFailed(info, name));
        else process.nextTick(cb, error as Error);
      },
    );
  };

  /**
   * Loads `names` (as asked from `parent`) and, recursively, the templates their code names
   * with string literals, all of one level in parallel. Best effort: a template that fails here
   * is loaded again, and its error reported, when Nunjucks asks for it.
   */
  const prefetch = async (
    names: readonly string[],
    parent: string | null,
    seen: Set<string>,
  ): Promise<void> => {
    const level: Promise<void>[] = [];
    for (const requested of names) {
      for (const loader of nenv.loaders) {
        const resolved = nenv.resolveTemplate ? nenv.resolveTemplate(loader, parent, requested) : requested;
        const own = originalGetSource(loader);
        if (own.async) break; // cannot read source synchronously; Nunjucks will load it itself
        let info: LoaderSourceInfo | null | undefined;
        try {
          info = own.getSource.call(loader, resolved);
        } catch {
          break;
        }
        if (!info) continue;
        const source = sourceOf(info);
        const id = info.path ?? resolved;
        if (source === null || seen.has(id)) break;
        seen.add(id);
        const loaded = preparedFor(info, resolved, source);
        if (loaded === null) break;
        const path = info.path ?? null;
        level.push(
          (loaded ? Promise.resolve(loaded) : loadAndPrepare(info, resolved, source)).then(
            (template) => prefetch(staticDependencies(template.bucket.code?.js ?? ''), path, seen),
            () => undefined,
          ),
        );
        break;
      }
    }
    await Promise.all(level);
  };

  const inNunjucksCache = (name: string) => nenv.loaders.some((loader) => loader.cache?.[name]);

  for (const loader of nenv.loaders) {
    const own = rememberLoader(loader);
    const loaderIsAsync = !!own.async;
    if (mode === 'sync' && !loaderIsAsync) {
      loader.getSource = function (this: NunjucksLoader, name: string) {
        return transformSync(own.getSource.call(this, name), name);
      } as NunjucksLoader['getSource'];
    } else if (mode === 'sync') {
      loader.getSource = function (this: NunjucksLoader, name: string, cb?: SourceCallback) {
        own.getSource.call(this, name, (error, info) => {
          if (error) return cb!(error);
          let result: LoaderSourceInfo | null | undefined;
          try {
            result = transformSync(info, name);
          } catch (failure) {
            return cb!(failure as Error);
          }
          cb!(null, result);
        });
        return undefined;
      } as NunjucksLoader['getSource'];
    } else {
      loader.async = true;
      loader.getSource = function (this: NunjucksLoader, name: string, cb?: SourceCallback) {
        if (loaderIsAsync) {
          own.getSource.call(this, name, (error, info) => {
            if (error) cb!(error);
            else transformAsync(info, name, cb!);
          });
          return undefined;
        }
        let info: LoaderSourceInfo | null | undefined;
        try {
          info = own.getSource.call(this, name);
        } catch (error) {
          cb!(error as Error);
          return undefined;
        }
        transformAsync(info, name, cb!);
        return undefined;
      } as NunjucksLoader['getSource'];
    }
  }

  const ownRender = Object.hasOwn(nenv, 'render') ? nenv.render : undefined;
  if (mode === 'async') {
    const render = nenv.render;
    nenv.render = function (this: NunjucksEnvironment, name: string, ctx?: unknown, cb?: unknown) {
      const callback = typeof ctx === 'function' ? ctx : typeof cb === 'function' ? cb : null;
      if (callback) {
        const context = typeof ctx === 'function' ? null : ctx;
        if (typeof name !== 'string' || inNunjucksCache(name)) {
          return render.call(this, name, context as object, callback as never);
        }
        const renderNow = () => {
          try {
            render.call(this, name, context as object, callback as never);
          } catch (error) {
            (callback as (error: unknown) => void)(error);
          }
        };
        // Prefetching is best effort: whatever it could not load, Nunjucks loads (and reports) itself.
        prefetch([name], null, new Set()).then(renderNow, renderNow);
        return undefined;
      }
      // The synchronous API works once everything the template needs is loaded (a render with a
      // callback or `preload()` before); otherwise Nunjucks would quietly return null. Say so.
      const result = render.call(this, name, ctx as object);
      if (result === null) {
        throw new BccUnsupportedError(
          `template "${name}" is loaded through ${cache.backendName}, which is asynchronous: render it with a callback (env.render(name, ctx, cb)), call preload() first, or use a memory or filesystem cache for synchronous rendering`,
        );
      }
      return result;
    } as NunjucksEnvironment['render'];
  }

  const handle: NunjucksBytecodeCache = {
    cache,
    environment,
    mode,
    stats,
    async flush() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    warm(warmOptions?: WarmOptions) {
      return warmTemplates(nenv, cache, environment, warmOptions);
    },
    async preload(preloadOptions: PreloadOptions = {}) {
      const names = preloadOptions.names
        ? [...preloadOptions.names]
        : templateNames(nenv, preloadOptions.dirs, preloadOptions.extensions);
      if (mode === 'sync') {
        for (const name of names) {
          try {
            nenv.getTemplate?.(name);
          } catch {
            // Reported when the template is rendered.
          }
        }
        return;
      }
      await prefetch(names, null, new Set());
    },
    dispose() {
      for (const loader of nenv.loaders) restoreLoader(loader);
      if (mode === 'async') {
        if (ownRender) nenv.render = ownRender;
        else delete (nenv as Partial<NunjucksEnvironment>).render;
      }
      prepared.clear();
      installed.delete(nenv);
    },
  };
  installed.set(nenv, handle);
  return handle;
}

/** The template's source text, or null when the loader already handed over code. */
function sourceOf(info: LoaderSourceInfo): string | null {
  if (typeof info.src === 'string') return info.src;
  if (info.src && info.src.type === 'string' && typeof info.src.obj === 'string') return info.src.obj;
  return null;
}

function templateOf(info: LoaderSourceInfo, name: string, source: string) {
  return {
    // The key follows the file, not the name it was asked by: "./a.njk" from one template and
    // "a.njk" from another are the same entry, and a warm-up can find it.
    name: info.path ?? name,
    filename: info.path ?? null,
    source,
  };
}

// Nunjucks compiles `{% extends/include/import/from "x" %}` with a literal name to
// `env.getTemplate("x", <eager>, <parent>, ...)`; names computed at run time are not literals.
const GET_TEMPLATE_LITERAL = /env\.getTemplate\(("(?:[^"\\\n]|\\.)*"), (?:true|false), /g;

/** The template names a compiled template loads by literal name. */
export function staticDependencies(js: string): string[] {
  const names = new Set<string>();
  for (const match of js.matchAll(GET_TEMPLATE_LITERAL)) {
    try {
      const name = JSON.parse(match[1]!) as unknown;
      if (typeof name === 'string') names.add(name);
    } catch {
      // Not a plain string literal; Nunjucks will load it when it runs.
    }
  }
  return [...names];
}
