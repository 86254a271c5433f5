import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import {
  BccConfigError,
  type BytecodeCache,
  cwdBase,
  type EngineIntegrationOptions,
  EngineSession,
  type EngineStats,
  isBytecodeCache,
  isDisabledCache,
  resolveImport,
  SyncEngineLoader,
} from '@bcc/core';
import { type PugCompiler, PugTemplateEnvironment, pugRuntime } from './environment.js';
import type { PugCompileOptions, PugModule, PugTemplate } from './pug.js';

// Not `import … from 'node:fs'`: its ES module facade costs ~2.7 ms of start-up on Node 24.
const { readFileSync } = process.getBuiltinModule('node:fs');

/** Options of {@link createPugRenderer}. */
export interface PugRendererOptions extends EngineIntegrationOptions {
  /** Compile options for every template (`doctype`, `pretty`, `basedir`, `filters`, …). */
  options?: PugCompileOptions;
  /** Keep each file's template in this process after its first use, as Pug's `cache: true` does (default `false`). */
  cache?: boolean;
}

/** What {@link createPugRenderer} returns: Pug's file API, served from the cache. */
export interface PugRenderer {
  /** The template of a file: loaded from the cache, compiled by Pug (imported then) only on a miss. */
  compileFile(path: string): PugTemplate;
  /** `compileFile(path)(locals)`. */
  renderFile(path: string, locals?: object): string;
  /** Loads these files through the cache ahead of use (needed for hits with an asynchronous store). */
  preload(files: readonly string[]): Promise<void>;
  readonly stats: EngineStats;
  /** Whether the `pug` compiler has been imported in this process. */
  readonly compilerLoaded: boolean;
  flush(): Promise<void>;
}

type TemplateFactory = (runtime?: unknown) => PugTemplate;

/** Imports Pug's compiler: as the app resolves it, else as this package does. */
function importPug(): PugModule {
  const url = resolveImport('pug', [cwdBase(), import.meta.url]);
  // Pug is CommonJS: require it from where it resolved (or, failing that, by name, which throws).
  return createRequire(import.meta.url)(url ? fileURLToPath(url) : 'pug') as PugModule;
}

/**
 * Pug's `compileFile` and `renderFile` through a bcc cache **without importing Pug** unless a
 * template must be compiled. Importing Pug's compiler (lexer, parser, code generator and the
 * Babel parts they use) is most of a fresh process's cost when templates are already compiled,
 * and the reason Pug's own precompiled functions beat a cache that needs the compiler loaded.
 *
 * ```js
 * import { FileSystemBytecodeCache } from '@bcc/fs';
 * import { createPugRenderer } from '@bcc/pug';
 *
 * const views = createPugRenderer(new FileSystemBytecodeCache(), { options: { basedir: 'views' } });
 * views.renderFile('views/page.pug', { name: 'Ada' });
 * ```
 *
 * The same entries, exactness and dependency checks as {@link useBytecodeCache}. Global
 * `pug.filters` cannot be seen before Pug is imported: pass filters as the `filters` option; a
 * compile that finds global filters throws a `BccConfigError` rather than store code whose key
 * does not describe it.
 */
export function createPugRenderer(
  cache: BytecodeCache,
  rendererOptions: PugRendererOptions = {},
): PugRenderer {
  const session = new EngineSession(rendererOptions.onError);
  const disabled = isDisabledCache(cache);
  let pug: PugModule | null = null;
  const compiler: PugCompiler = {
    load() {
      pug ??= importPug();
      return { pug, compile: pug.compile };
    },
    globalFilters: () => null,
  };
  const base = rendererOptions.options ?? {};
  const loader = disabled
    ? null
    : new SyncEngineLoader<TemplateFactory>(session, cache, {
        engineName: 'Pug',
        warn: !rendererOptions.onError,
      });
  if (!disabled && !isBytecodeCache(cache)) {
    throw new BccConfigError(
      'createPugRenderer needs a bcc cache (e.g. new FileSystemBytecodeCache()) as its first argument',
    );
  }
  const wantCodeCache = rendererOptions.codeCache ?? true;
  const kept = new Map<string, PugTemplate>();
  let runtime: Record<string, unknown> | null = null;
  let environment: PugTemplateEnvironment | null = null;

  const plainCompile = (path: string, options: PugCompileOptions) => {
    const { pug: module, compile } = compiler.load();
    return compile.call(module, readFileSync(path, 'utf8'), options);
  };

  const compileFile = (path: string): PugTemplate => {
    const existing = kept.get(path);
    if (existing) return existing;
    const options = { ...base, filename: path };
    let template: PugTemplate;
    if (!loader) template = plainCompile(path, options);
    else {
      environment ??= new PugTemplateEnvironment(compiler, base, cache);
      const source = readFileSync(path, 'utf8');
      const used = loader.useNow(
        environment,
        { name: path, filename: path, source },
        { scriptFilename: path },
      );
      // Not loaded, or V8 refused the generated code: Pug compiles it (and reports it) its own way.
      if (!used) template = plainCompile(path, options);
      else {
        const { loaded, ready } = used;
        runtime ??= base.inlineRuntimeFunctions ? {} : pugRuntime();
        const made: PugTemplate = base.inlineRuntimeFunctions ? loaded.value() : loaded.value(runtime);
        made.dependencies = (loaded.bucket.code?.dependencies ?? []).map((dependency) => dependency.name);
        template = wantCodeCache ? session.persistAfterFirstCall(made, ready, loader.mode === 'async') : made;
      }
    }
    if (rendererOptions.cache) kept.set(path, template);
    return template;
  };

  return {
    compileFile,
    renderFile: (path, locals) => compileFile(path)(locals),
    async preload(files) {
      if (!loader) return;
      environment ??= new PugTemplateEnvironment(compiler, base, cache);
      for (const file of files) {
        await loader.prepare(
          environment,
          { name: file, filename: file, source: readFileSync(file, 'utf8') },
          { scriptFilename: file },
        );
      }
      await session.flush();
    },
    stats: session.stats,
    get compilerLoaded() {
      return pug !== null;
    },
    flush: () => session.flush(),
  };
}
