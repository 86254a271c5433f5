import type { EngineTemplate, LoadedTemplate } from '@bcc/core';
import { staticDependencies } from './dependencies.js';

/**
 * What bcc keeps of a loaded template: the function its code evaluates to and where it came
 * from, not the bucket. On a hit, the entry's bytes (JavaScript, V8 code cache, the frame read
 * from the store: ~50-100 KB a template) can be collected once the template is instantiated; an
 * entry that still needs its V8 code cache keeps them only until that write.
 */
export interface ReadyTemplate extends EngineTemplate {
  /** The function the cached code evaluates to; calling it gives `{ root, b_* }`. */
  readonly value: unknown;
  /** Template names the code loads by literal name (for prefetching). */
  readonly dependencies: readonly string[];
}

const ready = new WeakMap<LoadedTemplate<unknown>, ReadyTemplate>();

/**
 * A {@link ReadyTemplate} whose dependencies are scanned from `codeOf()` only when asked: only
 * asynchronous caches prefetch, and the scan took ~0.5 ms of 50 warm loads.
 */
export function lazyReadyTemplate(
  fields: Omit<ReadyTemplate, 'dependencies'>,
  codeOf: () => string,
): ReadyTemplate {
  let dependencies: readonly string[] | undefined;
  return {
    ...fields,
    get dependencies() {
      dependencies ??= staticDependencies(codeOf());
      return dependencies;
    },
  };
}

/** The one {@link ReadyTemplate} of a loaded template (concurrent loads share a LoadedTemplate). */
export function readyTemplate(loaded: LoadedTemplate<unknown>): ReadyTemplate {
  let template = ready.get(loaded);
  if (!template) {
    // The string is the one V8 keeps as the script's source.
    const js = loaded.bucket.code?.js ?? '';
    template = lazyReadyTemplate(
      {
        value: loaded.value,
        from: loaded.from,
        codeCache: loaded.codeCache,
        persist: loaded.needsCodeCache ? () => loaded.persistCodeCache() : null,
      },
      () => js,
    );
    ready.set(loaded, template);
  }
  return template;
}
