import { dependencyChecksumNow } from './bucket.js';
import { type BytecodeCache, isBytecodeCache } from './cache.js';
import {
  type LoadedFrom,
  type LoadedTemplate,
  type LoadTemplateOptions,
  loadTemplate,
  loadTemplateSync,
  type TemplateEnvironment,
  type TemplateSource,
} from './compile.js';
import { sha256Hex } from './digest.js';
import { BccConfigError } from './errors.js';
import type { CodeCacheState } from './runtime.js';

/**
 * The shared engine side of bcc: what every engine integration (`@bcc/nunjucks`,
 * `@bcc/handlebars`, …) keeps and does the same way, so each integration holds only what is
 * particular to its engine.
 */

/**
 * The checks every engine's `useBytecodeCache` makes once the cache is known not to be disabled:
 * `cache` is a bcc cache, and `instance` (`what` names it in the error) has none installed yet.
 * `installed` holds the instances of one engine that have a cache.
 */
export function assertInstallable(
  cache: unknown,
  instance: object,
  installed: WeakMap<object, unknown>,
  what: string,
): asserts cache is BytecodeCache {
  if (!isBytecodeCache(cache)) {
    throw new BccConfigError(
      'useBytecodeCache needs a bcc cache (e.g. new MemoryBytecodeCache()) as its second argument',
    );
  }
  if (installed.has(instance)) {
    throw new BccConfigError(
      `${what} already uses a bcc cache; call dispose() on the first one before adding another`,
    );
  }
}

/** True when `cache` loads and stores synchronously, so an engine's synchronous API can use it directly. */
export function canRunSync(cache: BytecodeCache): boolean {
  return typeof cache.loadBytecodeSync === 'function' && typeof cache.dumpBytecodeSync === 'function';
}

/** Options every engine integration's `useBytecodeCache` takes. */
export interface EngineIntegrationOptions {
  /** Store the entry again with V8's code cache after a template's first render (default `true`). */
  codeCache?: boolean;
  /** Called when a background write fails and the cache was made with `ignoreErrors: false`. */
  onError?: (error: Error) => void;
}

/** What every engine integration's `useBytecodeCache` returns, besides its engine's `preload`. */
export interface EngineCacheHandle {
  readonly cache: BytecodeCache;
  /** `'sync'`: the store answers at once; `'async'`: templates come from the cache once preloaded. */
  readonly mode: 'sync' | 'async';
  readonly stats: EngineStats;
  /** Resolves when every background write started so far (entries, code caches) is done. */
  flush(): Promise<void>;
  /** Puts the engine back as it was. Templates already compiled keep working. */
  dispose(): void;
}

/**
 * The handle an integration returns for a disabled cache (`BCC_CACHE=none`): nothing is
 * installed, the counters stay at zero, and `preload` reports every item as neither a hit nor a
 * compile.
 */
export function inertEngineHandle(
  cache: BytecodeCache,
  session: EngineSession,
): EngineCacheHandle & { preload(items: readonly unknown[]): Promise<PreloadReport<never>> } {
  return {
    cache,
    mode: 'sync',
    stats: session.stats,
    flush: async () => {},
    preload: async (items) => ({ total: items.length, hits: 0, compiled: 0, failed: [] }),
    dispose() {},
  };
}

/** What a preload or warm-up did; `Failure` says which template failed (its source, its file). */
export interface PreloadReport<Failure extends { error: Error }> {
  total: number;
  hits: number;
  compiled: number;
  failed: Failure[];
}

/** Counters of one engine integration's installation. */
export interface EngineStats {
  /** Templates compiled by the engine's compiler and stored. */
  compiled: number;
  /** Templates loaded from cached JavaScript without a usable V8 code cache. */
  cache: number;
  /** Templates loaded from cached JavaScript with V8's code cache. */
  cacheV8: number;
  /** Entries stored again with a V8 code cache after a first render (only writes the store took). */
  codeCachesStored: number;
  /** Templates that did not compile; the engine reported the error and nothing was cached. */
  compileErrors: number;
  /**
   * Templates a synchronous API needed before an asynchronous store could answer: the engine
   * compiled them itself (as without bcc) while bcc loaded them into the cache in the background.
   */
  uncached: number;
}

/** A template as an integration keeps it: where it came from, and its pending code-cache write. */
export interface EngineTemplate {
  readonly from: LoadedFrom;
  readonly codeCache: CodeCacheState;
  /** Stores the entry again with a V8 code cache; `null` when it needs none, or once started. */
  persist: (() => Promise<boolean>) | null;
}

/** An integration's record of a template loaded through the cache (see {@link EngineTemplate}). */
export function engineTemplate(loaded: LoadedTemplate<unknown>): EngineTemplate {
  return {
    from: loaded.from,
    codeCache: loaded.codeCache,
    persist: loaded.needsCodeCache ? () => loaded.persistCodeCache() : null,
  };
}

