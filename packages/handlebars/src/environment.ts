import { fingerprintText, sha256Hex, type TemplateEnvironment } from '@bcc/core';
import type { CompileOptions, HandlebarsInstance } from './handlebars.js';

/**
 * Bump when the JavaScript bcc stores for a template changes shape (the wrapper around
 * Handlebars' precompiled spec), so entries written by an older `@bcc/handlebars` are never used.
 */
export const CODE_SHAPE_VERSION = 1;

/**
 * The compile options as Handlebars' compiler sees them: `data` defaults to true, `compat`
 * turns on `useDepths` (as `Handlebars.compile` and `precompile` do before compiling).
 */
export function effectiveOptions(options: CompileOptions | undefined): CompileOptions {
  const effective: CompileOptions = { ...options };
  if (!('data' in effective)) effective.data = true;
  if (effective.compat) effective.useDepths = true;
  return effective;
}

/**
 * The bcc side of one Handlebars instance and one set of compile options: the fingerprint (the
 * Handlebars version and compiler revision, and every compile option, since all of them are
 * compile options: `knownHelpers`, `knownHelpersOnly`, `strict`, `assumeObjects`, `noEscape`,
 * `preventIndent`, `ignoreStandalone`, `explicitPartialContext`, `compat`, `data`, …), and a
 * compiler that turns a template into a script whose completion value is Handlebars' template
 * spec, which `handlebars.template(spec)` turns into the template function.
 */
export class HandlebarsTemplateEnvironment implements TemplateEnvironment {
  readonly fingerprint: string;
  readonly engine: string;
  readonly #handlebars: HandlebarsInstance;
  readonly #options: CompileOptions;

  constructor(handlebars: HandlebarsInstance, options: CompileOptions) {
    this.#handlebars = handlebars;
    this.#options = options;
    const inputs = `${handlebars.VERSION}|${handlebars.COMPILER_REVISION}|${CODE_SHAPE_VERSION}|${fingerprintText(options)}`;
    this.fingerprint = `handlebars@${handlebars.VERSION}/${sha256Hex(inputs).slice(0, 24)}`;
    this.engine = `handlebars@${handlebars.VERSION}`;
  }

  compile(source: string): string {
    return `(${this.#handlebars.precompile(source, this.#options)})`;
  }
}
