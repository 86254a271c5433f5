import type { Bucket, BucketCode, BucketEnvironment } from './bucket.js';
import type { BytecodeCache } from './cache.js';
import type { Dependency } from './format.js';
import { type Instantiated, instantiate } from './runtime.js';
import { type CompileTraceContext, traceChannels } from './trace.js';

/** The engine side: compiles template source to JavaScript. */
export interface TemplateEnvironment extends BucketEnvironment {
  /**
   * Compiles a template to a script whose completion value is the template (see `instantiate`).
   * Errors propagate to the caller and nothing is cached.
   */
  compile(
    source: string,
    name: string,
    filename: string | null | undefined,
  ): CompiledCode | string | Promise<CompiledCode | string>;
}

/**
 * What a compile made: the JavaScript, and the files it inlined besides the template (with the
 * checksums of their sources, by `cache.getSourceChecksum`), which decide the entry's validity.
 */
export interface CompiledCode {
  js: string;
  dependencies?: readonly Dependency[];
}

/** One template as the engine's loader found it. */
export interface TemplateSource {
  name: string;
  filename?: string | null;
  source: string;
}

/** Where a template's code came from. */
export type LoadedFrom = 'cache+v8' | 'cache' | 'compiled';

/** A template loaded through a cache. */
export interface LoadedTemplate<T> extends Instantiated<T> {
  readonly bucket: Bucket;
  readonly from: LoadedFrom;
  /**
   * Call after the template's first use (its first render): stores the entry again with a V8
   * code cache taken now, when the entry had none or V8 rejected it. Resolves to `true` when
   * the store took it; `false` when there was nothing to store, the store refused it, or it
   * ran already. Never throws for backend errors unless the cache was made with
   * `ignoreErrors: false`.
   */
  persistCodeCache(): Promise<boolean>;
  /**
   * The write of a freshly compiled entry (`storeOnCompile`), which runs in the background so
   * no render waits for a store: resolves to `true` when the store took it. `false` at once
   * for a template that came from the cache or was not stored.
   */
  readonly stored: Promise<boolean>;
}

/** Options of {@link loadTemplate}. */
export interface LoadTemplateOptions {
  /** Name shown in stack traces; defaults to the template's filename or name. */
  scriptFilename?: string;
  /** Store the JavaScript right after compiling, before the first render (default `true`). */
  storeOnCompile?: boolean;
}

const inFlight = new WeakMap<BytecodeCache, Map<string, Promise<LoadedTemplate<unknown>>>>();

/**
 * The compile-through flow (Jinja2's `BaseLoader.load`): look the template up in the cache,
 * compile and store it on a miss, and instantiate it, with V8's code cache when the entry has
 * one for this runtime. Concurrent calls for the same template in one process compile once.
 *
 * ```ts
 * const tpl = await loadTemplate(cache, environment, { name: 'page.html', source });
 * render(tpl.value);
 * await tpl.persistCodeCache();
 * ```
 */
export function loadTemplate<T = unknown>(
  cache: BytecodeCache,
  environment: TemplateEnvironment,
  template: TemplateSource,
  options: LoadTemplateOptions = {},
): Promise<LoadedTemplate<T>> {
  let pending = inFlight.get(cache);
  if (!pending) inFlight.set(cache, (pending = new Map()));
  const id = `${cache.getCacheKey(template.name, template.filename, environment.fingerprint)}\0${template.source.length}\0${template.source}`;
  const existing = pending.get(id);
  if (existing) return existing as Promise<LoadedTemplate<T>>;
  const started = (async () => {
    const bucket = await cache.getBucket(environment, template.name, template.filename, template.source);
    const from: LoadedFrom = bucket.code ? (bucket.code.v8 ? 'cache+v8' : 'cache') : 'compiled';
    bucket.code ??= await tracedCompile(environment, template, false);
    return finish<T>(bucket, from, options, { store: (b) => cache.setBucket(b), synchronous: false });
  })();
  const settled = started.finally(() => pending.delete(id));
  pending.set(id, settled as Promise<LoadedTemplate<unknown>>);
  return settled;
}

