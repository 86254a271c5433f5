import type { Bucket, BytecodeCache } from '@bcc/core';
import { NunjucksTemplateEnvironment } from './environment.js';
import type { LoaderSourceInfo, NunjucksEnvironment, NunjucksLoader } from './internals.js';
import { nunjucksModule } from './internals.js';
import { originalGetSource } from './originals.js';

// Not `import … from 'node:fs'`: its ES module facade costs ~2.7 ms of start-up on Node 24.
const { readdirSync } = process.getBuiltinModule('node:fs');
const { join, relative, sep } = process.getBuiltinModule('node:path');

/** Options of {@link warmBytecodeCache}. */
export interface WarmOptions {
  /** Template names to warm. Default: every file under `dirs`. */
  names?: Iterable<string>;
  /**
   * Directories to walk; names are paths relative to them, with `/`. Default: the search paths of
   * the environment's `FileSystemLoader`s.
   */
  dirs?: string | readonly string[];
  /** Only files whose names end with one of these (e.g. `['.njk', '.html']`). Default: every file. */
  extensions?: readonly string[];
  /** Called after each template. */
  onProgress?: (progress: WarmProgress) => void;
  /** Writes in flight at once (default 8). */
  concurrency?: number;
}

/** One step of a warm-up. */
export interface WarmProgress {
  done: number;
  total: number;
  name: string;
  /** `hit`: a valid entry was there already; `compiled`: compiled and stored; `failed`: did not compile; `missing`: no loader found it. */
  status: 'hit' | 'compiled' | 'failed' | 'missing';
  error?: Error;
}

/** What a warm-up did. */
export interface WarmReport {
  total: number;
  hits: number;
  compiled: number;
  failed: { name: string; error: Error }[];
  missing: string[];
}

/** Every file under `dir`, as sorted `/`-separated paths relative to it. */
export function listTemplates(dir: string, extensions?: readonly string[]): string[] {
  const found: string[] = [];
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && (!extensions || extensions.some((ext) => entry.name.endsWith(ext)))) {
        found.push(relative(dir, full).split(sep).join('/'));
      }
    }
  };
  walk(dir);
  return found.sort();
}

/** Every template under `dirs` (default: the search paths of the environment's FileSystemLoaders). */
export function templateNames(
  env: NunjucksEnvironment,
  dirs?: string | readonly string[],
  extensions?: readonly string[],
): string[] {
  const roots =
    dirs === undefined
      ? env.loaders.flatMap((loader) => loader.searchPaths ?? [])
      : typeof dirs === 'string'
        ? [dirs]
        : [...dirs];
  return [...new Set(roots.flatMap((dir) => listTemplates(dir, extensions)))];
}

function loadSource(loader: NunjucksLoader, name: string): Promise<LoaderSourceInfo | null | undefined> {
  const own = originalGetSource(loader);
  if (!own.async) return Promise.resolve(own.getSource.call(own.loader, name));
  return new Promise((resolve, reject) => {
    own.getSource.call(own.loader, name, (error, info) => (error ? reject(error) : resolve(info)));
  });
}

async function findSource(env: NunjucksEnvironment, name: string): Promise<LoaderSourceInfo | null> {
  for (const loader of env.loaders) {
    const info = await loadSource(loader, name);
    if (info) return info;
  }
  return null;
}

/**
 * Compiles and stores every template under the environment's template directories, so a deploy
 * step can fill a shared cache before the first request. Entries already valid for the current
 * source are left alone; they are looked up in one batch (`loadMany`: Redis MGET, memcached
 * pipelining) where the store offers it. Entries hold JavaScript only: V8's code cache is added by
 * the first process that renders each template, on its own runtime.
 */
export async function warmTemplates(
  env: NunjucksEnvironment,
  cache: BytecodeCache,
  environment: NunjucksTemplateEnvironment,
  options: WarmOptions = {},
): Promise<WarmReport> {
  const names = options.names
    ? [...new Set(options.names)]
    : templateNames(env, options.dirs, options.extensions);
  const report: WarmReport = { total: names.length, hits: 0, compiled: 0, failed: [], missing: [] };
  let done = 0;
  const progress = (name: string, status: WarmProgress['status'], error?: Error) => {
    done++;
    options.onProgress?.({ done, total: names.length, name, status, ...(error ? { error } : {}) });
  };

  const found: { name: string; info: LoaderSourceInfo; source: string; bucket: Bucket }[] = [];
  for (const name of names) {
    const info = await findSource(env, name);
    if (!info) {
      report.missing.push(name);
      progress(name, 'missing');
      continue;
    }
    if (typeof info.src !== 'string') {
      // Already compiled code (a PrecompiledLoader): nothing for bcc to store.
      report.hits++;
      progress(name, 'hit');
      continue;
    }
    const key = info.path ?? name;
    found.push({
      name,
      info,
      source: info.src,
      bucket: cache.createBucket(environment, key, info.path ?? null, info.src),
    });
  }

  await cache.loadBuckets(found.map((item) => item.bucket));

  const limit = Math.max(1, options.concurrency ?? 8);
  const writes = new Set<Promise<void>>();
  for (const item of found) {
    if (item.bucket.code) {
      report.hits++;
      progress(item.name, 'hit');
      continue;
    }
    try {
      item.bucket.code = {
        js: environment.compile(item.source, item.info.path ?? item.name, item.info.path),
      };
    } catch (error) {
      const pretty = nunjucksModule.lib._prettifyError(item.info.path, false, error);
      report.failed.push({ name: item.name, error: pretty });
      progress(item.name, 'failed', pretty);
      continue;
    }
    const write: Promise<void> = cache.setBucket(item.bucket).then(() => {
      writes.delete(write);
      report.compiled++;
      progress(item.name, 'compiled');
    });
    writes.add(write);
    if (writes.size >= limit) await Promise.race(writes);
  }
  await Promise.all(writes);
  return report;
}

/**
 * Fills `cache` with every template `env` can load (see {@link WarmOptions}), without rendering
 * anything. Works with or without {@link useBytecodeCache} on the environment, and keys entries
 * exactly as it does.
 *
 * ```js
 * const report = await warmBytecodeCache(env, cache, { onProgress: (p) => console.log(`${p.done}/${p.total} ${p.name}`) });
 * ```
 */
export async function warmBytecodeCache(
  env: unknown,
  cache: BytecodeCache,
  options?: WarmOptions,
): Promise<WarmReport> {
  const nenv = env as NunjucksEnvironment;
  return warmTemplates(nenv, cache, new NunjucksTemplateEnvironment(nenv), options);
}
