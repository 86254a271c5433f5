import {
  assertInstallable,
  BccConfigError,
  type BytecodeCache,
  bundleNameOf,
  type EngineCacheHandle,
  type EngineIntegrationOptions,
  EngineSession,
  fingerprintText,
  inertEngineHandle,
  isDisabledCache,
  type PreloadReport,
  SyncEngineLoader,
  sha256Hex,
  type TemplateEnvironment,
  WorkingSetBundle,
} from '@bcc/core';

/** The parts of an `Eta` instance bcc uses. */
export interface EtaInstance {
  config: Record<string, unknown>;
  compile(str: string, options?: EtaCompileOptions): EtaTemplateFunction;
  compileToString(str: string, options?: EtaCompileOptions): string;
  /** How Eta reads a template file (`null` in Eta's runtime-only core). */
  readFile?: ((path: string) => string) | null;
}

/** What Eta passes to `compile`: `async`, and `filepath` for a template read from a file. */
export interface EtaCompileOptions {
  async?: boolean;
  filepath?: string;
  [key: string]: unknown;
}

/** A compiled Eta template: called with `this` the Eta instance, `(data, options)`. */
export type EtaTemplateFunction = (this: unknown, data: unknown, options?: unknown) => unknown;

/** Options of {@link useBytecodeCache}: `codeCache` and `onError`, as every engine integration takes, and `bundle`. */
export interface UseBytecodeCacheOptions extends EngineIntegrationOptions {
  /**
   * Keep the file templates this process compiles for `render` (synchronous) as one working-set
   * bundle as well, under this name (`true`: `'default'`): the next processes read it as one entry
   * and run it as one script with one V8 code cache, instead of one entry, one script and one
   * checksum per template. Written by `flush()` (the first process stores the JavaScript, the next
   * adds V8's code cache). Each template is checked when served: by its file's stamp when Eta's
   * own `readFile` read it, else by checksum; one whose source changed is compiled on its own and
   * the next `flush()` writes a new bundle. With an asynchronous store, `preload()` reads the
   * bundle. Default: none.
   */
  bundle?: string | boolean;
}

/** What {@link EtaBytecodeCache.preload} did. */
export type EtaPreloadReport = PreloadReport<{ source: string; error: Error }>;

/** What {@link useBytecodeCache} returns. */
export interface EtaBytecodeCache extends EngineCacheHandle {
  /**
   * Loads these template sources through the cache, compiling and storing misses, and keeps
   * them ready (needed for hits with asynchronous stores). Give `filepath` for a file's template
   * (Eta keys those by their resolved path).
   */
  preload(sources: readonly string[], options?: EtaCompileOptions): Promise<EtaPreloadReport>;
}

/** The shape of the JavaScript {@link EtaTemplateEnvironment.compile} writes: one function expression. */
function isEtaFunctionCode(js: string): boolean {
  return (
    (js.startsWith('(function anonymous(') || js.startsWith('(async function anonymous(')) &&
    js.endsWith('\n})')
  );
}

/**
 * The `readFile` Eta gives every instance (a class field), or `null` when it cannot be told: a
 * template read by it is the file's text as it is, which a bundle may vouch for by the file's stamp.
 */
function builtInReadFile(eta: EtaInstance): unknown {
  try {
    const EtaClass = Object.getPrototypeOf(eta).constructor as new () => EtaInstance;
    return new EtaClass().readFile ?? null;
  } catch {
    return null;
  }
}

// Configuration that does not change the generated code (where templates are, whether Eta caches).
const NOT_IN_CODE = new Set(['views', 'cache']);

/**
 * The bcc side of an Eta instance: the fingerprint (Eta's compiler source, every configuration
 * option that shapes the code — tags, `autoEscape`, `autoTrim`, `varName`, `useWith`, `parse`,
 * plugins, `functionHeader`, … — and sync or async) and a compiler that writes the function Eta
 * would make with `new Function(varName, "options", body)` as a function expression.
 */
export class EtaTemplateEnvironment implements TemplateEnvironment {
  readonly fingerprint: string;
  /** Eta does not export its version (its package has no `./package.json` export). */
  readonly engine = 'eta';
  readonly #eta: EtaInstance;
  readonly #async: boolean;

  constructor(eta: EtaInstance, isAsync: boolean) {
    this.#eta = eta;
    this.#async = isAsync;
    const config = Object.fromEntries(Object.entries(eta.config).filter(([key]) => !NOT_IN_CODE.has(key)));
    const compiler = Function.prototype.toString.call(
      Object.getPrototypeOf(eta).compileToString ?? eta.compileToString,
    );
    this.fingerprint = `eta/${sha256Hex(`${compiler}|${fingerprintText(config)}|${isAsync}`).slice(0, 24)}`;
  }

