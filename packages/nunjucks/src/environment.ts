import type { TemplateEnvironment } from '@bcc/core';
import { environmentFingerprint } from './fingerprint.js';
import {
  type NunjucksEnvironment,
  nunjucksModule,
  nunjucksVersion,
  type TemplateProps,
} from './internals.js';

/** Errors thrown by Nunjucks' compiler, as opposed to cache or backend errors. */
const compileErrors = new WeakSet<object>();

/**
 * True when `error` came out of Nunjucks' compiler (a template syntax error and the like), or
 * V8 refused the JavaScript it generated (a `SyntaxError` while instantiating: Nunjucks'
 * parser accepts some templates, such as a symbol ending in a backslash, whose code does not
 * parse). Either way the template goes back to Nunjucks as source, which reports the error
 * exactly as it would without bcc; nothing is stored.
 */
export function isCompileError(error: unknown): boolean {
  return (
    typeof error === 'object' && error !== null && (compileErrors.has(error) || error instanceof SyntaxError)
  );
}

/**
 * The bcc side of a `nunjucks.Environment`: its fingerprint, and a compiler that turns template
 * source into the JavaScript bcc stores.
 *
 * Nunjucks evaluates its generated code with `new Function(code)()`; bcc stores the same code as
 * `(function () { code })`, a script whose completion value is that function, so `instantiate`
 * can run it through `vm.Script` with V8's code cache. Calling the function gives Nunjucks'
 * `{ root, b_<block>... }` object.
 */
export class NunjucksTemplateEnvironment implements TemplateEnvironment {
  readonly env: NunjucksEnvironment;
  readonly engine = `nunjucks@${nunjucksVersion}`;

  constructor(env: NunjucksEnvironment) {
    this.env = env;
  }

  /** Recomputed on each load: extensions and async filters may be added at any time. */
  get fingerprint(): string {
    return environmentFingerprint(this.env);
  }

  /**
   * Compiles with Nunjucks' own compiler and the environment's options, extensions and async
   * filters, exactly as `Template._compile` does. `filename` is what Nunjucks passes as the
   * template's name (the loader's `path`), so generated code and error messages match.
   */
  compile(source: string, _name: string, filename: string | null | undefined): string {
    let code: string;
    try {
      code = nunjucksModule.compiler.compile(
        source,
        this.env.asyncFilters,
        this.env.extensionsList,
        filename ?? undefined,
        this.env.opts,
      );
    } catch (error) {
      if (typeof error === 'object' && error !== null) compileErrors.add(error);
      throw error;
    }
    // A newline before the closing brace: generated code may end in a line comment.
    return `(function () {\n${toLatin1Source(code)}\n})`;
  }
}

const HAS_BEYOND_LATIN1 = /[\u0100-\uffff]/;
const BEYOND_LATIN1 = /(\\*)([\u0100-\uffff])/g;

/**
 * Rewrites characters beyond Latin-1 (an em dash or an ellipsis in template text) as `\uXXXX`
 * escapes. Nunjucks puts template text in string literals, where the escape means the same
 * character, as it does in identifiers and regular expressions. A single such character makes
 * the whole entry UTF-16 (twice the bytes to read, check and decode) and V8's copy of the source
 * two-byte; escaped, the entry stays one byte per character. A character already escaped by a
 * backslash (`\—`, which means `—`) loses that backslash, so the backslash keeps its meaning.
 */
export function toLatin1Source(code: string): string {
  if (!HAS_BEYOND_LATIN1.test(code)) return code;
  return code.replace(BEYOND_LATIN1, (_match, backslashes: string, char: string) => {
    const kept = backslashes.length % 2 === 0 ? backslashes : backslashes.slice(0, -1);
    return `${kept}\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/** Runs an instantiated template function to get the object Nunjucks' `Template` expects. */
export function templateProps(value: unknown): TemplateProps {
  if (typeof value !== 'function')
    throw new TypeError('bcc: cached Nunjucks code did not evaluate to a function');
  const props = (value as () => TemplateProps)();
  if (!props || typeof props.root !== 'function') {
    throw new TypeError('bcc: cached Nunjucks code did not produce a template (no root function)');
  }
  return props;
}