/**
 * An integration's bookkeeping: load counters, and the writes it starts that no render waits
 * for (entries of fresh compiles, V8 code caches after first renders), which `flush()` waits
 * for and whose failures go to `onError` (default: a process warning; rendering never fails
 * because of a write).
 */
export class EngineSession {
  readonly stats: EngineStats = {
    compiled: 0,
    cache: 0,
    cacheV8: 0,
    codeCachesStored: 0,
    compileErrors: 0,
    uncached: 0,
  };
  readonly #pending = new Set<Promise<void>>();
  readonly #counted = new WeakSet<object>();
  readonly #onError: (error: Error) => void;

  constructor(onError?: (error: Error) => void) {
    this.#onError =
      onError ??
      ((error: Error) =>
        process.emitWarning(`bcc: a background write failed: ${error.message}`, 'BccWarning'));
  }

  /** Counts a loaded template once, by where its code came from. */
  countLoad(template: EngineTemplate): void {
    if (this.#counted.has(template)) return;
    this.#counted.add(template);
    if (template.from === 'compiled') this.stats.compiled++;
    else if (template.from === 'cache+v8' && template.codeCache === 'accepted') this.stats.cacheV8++;
    else this.stats.cache++;
  }

  /** Keeps track of a write nobody waits for; `flush()` waits for it. */
  track(write: Promise<unknown>): void {
    const done: Promise<void> = write
      .then(
        () => undefined,
        (error: Error) => this.#onError(error),
      )
      .finally(() => this.#pending.delete(done));
    this.#pending.add(done);
  }

  /**
   * Stores the template's V8 code cache, once (call after its first render). Synchronous stores
   * write before this returns, so a process that renders once and exits leaves a complete
   * entry; with `deferred`, the write starts after the current work, so a response is not held
   * up by it.
   */
  persistCodeCache(template: EngineTemplate, deferred: boolean): void {
    const store = template.persist;
    if (!store) return;
    // Dropping the closure lets the entry's bytes go once the write is done.
    template.persist = null;
    const write = deferred ? new Promise<void>((resolve) => setImmediate(resolve)).then(store) : store();
    this.track(
      write.then((stored) => {
        // Only what the store took: a refused or skipped write is not a stored code cache.
        if (stored) this.stats.codeCachesStored++;
      }),
    );
  }

  /**
   * `fn`, wrapped so that the template's V8 code cache is stored after its first call (V8 has
   * compiled what that render ran), once that call returned, or its promise settled. `fn`
   * itself when there is nothing to store. Own properties of `fn` (such as Pug's
   * `dependencies`) are kept.
   */
  persistAfterFirstCall<F extends (this: unknown, ...args: never[]) => unknown>(
    fn: F,
    template: EngineTemplate,
    deferred: boolean,
  ): F {
    if (!template.persist) return fn;
    const persist = () => this.persistCodeCache(template, deferred);
    const wrapped = function (this: unknown, ...args: Parameters<F>): ReturnType<F> {
      const out = fn.apply(this, args) as ReturnType<F>;
      if (out instanceof Promise) void out.then(persist, persist);
      else persist();
      return out;
    };
    return Object.assign(wrapped, fn) as unknown as F;
  }

  /** Resolves when every write started so far is done. */
  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }
}

/**
 * Loading for engines whose `compile` is synchronous (Handlebars, Eta): a synchronous store
 * answers at once; an asynchronous one (Redis, S3) cannot, so a template is served from what
 * `prepare()` (a preload) loaded into this process, and otherwise `loadNow` answers `null`: the
 * engine compiles it itself, as without bcc, while the template is loaded into the store in the
 * background. Counted in `stats.uncached`, with one `BCC_SYNC_RENDER_UNCACHED` warning (unless
 * the integration reports errors itself) that says how to get hits.
 */
export class SyncEngineLoader<T> {
  readonly mode: 'sync' | 'async';
  readonly #session: EngineSession;
  readonly #cache: BytecodeCache;
  readonly #engineName: string;
  readonly #warn: boolean;
  readonly #prepared = new Map<string, LoadedTemplate<T>>();
  #warned = false;

  constructor(session: EngineSession, cache: BytecodeCache, options: { engineName: string; warn: boolean }) {
    this.#session = session;
    this.#cache = cache;
    this.#engineName = options.engineName;
    this.#warn = options.warn;
    this.mode = canRunSync(cache) ? 'sync' : 'async';
  }

