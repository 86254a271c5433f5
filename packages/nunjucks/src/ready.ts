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

/** The one {@link ReadyTemplate} of a loaded template (concurrent loads share a LoadedTemplate). */
export function readyTemplate(loaded: LoadedTemplate<unknown>): ReadyTemplate {
  let template = ready.get(loaded);
  if (!template) {
    // Only asynchronous caches prefetch, so the scan of the JavaScript waits until one asks (it
    // took ~0.5 ms of 50 warm loads). The string is the one V8 keeps as the script's source.
    const js = loaded.bucket.code?.js ?? '';
    let dependencies: readonly string[] | undefined;
    template = {
      value: loaded.value,
      from: loaded.from,
      codeCache: loaded.codeCache,
      get dependencies() {
        dependencies ??= staticDependencies(js);
        return dependencies;
      },
      persist: loaded.needsCodeCache ? () => loaded.persistCodeCache() : null,
    };
    ready.set(loaded, template);
  }
  return template;
}