/**
 * Synchronous {@link loadTemplate}, for synchronous engines and synchronous caches (memory,
 * filesystem). `environment.compile` must return a string.
 */
export function loadTemplateSync<T = unknown>(
  cache: BytecodeCache,
  environment: TemplateEnvironment,
  template: TemplateSource,
  options: LoadTemplateOptions = {},
): LoadedTemplate<T> {
  const bucket = cache.getBucketSync(environment, template.name, template.filename, template.source);
  const from: LoadedFrom = bucket.code ? (bucket.code.v8 ? 'cache+v8' : 'cache') : 'compiled';
  if (!bucket.code) {
    bucket.code = tracedCompile(environment, template, true);
  }
  // Synchronous stores write before this returns (a process that renders once and exits still
  // leaves an entry).
  return finish<T>(bucket, from, options, { store: async (b) => cache.setBucketSync(b), synchronous: true });
}

/** `environment.compile`, published on `bcc:compile` when anyone listens. */
function tracedCompile(environment: TemplateEnvironment, template: TemplateSource, sync: true): BucketCode;
function tracedCompile(
  environment: TemplateEnvironment,
  template: TemplateSource,
  sync: false,
): Promise<BucketCode>;
function tracedCompile(
  environment: TemplateEnvironment,
  template: TemplateSource,
  sync: boolean,
): BucketCode | Promise<BucketCode> {
  const compile = () => environment.compile(template.source, template.name, template.filename);
  const check = (made: unknown): BucketCode => {
    if (typeof made === 'string') return { js: made };
    if (typeof (made as CompiledCode | null)?.js === 'string') {
      const { js, dependencies } = made as CompiledCode;
      return dependencies && dependencies.length > 0 ? { js, dependencies } : { js };
    }
    throw new TypeError(
      made instanceof Promise
        ? 'loadTemplateSync needs an environment whose compile() is synchronous'
        : 'compile() must return the JavaScript, or { js, dependencies }',
    );
  };
  if (!traceChannels.compile.hasSubscribers)
    return sync ? check(compile()) : Promise.resolve(compile()).then(check);
  const context: CompileTraceContext = {
    name: template.name,
    engine: environment.engine ?? environment.fingerprint,
    async: !sync,
  };
  if (sync) {
    return traceChannels.compile.traceSync(() => {
      const code = check(compile());
      context.jsLength = code.js.length;
      return code;
    }, context);
  }
  return traceChannels.compile.tracePromise(async () => {
    const code = check(await compile());
    context.jsLength = code.js.length;
    return code;
  }, context);
}

function finish<T>(
  bucket: Bucket,
  from: LoadedFrom,
  options: LoadTemplateOptions,
  { store, synchronous }: { store: (bucket: Bucket) => Promise<boolean>; synchronous: boolean },
): LoadedTemplate<T> {
  const code = bucket.code!;
  // Instantiate before storing: code that does not run is never stored.
  const result = instantiate<T>(code, { filename: options.scriptFilename ?? bucket.key });
  const storeNow = from === 'compiled' && (options.storeOnCompile ?? true);
  // Not awaited: the render goes on while the entry is written (a synchronous store has
  // written it by the time `store` returns its promise).
  const stored = storeNow ? store(bucket) : Promise.resolve(false);
  let persisted: Promise<boolean> | null = result.needsCodeCache ? null : Promise.resolve(false);
  return {
    ...result,
    bucket,
    from,
    stored,
    persistCodeCache() {
      persisted ??= (async () => {
        // After the first write, so the entry with the V8 cache is the one that stays. A
        // synchronous store has finished it, and writes this one before returning, too.
        if (!synchronous) await stored.catch(() => false);
        // The V8 cache belongs to exactly this JavaScript: never pair it with a recompile.
        bucket.code = { ...code, v8: result.createCodeCache() };
        return store(bucket);
      })();
      return persisted;
    },
  };
}
