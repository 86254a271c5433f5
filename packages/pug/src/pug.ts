/** The parts of the `pug` module bcc uses (Pug 3). */
export interface PugModule {
  compile(source: string, options?: PugCompileOptions): PugTemplate;
  /** Global filters, shared by every compile. */
  filters: Record<string, unknown>;
  /** Pug's runtime helpers, which compiled templates call as `pug`. */
  runtime: Record<string, unknown>;
}

/** A compiled Pug template: locals in, HTML out; `dependencies` lists the files it inlined. */
export interface PugTemplate {
  (locals?: unknown): string;
  dependencies?: string[];
}

/** A Pug plugin: hooks by name (`preLex`, `postCodeGen`, `read`, …). */
export interface PugPlugin {
  read?: (filename: string, options?: unknown) => unknown;
  generateCode?: unknown;
  [hook: string]: unknown;
}

/** Options of `pug.compile` (and, since `render` passes them on, of `render`). */
export interface PugCompileOptions {
  filename?: string;
  basedir?: string;
  doctype?: string;
  pretty?: boolean | string;
  filters?: Record<string, unknown>;
  filterOptions?: Record<string, unknown>;
  filterAliases?: Record<string, string>;
  self?: boolean;
  debug?: boolean;
  compileDebug?: boolean;
  globals?: string[];
  inlineRuntimeFunctions?: boolean;
  plugins?: PugPlugin[];
  cache?: boolean;
  [local: string]: unknown;
}

/** True when `value` looks like the `pug` module. */
export function isPug(value: unknown): value is PugModule {
  const pug = value as Partial<PugModule> | null;
  return (
    typeof pug === 'object' &&
    pug !== null &&
    typeof pug.compile === 'function' &&
    typeof pug.runtime === 'object' &&
    typeof pug.filters === 'object'
  );
}
