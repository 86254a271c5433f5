import {
  assertInstallable,
  BccConfigError,
  type BytecodeCache,
  bundleNameOf,
  canRunSync,
  EngineSession,
  isDisabledCache,
  loadTemplate,
  loadTemplateSync,
  MemoryBytecodeCache,
} from '@bcc/core';
import { TemplateBundle } from './bundle.js';
import { isCompileError, NunjucksTemplateEnvironment, templateProps } from './environment.js';
import { firstRenderWatcher } from './first-render.js';
import {
  fileSystemGetSource,
  type LoaderSourceInfo,
  type NunjucksEnvironment,
  type NunjucksLoader,
  type SourceCallback,
  type TemplateProps,
} from './internals.js';
import { originalOf, standInFor } from './originals.js';
import { PreparedTemplates } from './prepared.js';
import { type ReadyTemplate, readyTemplate } from './ready.js';
import { cacheStringTemplates } from './strings.js';
import { sourceOf, templateOf } from './template-source.js';
import type { NunjucksBytecodeCache, PreloadOptions, UseBytecodeCacheOptions } from './types.js';
import { templateNames, type WarmOptions, warmTemplates } from './warm.js';

const installed = new WeakMap<object, NunjucksBytecodeCache>();

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
  // BCC_CACHE=none: bcc is off, and the environment stays exactly as it was.
  if (isDisabledCache(cache)) return inertHandle(nenv, cache);
  assertInstallable(cache, nenv, installed, 'this environment');
  const requested = options.mode ?? 'auto';
  if (requested === 'sync' && !canRunSync(cache)) {
    throw new BccConfigError(
      `${cache.backendName} has no synchronous load and dump; use mode 'async' (Nunjucks' callback API) or a memory or filesystem cache`,
    );
  }
  const mode: 'sync' | 'async' = requested === 'auto' ? (canRunSync(cache) ? 'sync' : 'async') : requested;
  const bundleName = bundleNameOf(options.bundle);
  const environment = new NunjucksTemplateEnvironment(nenv);
  const bundle =
    bundleName === null ? null : new TemplateBundle(cache, environment, bundleName, mode === 'sync');
  // Counters and the writes no render waits for: shared engine-side bookkeeping (@bcc/core).
  const session = new EngineSession(options.onError);
  const stats = session.stats;
  const wantCodeCache = options.codeCache ?? true;
  const loadOptions = { storeOnCompile: options.storeOnCompile ?? true };
  const track = (write: Promise<unknown>) => session.track(write);
  const persist = (template: ReadyTemplate, deferred: boolean) =>
    session.persistCodeCache(template, deferred);

  // The first render is what makes V8 compile the template's inner functions; the code cache is
  // taken right after it (and after the outermost render running it: see firstRenderWatcher).
  // Sync caches write at once, before the render returns, so even a process that renders once and
  // exits leaves a complete entry; async caches write after the current work so the first
  // response is not held up.
  const watchFirstRender = firstRenderWatcher((template) => persist(template, mode === 'async'));

  /** The `{ root, b_* }` object Nunjucks runs, for a loaded template (counted once). */
  const propsOf = (info: LoaderSourceInfo, name: string, template: ReadyTemplate): TemplateProps => {
    session.countLoad(template);
    options.onLoad?.({ name, path: info.path, from: template.from });
    const props = templateProps(template.value);
    return wantCodeCache && template.persist ? watchFirstRender(props, template) : props;
  };

  /** Hands a loaded template to Nunjucks as precompiled code, as `PrecompiledLoader` does. */
  const toCode = (info: LoaderSourceInfo, name: string, template: ReadyTemplate): LoaderSourceInfo => ({
    ...info,
    src: { type: 'code', obj: propsOf(info, name, template) },
  });

  /**
   * Hands Nunjucks code that is only loaded (or compiled) when Nunjucks compiles the template:
   * at its first render, or at `getTemplate(name, true)`, as without bcc. Filters, extensions and
   * globals registered between `getTemplate()` and the first render are then seen, because the
   * fingerprint and the compile happen with the environment as it is at that moment. A compile
   * error is thrown there, inside Nunjucks' own compile step, which reports it as it would.
   */
  const lazyCode = (info: LoaderSourceInfo, name: string, resolve: () => ReadyTemplate): LoaderSourceInfo => {
    let props: TemplateProps | null = null;
    let failed = false;
    // Let go once resolved: the template's source (in `info` and in what `resolve` holds) would
    // otherwise stay in memory, next to its compiled code, for as long as Nunjucks keeps it.
    let pending: { info: LoaderSourceInfo; resolve: () => ReadyTemplate } | null = { info, resolve };
    const real = (): TemplateProps => {
      if (props) return props;
      const { info: source, resolve: load } = pending!;
      let template: ReadyTemplate;
      try {
        template = load();
      } catch (error) {
        // Nunjucks tries again on every render, as it would compile the source again; count once.
        if (isCompileError(error) && !failed) {
          failed = true;
          stats.compileErrors++;
          options.onLoad?.({ name, path: source.path, from: 'source' });
        }
        throw error;
      }
      props = propsOf(source, name, template);
      pending = null;
      return props;
    };
    // Nunjucks reads the object with `for…in` (its blocks) and `.root`: every trap resolves first.
    const obj = new Proxy({} as TemplateProps, {
      get: (_target, key) => Reflect.get(real(), key),
      has: (_target, key) => Reflect.has(real(), key),
      ownKeys: () => Reflect.ownKeys(real()),
      getOwnPropertyDescriptor: (_target, key) => {
        const descriptor = Reflect.getOwnPropertyDescriptor(real(), key);
        return descriptor && { ...descriptor, configurable: true };
      },
    });
    return { ...info, src: { type: 'code', obj } };
  };

  const compileFailed = (info: LoaderSourceInfo, name: string): LoaderSourceInfo => {
    stats.compileErrors++;
    options.onLoad?.({ name, path: info.path, from: 'source' });
    // Nunjucks compiles the source itself and reports the error its own way, at the moment it
    // would have without bcc (render, or getTemplate with eagerCompile).
    return info;
  };

  // The fingerprint each template loaded ahead of its compile was loaded for (see stillCurrent).
  const loadedFor = new WeakMap<ReadyTemplate, string>();

  const load = {
    scriptFilename: (info: LoaderSourceInfo, name: string) => info.path ?? name,
    sync(info: LoaderSourceInfo, name: string, source: string): ReadyTemplate {
      const fromBundle = bundle?.serve(info, source);
      if (fromBundle) return fromBundle;
      const loaded = loadTemplateSync(cache, environment, templateOf(info, name, source), {
        ...loadOptions,
        scriptFilename: info.path ?? name,
      });
      bundle?.record(info, loaded);
      return readyTemplate(loaded);
    },
    async async(info: LoaderSourceInfo, name: string, source: string): Promise<ReadyTemplate> {
      const fingerprint = environment.fingerprint;
      if (bundle) {
        await bundle.ready();
        const fromBundle = bundle.serve(info, source);
        if (fromBundle && environment.fingerprint === fingerprint) {
          if (!loadedFor.has(fromBundle)) loadedFor.set(fromBundle, fingerprint);
          return fromBundle;
        }
      }
      const loaded = await loadTemplate(cache, environment, templateOf(info, name, source), {
        ...loadOptions,
        scriptFilename: info.path ?? name,
      });
      bundle?.record(info, loaded);
      // The entry of a fresh compile is written in the background: the render does not wait
      // for the store, and flush() does.
      track(loaded.stored);
      const ready = readyTemplate(loaded);
      if (!loadedFor.has(ready)) loadedFor.set(ready, fingerprint);
      return ready;
    },
  };

  const transformSync = (info: LoaderSourceInfo | null | undefined, name: string) => {
    if (!info) return info;
    const source = sourceOf(info);
    if (source === null) return info;
    return lazyCode(info, name, () => load.sync(info, name, source));
  };

  // --- async caches: see PreparedTemplates -------------------------------------------------
  // Nunjucks' own FileSystemLoader returns a file's text as read from `path`: a bundle may then
  // vouch for it by the file's stamp (see TemplateBundle.markVerbatim).
  const sourceRead = (getSource: unknown, info: LoaderSourceInfo | null | undefined) => {
    if (bundle && info && getSource === fileSystemGetSource) bundle.markVerbatim(info);
    return info;
  };
  const prepared = new PreparedTemplates(nenv, cache, environment, load.async, sourceRead);

  const transformAsync = (info: LoaderSourceInfo | null | undefined, name: string, cb: SourceCallback) => {
    const source = info ? sourceOf(info) : null;
    if (!info || source === null) {
      cb(null, info);
      return;
    }
    const ready = prepared.get(info, name, source);
    if (ready === null) {
      cb(null, compileFailed(info, name));
      return;
    }
    if (ready) {
      cb(
        null,
        lazyCode(info, name, () => stillCurrent(ready, info, name, source)),
      );
      return;
    }
    if (synchronousCalls > 0) {
      cb(null, answerNow(info, name, source));
      return;
    }
    prepared.load(info, name, source).then(
      (loaded) => {
        const result = lazyCode(info, name, () => stillCurrent(loaded, info, name, source));
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
   * A template loaded ahead of its compile (asynchronous stores load before rendering) was
   * compiled for the environment as it was then. If filters or extensions changed since, it is
   * compiled again now, synchronously, for the environment as it is (not stored: the next load
   * through the store stores it under the new fingerprint).
   */
  const scratch = new MemoryBytecodeCache({ maxBytes: 1 }); // stores nothing: every entry is larger
  const stillCurrent = (
    template: ReadyTemplate,
    info: LoaderSourceInfo,
    name: string,
    source: string,
  ): ReadyTemplate => {
    const fingerprint = loadedFor.get(template);
    if (fingerprint === undefined || fingerprint === environment.fingerprint) return template;
    return readyTemplate(
      loadTemplateSync(scratch, environment, templateOf(info, name, source), {
        storeOnCompile: false,
        scriptFilename: info.path ?? name,
      }),
    );
  };

  // --- string templates (`strings: true`) --------------------------------------------------
  const stringsLoaded = new Map<string, ReadyTemplate>(); // async stores: what background loads found
  const rememberString = (checksum: string, ready: ReadyTemplate) => {
    if (!loadedFor.has(ready)) loadedFor.set(ready, environment.fingerprint);
    stringsLoaded.delete(checksum);
    stringsLoaded.set(checksum, ready);
    // A bounded memory of strings: the least recently loaded goes first.
    if (stringsLoaded.size > STRINGS_KEPT) stringsLoaded.delete(stringsLoaded.keys().next().value!);
  };
  // The key is the source's checksum, whatever `path` the call names (it only labels errors,
  // which Nunjucks reports from the Template itself).
  const loadString = (source: string): TemplateProps | null => {
    const checksum = cache.getSourceChecksum(source);
    const name = `string:${checksum}`;
    const info = { src: source, noCache: true } as LoaderSourceInfo;
    try {
      // The same string again in this process, for the environment as it is: no store read.
      const known = stringsLoaded.get(checksum);
      if (known && loadedFor.get(known) === environment.fingerprint) return propsOf(info, name, known);
      const now = mode === 'sync' ? load.sync(info, name, source) : fromSyncTier(info, name, source);
      if (now) {
        rememberString(checksum, now);
        return propsOf(info, name, now);
      }
      track(load.async(info, name, source).then((loaded) => rememberString(checksum, loaded)));
      return null;
    } catch (error) {
      // Nunjucks compiles it itself and reports the error its own way.
      if (isCompileError(error)) return null;
      throw error;
    }
  };
  const stopStrings = options.strings ? cacheStringTemplates(nenv, { load: loadString }) : () => {};

  // --- the synchronous API over an asynchronous store ------------------------------------
  // A synchronous render cannot wait for Redis or S3. Rather than fail (or let Nunjucks quietly
  // return null), a template the store cannot answer at once is served from the cache's first
  // tier when that tier is synchronous (memory, filesystem) and has it, else compiled by
  // Nunjucks exactly as without bcc, while bcc loads it into the cache in the background.
  let synchronousCalls = 0;
  let warnedUncached = false;
  const syncTier = firstSynchronousTier(cache);
  const notCached = new Error('not in the synchronous tier');
  const lookupOnly = {
    get fingerprint() {
      return environment.fingerprint;
    },
    compile(): string {
      throw notCached;
    },
  };

  /** The template from the cache's synchronous first tier, or `null` when it has none there. */
  const fromSyncTier = (info: LoaderSourceInfo, name: string, source: string): ReadyTemplate | null => {
    if (!syncTier) return null;
    try {
      return readyTemplate(
        loadTemplateSync(syncTier, lookupOnly, templateOf(info, name, source), {
          scriptFilename: info.path ?? name,
        }),
      );
    } catch (error) {
      if (error !== notCached && !isCompileError(error)) throw error;
      return null;
    }
  };

  const answerNow = (info: LoaderSourceInfo, name: string, source: string): LoaderSourceInfo => {
    const fromTier = fromSyncTier(info, name, source);
    if (fromTier) return toCode(info, name, fromTier);
    stats.uncached++;
    options.onLoad?.({ name, path: info.path, from: 'source' });
    if (!warnedUncached && !options.onError) {
      warnedUncached = true;
      process.emitWarning(
        `bcc: template "${name}" was rendered with the synchronous API before ${cache.backendName} (an asynchronous store) could answer, so Nunjucks compiled it without the cache. To get cache hits, call preload() at start-up or render with a callback (env.render(name, ctx, cb)).`,
        { code: 'BCC_SYNC_RENDER_UNCACHED' },
      );
    }
    // In the background, so the next process (or a preload) finds it in the store.
    track(prepared.load(info, name, source));
    return info;
  };

  const inNunjucksCache = (name: string) => nenv.loaders.some((loader) => loader.cache?.[name]);

  // Each loader gets a stand-in in this environment's `loaders` (see standInFor): the loader
  // object itself is never changed, so environments sharing it each compile with their own
  // options, and disposing them in any order restores every one.
  const standIns: NunjucksLoader[] = [];
  nenv.loaders.forEach((loader, index) => {
    const own = { getSource: loader.getSource, async: loader.async };
    const loaderIsAsync = !!own.async;
    const read = (info: LoaderSourceInfo | null | undefined) => sourceRead(own.getSource, info);
    let getSource: NunjucksLoader['getSource'];
    if (mode === 'sync' && !loaderIsAsync) {
      getSource = ((name: string) =>
        transformSync(read(own.getSource.call(loader, name)), name)) as NunjucksLoader['getSource'];
    } else if (mode === 'sync') {
      getSource = ((name: string, cb?: SourceCallback) => {
        own.getSource.call(loader, name, (error, info) => {
          if (error) return cb!(error);
          let result: LoaderSourceInfo | null | undefined;
          try {
            result = transformSync(read(info), name);
          } catch (failure) {
            return cb!(failure as Error);
          }
          cb!(null, result);
        });
        return undefined;
      }) as NunjucksLoader['getSource'];
    } else {
      getSource = ((name: string, cb?: SourceCallback) => {
        if (loaderIsAsync) {
          own.getSource.call(loader, name, (error, info) => {
            if (error) cb!(error);
            else transformAsync(read(info), name, cb!);
          });
          return undefined;
        }
        let info: LoaderSourceInfo | null | undefined;
        try {
          info = own.getSource.call(loader, name);
        } catch (error) {
          cb!(error as Error);
          return undefined;
        }
        transformAsync(read(info), name, cb!);
        return undefined;
      }) as NunjucksLoader['getSource'];
    }
    const standIn = standInFor(loader, getSource, mode === 'async' ? true : own.async);
    standIns.push(standIn);
    nenv.loaders[index] = standIn;
  });

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
        prepared.prefetch([name]).then(renderNow, renderNow);
        return undefined;
      }
      // The synchronous API: every load in it must answer at once (see answerNow).
      synchronousCalls++;
      try {
        return render.call(this, name, ctx as object);
      } finally {
        synchronousCalls--;
      }
    } as NunjucksEnvironment['render'];
  }

  const handle: NunjucksBytecodeCache = {
    cache,
    environment,
    mode,
    stats,
    flush: async () => {
      await bundle?.write();
      await session.flush();
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
            // Compiled now (eagerly): bcc loads a template when Nunjucks compiles it.
            nenv.getTemplate?.(name, true);
          } catch {
            // Reported when the template is rendered.
          }
        }
        return;
      }
      await prepared.prefetch(names);
    },
    dispose() {
      stopStrings();
      // Put back each loader this environment still holds our stand-in for.
      nenv.loaders.forEach((loader, index) => {
        if (standIns.includes(loader)) nenv.loaders[index] = originalOf(loader)!.loader;
      });
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

/** The handle of a disabled cache (`BCC_CACHE=none`): nothing is installed, nothing is counted. */
function inertHandle(nenv: NunjucksEnvironment, cache: BytecodeCache): NunjucksBytecodeCache {
  return {
    cache,
    environment: new NunjucksTemplateEnvironment(nenv),
    mode: 'sync',
    stats: { compiled: 0, cache: 0, cacheV8: 0, codeCachesStored: 0, compileErrors: 0, uncached: 0 },
    async flush() {},
    async warm() {
      return { total: 0, hits: 0, compiled: 0, failed: [], missing: [] };
    },
    async preload() {},
    dispose() {},
  };
}

/** How many string templates an asynchronous store's handle keeps loaded in the process. */
const STRINGS_KEPT = 1000;

/** The first tier of a tiered cache when it can load synchronously (memory, filesystem). */
function firstSynchronousTier(cache: BytecodeCache): BytecodeCache | null {
  const first = (cache as { tiers?: readonly BytecodeCache[] }).tiers?.[0];
  return first && typeof first.loadBytecodeSync === 'function' ? first : null;
}
