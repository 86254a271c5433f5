/** The parts of a Handlebars instance (`Handlebars.create()` or the module) bcc uses. */
export interface HandlebarsInstance {
  VERSION: string;
  COMPILER_REVISION: number;
  compile(input: unknown, options?: CompileOptions): TemplateDelegate;
  precompile(input: string, options?: CompileOptions): string;
  template(spec: unknown): TemplateDelegate;
}

/** Handlebars' compile options (all of them change the generated code). */
export type CompileOptions = Record<string, unknown>;

/** A compiled template, as `handlebars.compile` returns it. */
export interface TemplateDelegate {
  (context?: unknown, options?: unknown): string;
  _setup?(options: unknown): unknown;
  _child?(...args: unknown[]): unknown;
}

/** True when `value` looks like a Handlebars instance. */
export function isHandlebars(value: unknown): value is HandlebarsInstance {
  const hb = value as Partial<HandlebarsInstance> | null;
  return (
    typeof hb === 'object' &&
    hb !== null &&
    typeof hb.compile === 'function' &&
    typeof hb.precompile === 'function' &&
    typeof hb.template === 'function' &&
    typeof hb.VERSION === 'string'
  );
}
