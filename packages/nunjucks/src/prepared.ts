import type { BytecodeCache } from '@bcc/core';
import { isCompileError, type NunjucksTemplateEnvironment } from './environment.js';
import type { LoaderSourceInfo, NunjucksEnvironment, NunjucksLoader } from './internals.js';
import { originalGetSource } from './originals.js';
import type { ReadyTemplate } from './ready.js';
import { sourceOf, templateOf } from './template-source.js';

/** Loads one template through the cache, asynchronously (core's `loadTemplate`). */
export type LoadAsync = (info: LoaderSourceInfo, name: string, source: string) => Promise<ReadyTemplate>;

/** Told of each source a prefetch read with a loader's own `getSource` (see TemplateBundle.markVerbatim). */
export type SourceRead = (getSource: unknown, info: LoaderSourceInfo) => void;

/**
 * Templates loaded ahead of Nunjucks asking for them, for asynchronous caches.
 *
 * Nunjucks' compiled code is only fully correct with loaders that answer synchronously: with an
 * asynchronous loader, `{% include %}` inside a plain `{% for %}` loses its output (Nunjucks
 * documents `asyncEach` for that). So with an async cache, a render first loads the template and
 * everything it statically extends, includes and imports (`prefetch`), in parallel, and then
 * lets Nunjucks run: every load is answered synchronously from here, and rendering behaves
 * exactly as with a synchronous loader. Only templates named by a run-time expression fall back
 * to an asynchronous load.
 */
export class PreparedTemplates {
  // `loaded: null` records a template that does not compile, so Nunjucks gets its source (and
  // reports the error) synchronously too. The source is kept to compare with the one Nunjucks
  // reads later: equal text is what a checksum would have told, without hashing it (a page's
  // templates were hashed two or three times over, enough to make a process import node:crypto).
  readonly #entries = new Map<string, { source: string; loaded: ReadyTemplate | null }>();
  readonly #env: NunjucksEnvironment;
  readonly #cache: BytecodeCache;
  readonly #environment: NunjucksTemplateEnvironment;
  readonly #loadAsync: LoadAsync;
  readonly #sourceRead: SourceRead;
  /**
   * What each template prefetched by a loader's name for it named in turn: once Nunjucks holds
   * the compiled template in that loader's cache it never reads its source again, and neither
   * does a prefetch, which walks on to its dependencies from here.
   */
  #walked = new WeakMap<
    NunjucksLoader,
    Map<string, { id: string; path: string | null; dependencies: readonly string[] }>
  >();

  constructor(
    env: NunjucksEnvironment,
    cache: BytecodeCache,
    environment: NunjucksTemplateEnvironment,
    loadAsync: LoadAsync,
    sourceRead: SourceRead = () => {},
  ) {
    this.#env = env;
    this.#cache = cache;
    this.#environment = environment;
    this.#loadAsync = loadAsync;
    this.#sourceRead = sourceRead;
  }

  #keyOf(info: LoaderSourceInfo, name: string, source: string): string {
    const template = templateOf(info, name, source);
    return this.#cache.getCacheKey(template.name, template.filename, this.#environment.fingerprint);
  }

  /** The prepared template for exactly this source; `null`: it does not compile; `undefined`: not prepared. */
  get(info: LoaderSourceInfo, name: string, source: string): ReadyTemplate | null | undefined {
    const entry = this.#entries.get(this.#keyOf(info, name, source));
    return entry && entry.source === source ? entry.loaded : undefined;
  }

  /** Loads a template through the cache and keeps it; rejects as the load does. */
  async load(info: LoaderSourceInfo, name: string, source: string): Promise<ReadyTemplate> {
    try {
      const loaded = await this.#loadAsync(info, name, source);
      this.#entries.set(this.#keyOf(info, name, source), { source, loaded });
      return loaded;
    } catch (error) {
      if (isCompileError(error)) {
        this.#entries.set(this.#keyOf(info, name, source), { source, loaded: null });
      }
      throw error;
    }
  }

  /**
   * Loads `names` (as asked from `parent`) and, recursively, the templates their code names with
   * string literals, all of one level in parallel. Best effort: a template that fails here is
   * loaded again, and its error reported, when Nunjucks asks for it.
   */
  async prefetch(
    names: readonly string[],
    parent: string | null = null,
    seen = new Set<string>(),
  ): Promise<void> {
    const level: Promise<void>[] = [];
    for (const requested of names) {
      for (const loader of this.#env.loaders) {
        const resolved = this.#env.resolveTemplate
          ? this.#env.resolveTemplate(loader, parent, requested)
          : requested;
        // Compiled and kept by Nunjucks (as it checks, loader by loader): no source to read. Measured
        // on 40 pages over Redis, re-reading and hashing every page's templates on each render cost
        // more than the reads from Redis.
        if (loader.cache?.[resolved] !== undefined) {
          const known = this.#walked.get(loader)?.get(resolved);
          if (known && !seen.has(known.id)) {
            seen.add(known.id);
            level.push(this.prefetch(known.dependencies, known.path, seen));
          }
          break;
        }
        const own = originalGetSource(loader);
        if (own.async) break; // cannot read source synchronously; Nunjucks will load it itself
        let info: LoaderSourceInfo | null | undefined;
        try {
          info = own.getSource.call(own.loader, resolved);
        } catch {
          break;
        }
        if (!info) continue;
        this.#sourceRead(own.getSource, info);
        const source = sourceOf(info);
        const id = info.path ?? resolved;
        if (source === null || seen.has(id)) break;
        seen.add(id);
        const loaded = this.get(info, resolved, source);
        if (loaded === null) break;
        const path = info.path ?? null;
        level.push(
          (loaded ? Promise.resolve(loaded) : this.load(info, resolved, source)).then(
            (template) => {
              let walked = this.#walked.get(loader);
              if (!walked) this.#walked.set(loader, (walked = new Map()));
              walked.set(resolved, { id, path, dependencies: template.dependencies });
              return this.prefetch(template.dependencies, path, seen);
            },
            () => undefined,
          ),
        );
        break;
      }
    }
    await Promise.all(level);
  }

  clear(): void {
    this.#entries.clear();
    this.#walked = new WeakMap();
  }
}
