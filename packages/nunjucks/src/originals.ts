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
 * with bcc's versions and forwards everything else, reads and writes alike, to the loader
 * itself. The loader object is never changed, so one loader shared by several environments
 * gives each of them code compiled with its own options, and Nunjucks' template cache on the
 * loader (`loader.cache`) stays shared exactly as without bcc.
 */
export function standInFor(
  loader: NunjucksLoader,
  getSource: NunjucksLoader['getSource'],
  async: boolean | undefined,
): NunjucksLoader {
  const original: OriginalLoader = { loader, getSource: loader.getSource, async: loader.async };
  const standIn = new Proxy(loader, {
    get(target, property) {
      if (property === 'getSource') return getSource;
      if (property === 'async') return async;
      return Reflect.get(target, property, target);
    },
    set(target, property, value) {
      return Reflect.set(target, property, value, target);
    },
  });
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
