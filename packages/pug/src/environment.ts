import { createRequire } from 'node:module';
import {
  BccConfigError,
  type BytecodeCache,
  type CompiledCode,
  type Dependency,
  fingerprintText,
  readSourceFile,
  sha256Hex,
  sourceFileChecksum,
  type TemplateEnvironment,
} from '@bcc/core';
import type { PugCompileOptions, PugModule, PugPlugin } from './pug.js';

// Not `import … from 'node:fs'`: its ES module facade costs ~2.7 ms of start-up on Node 24.
const { readFileSync } = process.getBuiltinModule('node:fs');

/**
 * Where an environment gets Pug from: the module the app imported (`useBytecodeCache`), or a
 * module loaded only when a template must be compiled (`createPugRenderer`).
 */
export interface PugCompiler {
  /** The pug module and its own `compile` (not bcc's), loaded when first needed. */
  load(): { pug: PugModule; compile: PugModule['compile'] };
  /**
   * The global `pug.filters` the generated code may use, for the fingerprint: the module's, or
   * `null` when the module is not loaded yet (then a compile checks there are none).
   */
  globalFilters(): Record<string, unknown> | null;
}

/**
 * Bump when the JavaScript bcc stores for a template changes shape (the wrapper around Pug's
 * generated body), so entries written by an older `@bcc/pug` are never used.
 */
export const CODE_SHAPE_VERSION = 1;

/**
 * The options `pug.compile` passes on to its compiler, so the ones that shape the generated
 * code. Everything else in an options object is left out on purpose: `pug.render(src, options)`
 * passes the same object as the template's locals, which must not split entries.
 * `filename` is not here either: it is part of the entry key.
 */
const CODE_OPTIONS = [
  'compileDebug',
  'basedir',
  'pretty',
  'doctype',
  'inlineRuntimeFunctions',
  'globals',
  'self',
  'filters',
  'filterOptions',
  'filterAliases',
  'plugins',
] as const;

let versions: string | undefined;

/**
 * The versions of the installed Pug, its code generator and its runtime (separate packages with
 * their own releases), from their package.json files: known without importing Pug.
 */
export function pugVersions(): string {
  if (versions === undefined) {
    try {
      const fromPug = createRequire(createRequire(import.meta.url).resolve('pug/package.json'));
      const version = (name: string) => (fromPug(`${name}/package.json`) as { version: string }).version;
      versions = `pug@${version('pug')}+code-gen@${version('pug-code-gen')}+runtime@${version('pug-runtime')}`;
    } catch {
      versions = 'pug@unknown';
    }
  }
  return versions;
}

/** Pug's runtime helpers (what compiled templates call as `pug`), without importing Pug's compiler. */
export function pugRuntime(): Record<string, unknown> {
  const fromPug = createRequire(createRequire(import.meta.url).resolve('pug/package.json'));
  return fromPug('pug-runtime') as Record<string, unknown>;
}

/**
 * True when a plugin replaces how Pug reads files (or code generation): bcc then leaves the
 * compile to Pug, since it could neither record what was read nor read it again to validate.
 */
export function hasReplacingPlugin(plugins: readonly PugPlugin[] | undefined): boolean {
  return (plugins ?? []).some(
    (plugin) => typeof plugin?.read === 'function' || typeof plugin?.generateCode === 'function',
  );
}

/**
 * The bcc side of Pug under one set of compile options: the fingerprint (Pug, its code
 * generator and runtime versions, the global `pug.filters` and every option that shapes the
 * code) and a compiler that runs Pug's own compiler, capturing the generated body and every
 * file it read for `include` and `extends` with the checksum of exactly what it read.
 */
export class PugTemplateEnvironment implements TemplateEnvironment {
  readonly fingerprint: string;
  readonly engine: string;
  readonly #compiler: PugCompiler;
  readonly #options: PugCompileOptions;
  readonly #cache: BytecodeCache;

  constructor(compiler: PugCompiler, options: PugCompileOptions, cache: BytecodeCache) {
    this.#compiler = compiler;
    this.#options = options;
    this.#cache = cache;
    this.fingerprint = PugTemplateEnvironment.fingerprintOf(compiler.globalFilters() ?? {}, options);
    this.engine = pugVersions().split('+')[0]!;
  }

  /** Pug's versions, the global filters and every option that shapes the code. */
  static fingerprintOf(globalFilters: Record<string, unknown>, options: PugCompileOptions): string {
    const shaping = Object.fromEntries(CODE_OPTIONS.map((key) => [key, options[key]]));
    const inputs = `${pugVersions()}|${CODE_SHAPE_VERSION}|${fingerprintText(globalFilters)}|${fingerprintText(shaping)}`;
    return `${pugVersions().split('+')[0]}/${sha256Hex(inputs).slice(0, 24)}`;
  }

  /**
   * Compiles with Pug's own `compile` and these options, plus one plugin of bcc's that records
   * the generated body (`postCodeGen`, after every other plugin) and the files Pug reads
   * (`read`, doing what Pug's reader does: `fs.readFileSync`). Stores the body as a function
   * expression that gives what `pug.compile` returns: `runtimeWrap` (with Pug's runtime as
   * `pug`) or, with `inlineRuntimeFunctions`, the function alone.
   */
  compile(source: string, _name: string, filename: string | null | undefined): CompiledCode {
    let body: string | undefined;
    const read = new Map<string, string>();
    const recorder: PugPlugin = {
      read: (filename: string) => {
        const contents = readFileSync(filename);
        read.set(filename, contents.toString('utf8'));
        return contents;
      },
      postCodeGen: (js: string) => {
        body = js;
        return js;
      },
    };
    const { pug, compile } = this.#compiler.load();
    // The key was made without the module's global filters (not loaded then): there must be none.
    if (PugTemplateEnvironment.fingerprintOf(pug.filters, this.#options) !== this.fingerprint) {
      throw new BccConfigError(
        'pug.filters has global filters, which a template loaded before Pug was imported could not account for: pass them as the `filters` compile option instead',
      );
    }
    const options = {
      ...this.#options,
      // The template's file, which includes and extends resolve against (not part of the fingerprint).
      ...(filename ? { filename } : {}),
      plugins: [...(this.#options.plugins ?? []), recorder],
    };
    const compiled = compile.call(pug, source, options);
    if (body === undefined) throw new Error('Pug produced no code (a plugin replaced code generation?)');
    const dependencies: Dependency[] = (compiled.dependencies ?? []).map((name) => {
      const text = read.get(name);
      // Pug reported a file bcc did not see it read: no entry can be checked against it.
      if (text === undefined) throw new Error(`Pug read ${name} without bcc seeing its contents`);
      return { name, checksum: this.#cache.getSourceChecksum(text) };
    });
    const js = this.#options.inlineRuntimeFunctions
      ? `(function () {\n${body};return template;\n})`
      : `(function (pug) {\n${body}\nreturn template;\n})`;
    return { js, dependencies };
  }

  /** A dependency's source now, or `undefined` when it is gone or not a regular file. */
  readDependency(name: string): string | undefined {
    return readSourceFile(name);
  }

  /** A dependency's checksum now; a file unchanged since it was last hashed is not read again. */
  dependencyChecksum(name: string, checksumOf: (source: string) => string): string | undefined {
    return sourceFileChecksum(name, checksumOf);
  }
}
