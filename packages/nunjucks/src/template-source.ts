import type { LoaderSourceInfo } from './internals.js';

/** The template's source text, or null when the loader already handed over code. */
export function sourceOf(info: LoaderSourceInfo): string | null {
  if (typeof info.src === 'string') return info.src;
  if (info.src && info.src.type === 'string' && typeof info.src.obj === 'string') return info.src.obj;
  return null;
}

export function templateOf(info: LoaderSourceInfo, name: string, source: string) {
  return {
    // The key follows the file, not the name it was asked by: "./a.njk" from one template and
    // "a.njk" from another are the same entry, and a warm-up can find it.
    name: info.path ?? name,
    filename: info.path ?? null,
    source,
  };
}
