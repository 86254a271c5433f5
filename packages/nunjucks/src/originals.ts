import type { NunjucksLoader } from './internals.js';

/** A loader's own `getSource` and `async`, as they were before bcc wrapped them. */
export interface OriginalLoader {
  getSource: NunjucksLoader['getSource'];
  async: boolean | undefined;
}

const originals = new WeakMap<NunjucksLoader, OriginalLoader>();

/** Remembers the loader's own methods before bcc wraps them. */
export function rememberLoader(loader: NunjucksLoader): OriginalLoader {
  const own = { getSource: loader.getSource, async: loader.async };
  originals.set(loader, own);
  return own;
}

/** Puts a wrapped loader back as it was; false when bcc had not wrapped it. */
export function restoreLoader(loader: NunjucksLoader): boolean {
  const own = originals.get(loader);
  if (!own) return false;
  loader.getSource = own.getSource;
  if (own.async === undefined) delete loader.async;
  else loader.async = own.async;
  originals.delete(loader);
  return true;
}

/**
 * The loader's `getSource` as it was before bcc wrapped it: a warm-up reads source without
 * loading templates through the cache.
 */
export function originalGetSource(loader: NunjucksLoader): {
  getSource: NunjucksLoader['getSource'];
  async: boolean;
} {
  const own = originals.get(loader);
  return own
    ? { getSource: own.getSource, async: !!own.async }
    : { getSource: loader.getSource, async: !!loader.async };
}
