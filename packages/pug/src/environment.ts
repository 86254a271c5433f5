import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import {
  type BytecodeCache,
  type CompiledCode,
  type Dependency,
  fingerprintText,
  sha256Hex,
  type TemplateEnvironment,
} from '@bcc/core';
import type { PugCompileOptions, PugModule, PugPlugin } from './pug.js';

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

/** The version of the Pug package and of its code generator, read once per Pug module. */
const versions = new WeakMap<object, string>();

function pugVersions(pug: PugModule): string {
  let found = versions.get(pug);
  if (found === undefined) {
    try {
      const require = createRequire(import.meta.url);
      const pugPackage = require.resolve('pug/package.json');
      const fromPug = createRequire(pugPackage);
      const version = (name: string) => (fromPug(`${name}/package.json`) as { version: string }).version;
      found = `pug@${version('pug')}`;
      // The code generator and runtime are separate packages with their own releases.
      found += `+code-gen@${version('pug-code-gen')}+runtime@${version('pug-runtime')}`;
    } catch {
      // A Pug we cannot locate: its compile function's source stands for its version.
      found = `pug@unknown-${sha256Hex(Function.prototype.toString.call(pug.compile)).slice(0, 12)}`;
    }
    versions.set(pug, found);
  }
  return found;
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
  readonly #pug: PugModule;
  readonly #options: PugCompileOptions;
  readonly #original: PugModule['compile'];
  readonly #cache: BytecodeCache;

  constructor(
    pug: PugModule,
    original: PugModule['compile'],
    options: PugCompileOptions,
    cache: BytecodeCache,
  ) {
    this.#pug = pug;
    this.#original = original;
    this.#options = options;
    this.#cache = cache;
    const shaping = Object.fromEntries(CODE_OPTIONS.map((key) => [key, options[key]]));
    const inputs = `${pugVersions(pug)}|${CODE_SHAPE_VERSION}|${fingerprintText(pug.filters)}|${fingerprintText(shaping)}`;
    this.engine = pugVersions(pug).split('+')[0]!;
    this.fingerprint = `${this.engine}/${sha256Hex(inputs).slice(0, 24)}`;
  }

  /**
   * Compiles with Pug's own `compile` and these options, plus one plugin of bcc's that records
   * the generated body (`postCodeGen`, after every other plugin) and the files Pug reads
   * (`read`, doing what Pug's reader does: `fs.readFileSync`). Stores the body as a function
   * expression that gives what `pug.compile` returns: `runtimeWrap` (with Pug's runtime as
   * `pug`) or, with `inlineRuntimeFunctions`, the function alone.
   */
  compile(source: string): CompiledCode {
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
    const options = { ...this.#options, plugins: [...(this.#options.plugins ?? []), recorder] };
    const compiled = this.#original.call(this.#pug, source, options);
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

  /** A dependency's source now (Pug reads it with `fs.readFileSync`), or `undefined` when gone. */
  readDependency(name: string): string | undefined {
    try {
      return readFileSync(name, 'utf8');
    } catch {
      return undefined;
    }
  }
}
