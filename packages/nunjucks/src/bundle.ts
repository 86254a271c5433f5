import { type BytecodeCache, type LoadedTemplate, WorkingSetBundle } from '@bcc/core';
import type { NunjucksTemplateEnvironment } from './environment.js';
import type { LoaderSourceInfo } from './internals.js';
import { lazyReadyTemplate, type ReadyTemplate } from './ready.js';

/** The shape of every template's stored JavaScript (see `NunjucksTemplateEnvironment.compile`). */
const FACTORY_START = '(function () {\n';
const FACTORY_END = '\n})';

/**
 * Nunjucks' working-set bundle (`useBytecodeCache(env, cache, { bundle })`): core's
 * `WorkingSetBundle` (what it keeps, checks and writes is described there), keyed by the file a
 * loader read each template from, serving Nunjucks' `ReadyTemplate`s. A source is vouched for by
 * its file's stamp only when Nunjucks' own `FileSystemLoader` read it (see {@link markVerbatim}).
 */
export class TemplateBundle {
  readonly #bundle: WorkingSetBundle;
  readonly #ready = new Map<number, ReadyTemplate>();
  /** Loader results that are a file's text as Nunjucks' own FileSystemLoader read it. */
  readonly #verbatim = new WeakSet<object>();

  /** `synchronous`: the cache loads and stores synchronously (else through promises). */
  constructor(
    cache: BytecodeCache,
    environment: NunjucksTemplateEnvironment,
    name: string,
    synchronous: boolean,
  ) {
    this.#bundle = new WorkingSetBundle(cache, environment, {
      kind: 'nunjucks',
      name,
      synchronous,
      isMemberCode: (js) => js.startsWith(FACTORY_START) && js.endsWith(FACTORY_END),
    });
  }

  /** Reads the bundle from an asynchronous store, once; {@link serve} answers from it afterwards. */
  ready(): Promise<void> {
    return this.#bundle.ready();
  }

  /**
   * Marks a loader result as a file's text exactly as Nunjucks' `FileSystemLoader` read it from
   * `info.path`: only for such a source does an unchanged file stamp vouch for it.
   */
  markVerbatim(info: LoaderSourceInfo): void {
    this.#verbatim.add(info);
  }

  /** The bundle's template for this source, or `null` when the bundle does not have it as it is now. */
  serve(info: LoaderSourceInfo, source: string): ReadyTemplate | null {
    if (!info.path) return null;
    const member = this.#bundle.serve(info.path, source, this.#verbatim.has(info));
    if (member === null) return null;
    let template = this.#ready.get(member.index);
    if (template === undefined) {
      // What an asynchronous store's prefetch walks on to is read off the member's own source,
      // as V8 keeps it.
      template = lazyReadyTemplate(
        { value: member.value, from: member.from, codeCache: member.codeCache, persist: null },
        member.code,
      );
      this.#ready.set(member.index, template);
    }
    return template;
  }

  /** A template this process loaded on its own: a member of the bundle `flush()` may write. */
  record(info: LoaderSourceInfo, loaded: LoadedTemplate<unknown>): void {
    if (info.path) this.#bundle.record(info.path, loaded);
  }

  /** Stores the bundle when this process has one to give (see `WorkingSetBundle.write`). */
  write(): Promise<void> {
    return this.#bundle.write();
  }
}
