import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  BccConfigError,
  type BytecodeCache,
  createBytecodeCacheFromEnv,
  cwdBase,
  type EngineStats,
  isBytecodeCache,
  isDisabledCache,
  resolveImport,
} from '@bcc/core';
import fastifyView, { type FastifyViewOptions } from '@fastify/view';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** The engines bcc serves under `@fastify/view`, by `@fastify/view`'s engine key. */
export const SUPPORTED_ENGINES = ['nunjucks', 'handlebars', 'pug', 'eta'] as const;
type EngineKey = (typeof SUPPORTED_ENGINES)[number];

const INTEGRATIONS: Record<EngineKey, string> = {
  nunjucks: '@bcc/nunjucks',
  handlebars: '@bcc/handlebars',
  pug: '@bcc/pug',
  eta: '@bcc/eta',
};

const EXTENSIONS: Record<EngineKey, string> = {
  nunjucks: '.njk',
  handlebars: '.hbs',
  pug: '.pug',
  eta: '.eta',
};

/** bcc's part of the registration options. */
export interface BccOptions {
  /** The cache. Default: `BCC_CACHE` (and `BCC_SECRET`), else the filesystem default (`file:`). */
  cache?: BytecodeCache;
  /**
   * Load every template under `templates` through the cache in `onReady`. `'auto'` (default):
   * only when the store is asynchronous (Redis, S3), which Handlebars', Pug's and Eta's
   * synchronous compiles need for hits; `true`: always (moves loading out of the first
   * requests); `false`: never.
   */
  preload?: boolean | 'auto';
  /** Store V8's code cache after a template's first render (default `true`). */
  codeCache?: boolean;
  /** Extension of the templates to preload (default: `@fastify/view`'s for the engine, e.g. `.njk`). */
  extension?: string;
  /**
   * Nunjucks and Eta: keep the templates the server loads as one working-set bundle as well, under
   * this name (`true`: `'default'`), written when the server closes (see the engine's `bundle`
   * option). The next processes read it as one entry with one V8 code cache. Default: none.
   */
  bundle?: string | boolean;
}

/** Registration options: `@fastify/view`'s own, plus `bcc` (`false` turns bcc off). */
export type BccViewOptions = FastifyViewOptions & { bcc?: BccOptions | false };

/** What `fastify.bcc` holds. */
export interface FastifyBcc {
  readonly cache: BytecodeCache;
  /** The engine integration's counters (compiled, from the cache, code caches stored, …). */
  readonly stats: EngineStats;
  /** `'sync'` or `'async'` (asynchronous store: templates come from the cache once preloaded). */
  readonly mode: 'sync' | 'async';
  /** What the `onReady` preload did, once it ran. */
  preloaded: { templates: number; failed: { name: string; error: Error }[] } | null;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** bcc under `@fastify/view` (registered by `@bcc/fastify`); `null` when bcc is off. */
    bcc: FastifyBcc | null;
  }
}

/** What every engine integration's handle has. */
interface Handle {
  readonly stats: EngineStats;
  readonly mode: 'sync' | 'async';
  flush(): Promise<void>;
  dispose(): void;
  preload?(...args: unknown[]): Promise<unknown>;
}

type UseBytecodeCache = (engine: unknown, cache: BytecodeCache, options?: object) => Handle;

/**
 * Imports an engine integration (an optional peer): as the app resolves it, else from here.
 * Asking for an engine whose integration is missing says what to install.
 */
async function integration(engine: EngineKey): Promise<UseBytecodeCache> {
  const name = INTEGRATIONS[engine];
  const url = resolveImport(name, [cwdBase(), import.meta.url]);
  if (!url)
    throw new BccConfigError(`@bcc/fastify serves ${engine} templates through ${name}: npm install ${name}`);
  return ((await import(url)) as { useBytecodeCache: UseBytecodeCache }).useBytecodeCache;
}

/** Template files under the view directories, relative to their directory (as routes name them). */
function templatesUnder(dirs: readonly string[], extension: string): { dir: string; name: string }[] {
  const found: { dir: string; name: string }[] = [];
  const walk = (dir: string, prefix: string) => {
    for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
      const name = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(dir, name);
      else if (entry.isFile() && entry.name.endsWith(extension)) found.push({ dir, name });
    }
  };
  for (const dir of dirs) walk(dir, '');
  return found.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Loads every template through the cache ahead of the first request, the way `@fastify/view`
 * will compile it: Nunjucks by name (its loader), Handlebars by source with
 * `options.compileOptions`, Pug by file with `options`, Eta by its resolved path.
 */
async function preloadTemplates(
  engine: EngineKey,
  handle: Handle,
  dirs: readonly string[],
  extension: string,
  viewOptions: Record<string, unknown>,
): Promise<NonNullable<FastifyBcc['preloaded']>> {
  const templates = templatesUnder(dirs, extension);
  const failed: { name: string; error: Error }[] = [];
  if (engine === 'nunjucks') {
    await handle.preload?.({ names: templates.map((t) => t.name) });
    return { templates: templates.length, failed };
  }
  for (const { dir, name } of templates) {
    const file = join(dir, name);
    let report: { failed?: { error: Error }[] } | undefined;
    if (engine === 'handlebars') {
      report = (await handle.preload?.(
        [readFileSync(file, 'utf8')],
        viewOptions.compileOptions,
      )) as typeof report;
    } else if (engine === 'pug') {
      report = (await handle.preload?.([file], viewOptions)) as typeof report;
    } else {
      report = (await handle.preload?.([readFileSync(file, 'utf8')], { filepath: file })) as typeof report;
    }
    for (const failure of report?.failed ?? []) failed.push({ name, error: failure.error });
  }
  return { templates: templates.length, failed };
}

