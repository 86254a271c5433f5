import type { NunjucksLoader } from './internals.js';

/** A loader as bcc found it: the object, and its own `getSource` and `async`. */
export interface OriginalLoader {
  loader: NunjucksLoader;
  getSource: NunjucksLoader['getSource'];
  async: boolean | undefined;
}

/** bcc's per-environment stand-ins, each mapped to the loader it stands for. */
const standIns = new WeakMap<object, OriginalLoader>();

/**
 * A stand-in for `loader` in one environment's `loaders`: it answers `getSource` (and `async`)
 * with bcc's versions and reads everything else from the loader (its prototype); the state
 * Nunjucks and loaders write (`cache`, events, FileSystemLoader's `pathsToNames`) is forwarded
 * to the loader itself. The loader object is never changed, so one loader shared by several environments
 * gives each of them code compiled with its own options, and Nunjucks' template cache on the
 * loader (`loader.cache`) stays shared exactly as without bcc.
 */
export function standInFor(
  loader: NunjucksLoader,
  getSource: NunjucksLoader['getSource'],
  async: boolean | undefined,
): NunjucksLoader {
  const original: OriginalLoader = { loader, getSource: loader.getSource, async: loader.async };
  // An object whose prototype is the loader, not a Proxy: Nunjucks reads loader properties on
  // every include (a loop of includes makes thousands of reads), and prototype reads stay fast.
  // The properties Nunjucks or a loader writes are forwarded, so the loader keeps one state.
  const forward = (key: string): PropertyDescriptor => ({
    get: () => (loader as unknown as Record<string, unknown>)[key],
    set: (value: unknown) => {
      (loader as unknown as Record<string, unknown>)[key] = value;
    },
    configurable: true,
  });
  const standIn = Object.create(loader, {
    getSource: { value: getSource, writable: true, configurable: true },
    async: { value: async, writable: true, configurable: true },
    cache: forward('cache'),
    _events: forward('_events'),
    pathsToNames: forward('pathsToNames'),
  }) as NunjucksLoader;
  standIns.set(standIn, original);
  return standIn;
}

/** The loader a stand-in stands for, or `undefined` for a loader bcc did not wrap. */
export function originalOf(loader: NunjucksLoader): OriginalLoader | undefined {
  return standIns.get(loader);
}

/**
 * The loader's `getSource` as it was before bcc stood in for it, bound to the loader itself: a
 * warm-up reads source without loading templates through the cache.
 */
export function originalGetSource(loader: NunjucksLoader): {
  getSource: NunjucksLoader['getSource'];
  async: boolean;
  loader: NunjucksLoader;
} {
  const own = standIns.get(loader);
  return own
    ? { getSource: own.getSource, async: !!own.async, loader: own.loader }
    : { getSource: loader.getSource, async: !!loader.async, loader };
}
