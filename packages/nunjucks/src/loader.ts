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
import { rememberLoader, restoreLoader } from './originals.js';
import { type WarmOptions, type WarmReport, warmTemplates } from './warm.js';

/** Options of {@link useBytecodeCache}. */
export interface UseBytecodeCacheOptions {
  /**
   * `'sync'`: templates load synchronously, so both of Nunjucks' APIs work; needs a cache with
   * synchronous load and dump (memory, filesystem). `'async'`: loaders become asynchronous and
   * only the callback API works; any cache. `'auto'` (default): `'sync'` when the cache can.
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

  const toCode = (
    info: LoaderSourceInfo,
    name: string,
    loaded: LoadedTemplate<unknown>,
  ): LoaderSourceInfo => {
    if (loaded.from === 'compiled') stats.compiled++;
    else if (loaded.from === 'cache+v8' && loaded.codeCache === 'accepted') stats.cacheV8++;
    else stats.cache++;
    options.onLoad?.({ name, path: info.path, from: loaded.from });
    let props = templateProps(loaded.value);
    if (wantCodeCache && loaded.needsCodeCache) props = watchFirstRender(props, loaded);
    return { ...info, src: { type: 'code', obj: props } };
  };

  /** The template's source text, or null when the loader already handed over code. */
  const sourceOf = (info: LoaderSourceInfo): string | null => {
    if (typeof info.src === 'string') return info.src;
    if (info.src && info.src.type === 'string' && typeof info.src.obj === 'string') return info.src.obj;
    return null;
  };

  const compileFailed = (info: LoaderSourceInfo, name: string): LoaderSourceInfo => {
    stats.compileErrors++;
    options.onLoad?.({ name, path: info.path, from: 'source' });
    // Nunjucks compiles the source itself and reports the error its own way, at the moment it
    // would have without bcc (render, or getTemplate with eagerCompile).
    return info;
  };

  const templateOf = (info: LoaderSourceInfo, name: string, source: string) => ({
    // The key follows the file, not the name it was asked by: "./a.njk" from one template and
    // "a.njk" from another are the same entry, and a warm-up can find it.
    name: info.path ?? name,
    filename: info.path ?? null,
    source,
  });

  const transformSync = (info: LoaderSourceInfo | null | undefined, name: string) => {
    if (!info) return info;
    const source = sourceOf(info);
    if (source === null) return info;
    let loaded: LoadedTemplate<unknown>;
    try {
      loaded = loadTemplateSync(cache, environment, templateOf(info, name, source), {
        ...loadOptions,
        scriptFilename: info.path ?? name,
      });
    } catch (error) {
      if (isCompileError(error)) return compileFailed(info, name);
      throw error;
    }
    return toCode(info, name, loaded);
  };

  const transformAsync = (info: LoaderSourceInfo | null | undefined, name: string, cb: SourceCallback) => {
    const source = info ? sourceOf(info) : null;
    if (!info || source === null) {
      cb(null, info);
      return;
    }
    loadTemplate(cache, environment, templateOf(info, name, source), {
      ...loadOptions,
      scriptFilename: info.path ?? name,
    }).then(
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

  // With an async cache the first load of a template cannot finish inside a synchronous
  // render; Nunjucks would quietly return null. Say so instead.
  const ownRender = Object.hasOwn(nenv, 'render') ? nenv.render : undefined;
  if (mode === 'async') {
    const render = nenv.render;
    nenv.render = function (this: NunjucksEnvironment, name: string, ctx?: unknown, cb?: unknown) {
      if (typeof ctx === 'function' || typeof cb === 'function') {
        return render.call(this, name, ctx as object, cb as never);
      }
      const result = render.call(this, name, ctx as object);
      if (result === null) {
        throw new BccUnsupportedError(
          `template "${name}" is loaded through ${cache.backendName}, which is asynchronous: render it with a callback (env.render(name, ctx, cb)), or use a memory or filesystem cache for synchronous rendering`,
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
    dispose() {
      for (const loader of nenv.loaders) restoreLoader(loader);
      if (mode === 'async') {
        if (ownRender) nenv.render = ownRender;
        else delete (nenv as Partial<NunjucksEnvironment>).render;
      }
      installed.delete(nenv);
    },
  };
  installed.set(nenv, handle);
  return handle;
}