  /** The template from the cache now (compiled and stored on a miss), or `null`: let the engine compile it. */
  loadNow(
    environment: TemplateEnvironment,
    template: TemplateSource,
    options: LoadTemplateOptions = {},
  ): LoadedTemplate<T> | null {
    if (this.mode === 'sync') return loadTemplateSync<T>(this.#cache, environment, template, options);
    const id = this.#id(environment, template);
    const ready = this.#prepared.get(id);
    if (ready && this.#unchanged(environment, ready)) return ready;
    if (ready) this.#prepared.delete(id);
    this.#session.stats.uncached++;
    if (this.#warn && !this.#warned) {
      this.#warned = true;
      process.emitWarning(
        `bcc: a ${this.#engineName} template was compiled before ${this.#cache.backendName} (an asynchronous store) could answer, so ${this.#engineName} compiled it without the cache. To get cache hits, preload the templates at start-up.`,
        { code: 'BCC_SYNC_RENDER_UNCACHED' },
      );
    }
    this.#session.track(this.prepare(environment, template, options));
    return null;
  }

  /**
   * {@link loadNow} as an engine's compile hook uses it: the loaded template and its record,
   * counted in `stats`, or `null` when the engine must compile it itself — not loaded yet (an
   * asynchronous store), or V8 refused the generated code (a `SyntaxError`: the engine compiles
   * it and reports it its own way). Any other error is the template's compile error: counted and
   * thrown.
   */
  useNow(
    environment: TemplateEnvironment,
    template: TemplateSource,
    options: LoadTemplateOptions = {},
  ): { loaded: LoadedTemplate<T>; ready: EngineTemplate } | null {
    let loaded: LoadedTemplate<T> | null;
    try {
      loaded = this.loadNow(environment, template, options);
    } catch (error) {
      if (error instanceof SyntaxError) return null;
      this.#session.stats.compileErrors++;
      throw error;
    }
    if (!loaded) return null;
    const ready = engineTemplate(loaded);
    this.#session.countLoad(ready);
    return { loaded, ready };
  }

  /** Loads a template through the cache (any store), compiling and storing a miss, and keeps it ready. */
  async prepare(
    environment: TemplateEnvironment,
    template: TemplateSource,
    options: LoadTemplateOptions = {},
  ): Promise<LoadedTemplate<T>> {
    const id = this.#id(environment, template);
    const loaded = await loadTemplate<T>(this.#cache, environment, template, options);
    this.#session.track(loaded.stored);
    this.#prepared.set(id, loaded);
    return loaded;
  }

  /** True unless a file the template inlined changed since it was prepared (the store would refuse it now). */
  #unchanged(environment: TemplateEnvironment, loaded: LoadedTemplate<T>): boolean {
    const dependencies = loaded.bucket.code?.dependencies ?? [];
    return dependencies.every(
      ({ name, checksum }) => dependencyChecksumNow(environment, name, this.#cache.checksumOf) === checksum,
    );
  }

  /**
   * {@link prepare}s each item in turn (`prepareOne` says how), counting hits and compiles; a
   * template that fails is recorded with `failure(item, error)`, not thrown. Resolves once the
   * writes it started are done: an integration's `preload()`.
   */
  async prepareAll<Item, Failure extends { error: Error }>(
    items: readonly Item[],
    prepareOne: (item: Item) => Promise<LoadedTemplate<T>>,
    failure: (item: Item, error: Error) => Failure,
  ): Promise<PreloadReport<Failure>> {
    const report: PreloadReport<Failure> = { total: items.length, hits: 0, compiled: 0, failed: [] };
    for (const item of items) {
      try {
        if ((await prepareOne(item)).from === 'compiled') report.compiled++;
        else report.hits++;
      } catch (error) {
        report.failed.push(failure(item, error as Error));
      }
    }
    await this.#session.flush();
    return report;
  }

  /** Forgets what `prepare` kept. */
  clear(): void {
    this.#prepared.clear();
  }

  #id(environment: TemplateEnvironment, template: TemplateSource): string {
    return `${environment.fingerprint}\0${template.name}\0${template.filename ?? ''}\0${this.#cache.getSourceChecksum(template.source)}`;
  }
}

/**
 * Stable text of a configuration value for an engine's fingerprint: object keys in sorted order,
 * functions by a hash of their source (a plugin or a custom tag handler changes generated code
 * when its source does), nesting cut off at `maxDepth` and cycles cut, so any options object can
 * be fingerprinted without throwing.
 */
export function fingerprintText(value: unknown, maxDepth = 5): string {
  const seen = new WeakSet<object>();
  // A getter that throws has no value the engine could use either; it must not throw here.
  const read = (item: object, key: string): unknown => {
    try {
      return (item as Record<string, unknown>)[key];
    } catch {
      return '<unreadable>';
    }
  };
  const show = (item: unknown, depth: number): string => {
    if (typeof item === 'function')
      return `fn:${sha256Hex(Function.prototype.toString.call(item)).slice(0, 16)}`;
    if (typeof item === 'bigint') return `${item}n`; // JSON.stringify throws on a bigint
    if (item === null || typeof item !== 'object') return JSON.stringify(item) ?? String(item);
    if (depth >= maxDepth || seen.has(item)) return '…';
    seen.add(item);
    if (Array.isArray(item)) return `[${item.map((v) => show(v, depth + 1)).join(',')}]`;
    const keys = Object.keys(item).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${show(read(item, k), depth + 1)}`).join(',')}}`;
  };
  return show(value, 0);
}
