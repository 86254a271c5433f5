const { createRequire } = process.getBuiltinModule('node:module');

/**
 * The parts of Nunjucks 3 that bcc touches and `@types/nunjucks` leaves out. Nunjucks has no
 * public hook for a compile cache, so bcc works at the one seam it does have: a loader may hand
 * over `{ type: 'code', obj }` (what `PrecompiledLoader` does) instead of template source.
 */

/** What a loader's `getSource` returns. `src` is source text, or precompiled code. */
export interface LoaderSourceInfo {
  src: string | { type: 'code'; obj: TemplateProps } | { type: 'string'; obj: string };
  path?: string;
  noCache?: boolean;
  [extra: string]: unknown;
}

export type SourceCallback = (error: Error | null, info?: LoaderSourceInfo | null) => void;

/** A Nunjucks loader instance, sync (`getSource(name)`) or async (`async: true`, callback). */
export interface NunjucksLoader {
  async?: boolean;
  cache?: Record<string, unknown>;
  searchPaths?: string[];
  getSource(name: string, callback?: SourceCallback): LoaderSourceInfo | null | undefined;
}

/** A render function as Nunjucks' compiler emits it (`root` and the `b_<block>` functions). */
export type RenderFunction = (
  env: unknown,
  context: unknown,
  frame: unknown,
  runtime: unknown,
  cb: (error: unknown, result?: unknown) => void,
) => unknown;

/** What a compiled template's code returns: `{ root, b_header, ... }`. */
export interface TemplateProps {
  root: RenderFunction;
  [block: string]: RenderFunction;
}

/** A Nunjucks extension: its tags and parse function decide the generated code. */
export interface NunjucksExtension {
  __name?: string;
  tags?: string[];
  parse?: (...args: unknown[]) => unknown;
  preprocess?: (source: string) => string;
  /** The extension's own statement of its identity for bcc's cache keys (see the README). */
  cacheKey?: string | (() => string);
}

/** The options Nunjucks keeps on an environment (`env.opts`). */
export interface NunjucksOptions {
  autoescape?: boolean;
  throwOnUndefined?: boolean;
  trimBlocks?: boolean;
  lstripBlocks?: boolean;
  dev?: boolean;
  tags?: Record<string, string | undefined>;
  [other: string]: unknown;
}

/** A `nunjucks.Environment` as bcc sees it. */
export interface NunjucksEnvironment {
  opts: NunjucksOptions;
  loaders: NunjucksLoader[];
  asyncFilters: string[];
  extensionsList: NunjucksExtension[];
  render(
    name: string,
    context?: object | null,
    callback?: (error: Error | null, result?: string) => void,
  ): unknown;
  getTemplate?(name: string, eagerCompile?: boolean): unknown;
  resolveTemplate?(loader: NunjucksLoader, parentName: string | null, name: string): string;
}

interface NunjucksModule {
  compiler: {
    compile(
      source: string,
      asyncFilters: string[],
      extensions: NunjucksExtension[],
      name: string | undefined,
      opts: NunjucksOptions,
    ): string;
    Compiler: { prototype: Record<string, unknown> };
  };
  parser: { Parser: { prototype: Record<string, unknown> } };
  FileSystemLoader: { prototype: { getSource: unknown } };
  lib: { _prettifyError(path: string | undefined, withInternals: boolean, error: unknown): Error };
}

const require = createRequire(import.meta.url);

/** The Nunjucks module bcc compiles with: the peer dependency, the same copy the app requires. */
export const nunjucksModule = require('nunjucks') as NunjucksModule;

/**
 * `FileSystemLoader.prototype.getSource` as it was when bcc was imported: a loader using it
 * returns a file's text as read (see TemplateBundle.markVerbatim). Taken now, so that a later
 * patch of the prototype (a preprocessor, say) is not mistaken for it.
 */
export const fileSystemGetSource = nunjucksModule.FileSystemLoader.prototype.getSource;

/** The installed Nunjucks version; part of every fingerprint. */
export const nunjucksVersion: string = (require('nunjucks/package.json') as { version: string }).version;
