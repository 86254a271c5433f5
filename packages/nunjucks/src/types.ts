import type { BytecodeCache, EngineStats, LoadedFrom } from '@bcc/core';
import type { NunjucksTemplateEnvironment } from './environment.js';
import type { WarmOptions, WarmReport } from './warm.js';

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
   * Also cache string templates (`env.renderString(src, ctx)`, `new nunjucks.Template(src, env)`),
   * which plain Nunjucks compiles on every call: each distinct source is an entry, keyed by its
   * checksum (default `false`). For templates kept in a database or CMS (emails,
   * notifications). With an asynchronous store, a string is served from a synchronous first
   * tier, or from an earlier background load in this process; otherwise Nunjucks compiles it.
   */
  strings?: boolean;
  /**
   * Keep the templates this process loads as one working-set bundle as well, under this name
   * (`true`: `'default'`): the next processes read it as one entry and run it as one script with
   * one V8 code cache, instead of one entry and one script per template. For processes that render
   * the same pages (serverless functions, workers, a site's fixed set of pages). Any store; with an
   * asynchronous one it is one read instead of one round trip per template. Default: none.
   *
   * Written by `flush()`: call it once the process has rendered what it renders (after start-up
   * traffic, or at shutdown). The first process that flushes stores the templates it loaded; the
   * next one that renders from the bundle adds V8's code cache; later processes load the set at
   * once. Each template is checked when served (by its file's stamp when Nunjucks' own
   * `FileSystemLoader` read it, else by checksum): a template whose source changed loads on its own
   * and the next `flush()` writes a new bundle. After a change of the environment's configuration
   * (filters, extensions, options), or under another Node, templates load one by one as without
   * it. A process that needs templates outside the bundle loads those one by one; a bundle with a
   * V8 code cache is not replaced by such a process.
   */
  bundle?: string | boolean;
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

/** Counters of one {@link useBytecodeCache} installation (shared by every engine integration). */
export type NunjucksCacheStats = EngineStats;

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
  /**
   * Writes the working-set bundle when the `bundle` option asks for one and this process has one
   * to give, then resolves when every write started so far (code caches taken after first
   * renders) is done.
   */
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