  compile(source: string): string {
    const varName = String(this.#eta.config.varName ?? 'it');
    const body = this.#eta.compileToString(source, { async: this.#async });
    return `(${this.#async ? 'async ' : ''}function anonymous(${varName},options\n) {\n${body}\n})`;
  }
}

const installed = new WeakMap<object, EtaBytecodeCache>();

function isEta(value: unknown): value is EtaInstance {
  const eta = value as Partial<EtaInstance> | null;
  return (
    typeof eta === 'object' &&
    eta !== null &&
    typeof eta.compile === 'function' &&
    typeof eta.compileToString === 'function' &&
    typeof eta.config === 'object'
  );
}

/**
 * Makes an `Eta` instance compile through a bcc cache: `eta.compile`, and so `render`,
 * `renderAsync`, `renderString` and `loadTemplate`, load a template's compiled function (with
 * V8's code cache) from the cache and compile and store it only when it is missing. Templates
 * read from files are keyed by their path (as Jinja2 keys by file name), strings by their source.
 *
 * ```js
 * import { Eta } from 'eta';
 * import { FileSystemBytecodeCache } from '@bcc/fs';
 * import { useBytecodeCache } from '@bcc/eta';
 *
 * const eta = new Eta({ views: './views' });
 * useBytecodeCache(eta, new FileSystemBytecodeCache());
 * eta.render('./page', { name: 'Ada' });
 * ```
 *
 * With an asynchronous store (Redis, S3), `compile` cannot wait: templates loaded by
 * `preload()` come from the cache; others are compiled by Eta itself, as without bcc, while bcc
 * loads them into the store in the background (`stats.uncached`, one warning).
 */
export function useBytecodeCache(
  eta: unknown,
  cache: BytecodeCache,
  options: UseBytecodeCacheOptions = {},
): EtaBytecodeCache {
  if (!isEta(eta))
    throw new BccConfigError('useBytecodeCache needs an Eta instance (new Eta(...)) as its first argument');
  const session = new EngineSession(options.onError);
  if (isDisabledCache(cache)) return inertEngineHandle(cache, session);
  assertInstallable(cache, eta, installed, 'this Eta instance');
  const loader = new SyncEngineLoader<EtaTemplateFunction>(session, cache, {
    engineName: 'Eta',
    warn: !options.onError,
  });
  const wantCodeCache = options.codeCache ?? true;
  const environments = [new EtaTemplateEnvironment(eta, false), new EtaTemplateEnvironment(eta, true)];
  // Re-made when the configuration changes (eta.configure), since the fingerprint follows it.
  let configSeen = eta.config;
  const environmentFor = (isAsync: boolean) => {
    if (eta.config !== configSeen) {
      configSeen = eta.config;
      environments[0] = new EtaTemplateEnvironment(eta, false);
      environments[1] = new EtaTemplateEnvironment(eta, true);
    }
    return environments[isAsync ? 1 : 0]!;
  };
  const templateOf = (source: string, compileOptions?: EtaCompileOptions) => {
    const filepath = typeof compileOptions?.filepath === 'string' ? compileOptions.filepath : null;
    return { name: filepath ?? `eta:${cache.getSourceChecksum(source)}`, filename: filepath, source };
  };

  // The working-set bundle: the synchronous environment's file templates (what `render` uses).
  const bundleName = bundleNameOf(options.bundle);
  const bundle =
    bundleName === null
      ? null
      : new WorkingSetBundle(
          cache,
          {
            get fingerprint() {
              return environmentFor(false).fingerprint;
            },
            engine: 'eta',
          },
          {
            kind: 'eta',
            name: bundleName,
            synchronous: loader.mode === 'sync',
            isMemberCode: isEtaFunctionCode,
          },
        );
  // Eta reads a file and compiles its text at once: the last read says whether a source to
  // compile is a file's text as read.
  const originalReadFile = eta.readFile;
  let lastRead: { path: string; text: string } | null = null;
  const readThroughBcc = function (this: unknown, path: string): string {
    const text = (originalReadFile as (path: string) => string).call(this, path);
    lastRead = { path, text };
    return text;
  };
  if (bundle && typeof originalReadFile === 'function' && originalReadFile === builtInReadFile(eta))
    eta.readFile = readThroughBcc;

  const originalCompile = eta.compile;
  const compileThroughBcc = function (
    this: unknown,
    source: string,
    compileOptions?: EtaCompileOptions,
  ): EtaTemplateFunction {
    if (typeof source !== 'string') return originalCompile.call(eta, source, compileOptions);
    const filepath = typeof compileOptions?.filepath === 'string' ? compileOptions.filepath : null;
    const bundled = bundle !== null && filepath !== null && !compileOptions?.async;
    if (bundled) {
      const verbatim = lastRead !== null && lastRead.path === filepath && lastRead.text === source;
      lastRead = null;
      const member = bundle.serve(filepath, source, verbatim);
      if (member) {
        session.countLoad(member);
        return member.value as EtaTemplateFunction;
      }
    }
    const used = loader.useNow(environmentFor(!!compileOptions?.async), templateOf(source, compileOptions), {
      scriptFilename: compileOptions?.filepath,
    });
    // Not loaded, or V8 refused the generated code: Eta compiles it (and reports it) its own way.
    if (!used) return originalCompile.call(eta, source, compileOptions);
    const { loaded, ready } = used;
    if (bundled) bundle.record(filepath, loaded);
    // V8 has compiled what the first render ran: take the code cache after it.
    if (!wantCodeCache) return loaded.value;
    return session.persistAfterFirstCall(loaded.value, ready, loader.mode === 'async');
  };
  eta.compile = compileThroughBcc as EtaInstance['compile'];

  const handle: EtaBytecodeCache = {
    cache,
    mode: loader.mode,
    stats: session.stats,
    flush: async () => {
      await bundle?.write();
      await session.flush();
    },
    preload: async (sources, preloadOptions) => {
      await bundle?.ready();
      return loader.prepareAll(
        sources,
        (source) =>
          loader.prepare(environmentFor(!!preloadOptions?.async), templateOf(source, preloadOptions)),
        (source, error) => ({ source, error }),
      );
    },
    dispose() {
      if (eta.readFile === readThroughBcc) eta.readFile = originalReadFile;
      if (eta.compile === compileThroughBcc) {
        // The instance had no own `compile` before: remove ours, the prototype's shows through.
        if (originalCompile === Object.getPrototypeOf(eta).compile)
          delete (eta as { compile?: unknown }).compile;
        else eta.compile = originalCompile;
      }
      loader.clear();
      installed.delete(eta);
    },
  };
  installed.set(eta, handle);
  return handle;
}
