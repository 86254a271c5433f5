import {
  assertInstallable,
  BccConfigError,
  type BytecodeCache,
  type EngineCacheHandle,
  type EngineIntegrationOptions,
  EngineSession,
  inertEngineHandle,
  isDisabledCache,
  type PreloadReport,
  SyncEngineLoader,
} from '@bcc/core';
import { hasReplacingPlugin, PugTemplateEnvironment } from './environment.js';
import { isPug, type PugCompileOptions, type PugTemplate } from './pug.js';

// Not `import … from 'node:fs'`: its ES module facade costs ~2.7 ms of start-up on Node 24.
const { readFileSync } = process.getBuiltinModule('node:fs');

/** Options of {@link useBytecodeCache}: `codeCache` and `onError`, as every engine integration takes. */
export type UseBytecodeCacheOptions = EngineIntegrationOptions;

/** What {@link PugBytecodeCache.preload} reports. */
export type PugPreloadReport = PreloadReport<{ file: string; error: Error }>;

/** What {@link useBytecodeCache} returns. */
export interface PugBytecodeCache extends EngineCacheHandle {
  /**
   * Loads these template files (with these compile options, as the app passes them to
   * `compileFile`/`renderFile`) through the cache, compiling and storing misses, and keeps them
   * ready for Pug's synchronous compile. Needed for hits with an asynchronous store.
   */
  preload(files: readonly string[], options?: PugCompileOptions): Promise<PugPreloadReport>;
}

/** Wraps the stored function expression's value: what `pug.compile` returns. */
type TemplateFactory = (runtime?: unknown) => PugTemplate;

const installed = new WeakMap<object, PugBytecodeCache>();

/**
 * Makes the `pug` module compile through a bcc cache: `pug.compile`, and so `compileFile`,
 * `render` and `renderFile` (which all compile through it), load a template's compiled function
 * (with V8's code cache) from the cache and compile and store it only when it is missing.
 *
 * Pug inlines `include` and `extends` when it compiles, so each entry records the files it
 * inlined with a checksum of each; an entry is used only while every one of them is unchanged,
 * and an edit to a layout recompiles every page that extends it.
 *
 * ```js
 * import pug from 'pug';
 * import { FileSystemBytecodeCache } from '@bcc/fs';
 * import { useBytecodeCache } from '@bcc/pug';
 *
 * useBytecodeCache(pug, new FileSystemBytecodeCache());
 * pug.renderFile('views/page.pug', { name: 'Ada' });
 * ```
 *
 * Left to Pug itself, as without bcc: compiles with `debug: true` (it prints the code as it
 * compiles), and compiles with a plugin that replaces `read` or `generateCode` (bcc can neither
 * see nor re-check what such a plugin read).
 */
export function useBytecodeCache(
  pug: unknown,
  cache: BytecodeCache,
  options: UseBytecodeCacheOptions = {},
): PugBytecodeCache {
  if (!isPug(pug)) {
    throw new BccConfigError(
      "useBytecodeCache needs the pug module (import pug from 'pug') as its first argument",
    );
  }
  const session = new EngineSession(options.onError);
  if (isDisabledCache(cache)) return inertEngineHandle(cache, session);
  assertInstallable(cache, pug, installed, 'this pug module');
  const loader = new SyncEngineLoader<TemplateFactory>(session, cache, {
    engineName: 'Pug',
    warn: !options.onError,
  });
  const wantCodeCache = options.codeCache ?? true;
  const originalCompile = pug.compile;
  const compiler = { load: () => ({ pug, compile: originalCompile }), globalFilters: () => pug.filters };
  const environmentFor = (compileOptions: PugCompileOptions) =>
    new PugTemplateEnvironment(compiler, compileOptions, cache);
  const templateOf = (source: string, compileOptions: PugCompileOptions) => {
    const filename = typeof compileOptions.filename === 'string' ? compileOptions.filename : null;
    return { name: filename ?? `pug:${cache.getSourceChecksum(source)}`, filename, source };
  };
  const bypass = (compileOptions: PugCompileOptions) =>
    compileOptions.debug === true || hasReplacingPlugin(compileOptions.plugins);

  const compileThroughBcc = function (this: unknown, input: string, given?: PugCompileOptions): PugTemplate {
    const compileOptions = given ?? {};
    if (bypass(compileOptions)) return originalCompile.call(pug, input, given);
    const used = loader.useNow(environmentFor(compileOptions), templateOf(String(input), compileOptions), {
      scriptFilename: compileOptions.filename,
    });
    // Not loaded, or V8 refused the generated code: Pug compiles it (and reports it) its own way.
    if (!used) return originalCompile.call(pug, input, given);
    const { loaded, ready } = used;
    const template: PugTemplate = compileOptions.inlineRuntimeFunctions
      ? loaded.value()
      : loaded.value(pug.runtime);
    template.dependencies = (loaded.bucket.code?.dependencies ?? []).map((dependency) => dependency.name);
    if (!wantCodeCache) return template;
    return session.persistAfterFirstCall(template, ready, loader.mode === 'async');
  };
  pug.compile = compileThroughBcc;

  const preloadOne = async (file: string, given: PugCompileOptions) => {
    const compileOptions = { ...given, filename: file };
    if (bypass(compileOptions)) {
      throw new BccConfigError(
        'bcc leaves this compile to Pug (debug, or a plugin that replaces read or generateCode)',
      );
    }
    const source = readFileSync(file, 'utf8');
    return loader.prepare(environmentFor(compileOptions), templateOf(source, compileOptions), {
      scriptFilename: file,
    });
  };
  const preload = (files: readonly string[], given: PugCompileOptions = {}): Promise<PugPreloadReport> =>
    loader.prepareAll(
      files,
      (file) => preloadOne(file, given),
      (file, error) => ({ file, error }),
    );

  const handle: PugBytecodeCache = {
    cache,
    mode: loader.mode,
    stats: session.stats,
    flush: () => session.flush(),
    preload,
    dispose() {
      if (pug.compile === compileThroughBcc) pug.compile = originalCompile;
      loader.clear();
      installed.delete(pug);
    },
  };
  installed.set(pug, handle);
  return handle;
}