async function bccView(fastify: FastifyInstance, options: BccViewOptions): Promise<void> {
  const { bcc, ...viewOptions } = options;
  const type = Object.keys(viewOptions.engine ?? {})[0];
  if (bcc === false) {
    fastify.decorate('bcc', null);
    await fastify.register(fastifyView, viewOptions);
    return;
  }
  if (!(SUPPORTED_ENGINES as readonly string[]).includes(type ?? '')) {
    throw new BccConfigError(
      `@bcc/fastify serves ${SUPPORTED_ENGINES.join(', ')} templates; got engine ${JSON.stringify(type)}. Register @fastify/view directly for it, or pass bcc: false`,
    );
  }
  const engineKey = type as EngineKey;
  const given = bcc?.cache;
  if (given !== undefined && !isBytecodeCache(given)) {
    throw new BccConfigError('bcc.cache must be a bcc cache (e.g. new FileSystemBytecodeCache())');
  }
  const cache = given ?? (await createBytecodeCacheFromEnv({ fallback: 'file:' }));
  const ownsCache = given === undefined;
  if (isDisabledCache(cache)) {
    // BCC_CACHE=none: @fastify/view as without bcc.
    fastify.decorate('bcc', null);
    await fastify.register(fastifyView, viewOptions);
    return;
  }
  const bundle = bcc?.bundle;
  if (bundle !== undefined && bundle !== false && engineKey !== 'nunjucks' && engineKey !== 'eta') {
    throw new BccConfigError(
      `bcc.bundle is for Nunjucks and Eta templates; ${engineKey} has no working-set bundle (remove the option)`,
    );
  }
  const useBytecodeCache = await integration(engineKey);
  const installOptions = {
    codeCache: bcc?.codeCache ?? true,
    onError: (error: Error) => fastify.log.warn(error),
    ...(bundle !== undefined ? { bundle } : {}),
  };
  const engines = viewOptions.engine as Record<string, unknown>;
  let handle: Handle | null = null;
  let registered = viewOptions;
  if (engineKey === 'nunjucks') {
    // @fastify/view makes the Nunjucks environment itself: install bcc on it as it is made.
    const global = (viewOptions.options ?? {}) as { onConfigure?: (env: unknown) => void };
    const onConfigure = (env: unknown) => {
      handle = useBytecodeCache(env, cache, installOptions);
      global.onConfigure?.(env);
    };
    registered = { ...viewOptions, options: { ...global, onConfigure } };
  } else {
    handle = useBytecodeCache(await engines[engineKey], cache, installOptions);
  }
  await fastify.register(fastifyView, registered);
  const installed = handle as Handle | null;
  if (!installed) throw new BccConfigError('@fastify/view did not configure a Nunjucks environment');
  const decoration: FastifyBcc = { cache, stats: installed.stats, mode: installed.mode, preloaded: null };
  fastify.decorate('bcc', decoration);

  const preload = bcc?.preload ?? 'auto';
  if (preload === true || (preload === 'auto' && installed.mode === 'async')) {
    fastify.addHook('onReady', async () => {
      const dirs = ([] as string[])
        .concat(viewOptions.root ?? viewOptions.templates ?? './')
        .map((dir) => resolve(dir));
      const extension =
        bcc?.extension ?? (viewOptions.viewExt ? `.${viewOptions.viewExt}` : EXTENSIONS[engineKey]);
      decoration.preloaded = await preloadTemplates(
        engineKey,
        installed,
        dirs,
        extension,
        (viewOptions.options ?? {}) as Record<string, unknown>,
      );
      for (const failure of decoration.preloaded.failed)
        fastify.log.warn(`bcc: ${failure.name} did not compile: ${failure.error.message}`);
    });
  }
  fastify.addHook('onClose', async () => {
    await installed.flush().catch(() => {});
    installed.dispose();
    if (ownsCache) await cache.close();
  });
}

/**
 * `@fastify/view` with bcc under it, for Nunjucks, Handlebars, Pug and Eta. Register it with
 * `@fastify/view`'s options (it registers `@fastify/view` itself) and, optionally, `bcc`:
 *
 * ```js
 * import Fastify from 'fastify';
 * import nunjucks from 'nunjucks';
 * import bccView from '@bcc/fastify';
 *
 * const app = Fastify();
 * await app.register(bccView, { engine: { nunjucks }, templates: 'views' }); // cache: BCC_CACHE or file:
 * app.get('/', (req, reply) => reply.view('page.njk', { name: 'Ada' }));
 * ```
 *
 * The cache comes from `bcc.cache`, else `BCC_CACHE`, else the filesystem default. With an
 * asynchronous store, templates are preloaded in `onReady`; the cache is closed in `onClose`
 * (when the plugin made it); `fastify.bcc` has the cache and the counters. `bcc: false` (or
 * `BCC_CACHE=none`) registers `@fastify/view` as without bcc.
 */
export const fastifyBcc = fp(bccView, { fastify: '5.x', name: '@bcc/fastify', decorators: {} });
