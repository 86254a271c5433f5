import {
  BccConfigError,
  type BucketCode,
  type BucketEnvironment,
  type BytecodeCache,
  type CodeCacheState,
  type Instantiated,
  instantiate,
  type LoadedFrom,
  type LoadedTemplate,
  sourceFileChecksum,
} from '@bcc/core';
import type { NunjucksTemplateEnvironment } from './environment.js';
import type { LoaderSourceInfo } from './internals.js';
import { lazyReadyTemplate, type ReadyTemplate } from './ready.js';

/** The bundle's name from the option: `true` is `'default'`; `null` when there is none. */
export function bundleNameOf(option: string | boolean | undefined): string | null {
  if (option === undefined || option === false) return null;
  if (option === true) return 'default';
  if (typeof option !== 'string' || option.length === 0 || option.length > 200) {
    throw new BccConfigError('the bundle option is true, or a name of 1 to 200 characters');
  }
  return option;
}

/** What a bundle entry's checksum is made of: a bundle is checked through its members instead. */
const BUNDLE_SOURCE = 'bcc:nunjucks-bundle:1';
/** No template file has a NUL in its path, so a bundle's key never equals a template's. */
const BUNDLE_FILENAME = '\0bundle';
/**
 * Members a bundle holds at most. A bundle is read by checking every member's file, so an entry
 * listing more (only a store writer could make one) is refused after this many checks.
 */
export const MAX_BUNDLE_MEMBERS = 2_000;
/** The shape of every template's stored JavaScript (see `NunjucksTemplateEnvironment.compile`). */
const FACTORY_START = '(function () {\n';
const FACTORY_END = '\n})';

interface Member {
  readonly path: string;
  readonly checksum: string;
  readonly js: string;
}

interface Loaded {
  readonly fingerprint: string;
  readonly members: ReadonlyMap<string, { readonly checksum: string; readonly index: number }>;
  readonly factories: readonly unknown[];
  /** Kept only while this process may store the bundle again (it had no usable V8 code cache). */
  readonly code: BucketCode | null;
  readonly script: Instantiated<unknown>;
  readonly from: LoadedFrom;
  readonly codeCache: CodeCacheState;
}

/**
 * A working-set bundle (`useBytecodeCache(env, cache, { bundle })`): the templates a process
 * loaded, kept as one entry — one read, one script, one V8 code cache — for the processes after
 * it. Per template, a warm process otherwise reads, decodes and runs one entry as its own script:
 * ~0.2 ms of cold JavaScript each, which is what separated bcc from Nunjucks' precompiled module
 * under `node --no-lazy` (see docs/performance.md).
 *
 * The entry is a normal frame: its JavaScript is an array of the members' code, and its
 * dependencies are the members' files with the checksum each had, so the store's integrity,
 * signature and runtime checks apply, and the bundle is refused as a whole as soon as one
 * member's file changed. A member is served only when the source Nunjucks just read still has
 * that checksum, and only for the environment configuration it was compiled for.
 *
 * Written by `flush()`: with no usable bundle, the templates this process loaded one by one
 * (JavaScript only: V8 has not run them as one script yet); from a bundle that had no usable V8
 * code cache, the same bundle with the cache V8 made while this process rendered from it. A
 * bundle with an accepted V8 code cache is never replaced by a process that merely used it.
 */
export class TemplateBundle {
  readonly #cache: BytecodeCache;
  readonly #environment: NunjucksTemplateEnvironment;
  readonly #name: string;
  readonly #synchronous: boolean;
  #state: Loaded | 'unread' | 'absent' = 'unread';
  #reading: Promise<void> | null = null;
  readonly #recorded = new Map<string, Member>();
  readonly #ready = new Map<number, ReadyTemplate>();
  #served = 0;

  /** `synchronous`: the cache loads and stores synchronously (else through promises). */
  constructor(
    cache: BytecodeCache,
    environment: NunjucksTemplateEnvironment,
    name: string,
    synchronous: boolean,
  ) {
    this.#cache = cache;
    this.#environment = environment;
    this.#name = `bundle:${name}`;
    this.#synchronous = synchronous;
  }

  /** Reads the bundle from an asynchronous store, once; {@link serve} answers from it afterwards. */
  ready(): Promise<void> {
    if (this.#state !== 'unread') return Promise.resolve();
    this.#reading ??= (async () => {
      const fingerprint = this.#environment.fingerprint;
      const bucket = await this.#cache.getBucket(
        this.#bucketEnvironment(fingerprint),
        this.#name,
        BUNDLE_FILENAME,
        BUNDLE_SOURCE,
      );
      if (this.#state === 'unread') this.#state = this.#instantiate(fingerprint, bucket.code) ?? 'absent';
    })().catch((error: unknown) => {
      // A store that throws (ignoreErrors: false) fails this load, not every later one.
      this.#state = 'absent';
      throw error;
    });
    return this.#reading;
  }

  /** The bundle's template for this source, or `null` when the bundle does not have it as it is now. */
  serve(info: LoaderSourceInfo, source: string): ReadyTemplate | null {
    const path = info.path;
    if (!path) return null;
    const loaded = this.#load();
    if (loaded === null || loaded.fingerprint !== this.#environment.fingerprint) return null;
    const member = loaded.members.get(path);
    if (member === undefined || this.#cache.getSourceChecksum(source) !== member.checksum) return null;
    this.#served++;
    let template = this.#ready.get(member.index);
    if (template === undefined) {
      const factory = loaded.factories[member.index] as () => unknown;
      // What an asynchronous store's prefetch walks on to is read off the member's own source,
      // as V8 keeps it.
      template = lazyReadyTemplate(
        { value: factory, from: loaded.from, codeCache: loaded.codeCache, persist: null },
        () => Function.prototype.toString.call(factory),
      );
      this.#ready.set(member.index, template);
    }
    return template;
  }

  /** A template this process loaded on its own: a member of the bundle `flush()` may write. */
  record(info: LoaderSourceInfo, loaded: LoadedTemplate<unknown>): void {
    const path = info.path;
    const code = loaded.bucket.code;
    if (!path || !code || code.dependencies?.length) return;
    if (!code.js.startsWith(FACTORY_START) || !code.js.endsWith(FACTORY_END)) return;
    this.#recorded.delete(path);
    this.#recorded.set(path, { path, checksum: loaded.bucket.checksum, js: code.js });
  }

  /** Stores the bundle when this process has one to give (see the class comment). */
  async write(): Promise<void> {
    const state = this.#state;
    if (typeof state === 'object') {
      if (state.code === null || this.#served === 0) return;
      if (state.fingerprint !== this.#environment.fingerprint) return;
      await this.#store(state.fingerprint, { ...state.code, v8: state.script.createCodeCache() });
      return;
    }
    const checksumOf = this.#cache.checksumOf;
    // Only members whose file holds the source the loader gave: a bundle of anything else would
    // be refused by every process that reads it.
    const members = [...this.#recorded.values()]
      .filter((member) => sourceFileChecksum(member.path, checksumOf) === member.checksum)
      .slice(0, MAX_BUNDLE_MEMBERS);
    if (members.length === 0) return;
    await this.#store(this.#environment.fingerprint, {
      js: `[\n${members.map((member) => member.js).join(',\n')}\n]`,
      dependencies: members.map((member) => ({ name: member.path, checksum: member.checksum })),
    });
  }

  #bucketEnvironment(fingerprint: string): BucketEnvironment {
    let checked = 0;
    return {
      fingerprint,
      engine: this.#environment.engine,
      dependencyChecksum: (path, checksumOf) =>
        ++checked > MAX_BUNDLE_MEMBERS ? undefined : sourceFileChecksum(path, checksumOf),
    };
  }

  async #store(fingerprint: string, code: BucketCode): Promise<void> {
    const bucket = this.#cache.createBucket(
      this.#bucketEnvironment(fingerprint),
      this.#name,
      BUNDLE_FILENAME,
      BUNDLE_SOURCE,
    );
    bucket.code = code;
    if (this.#synchronous) this.#cache.setBucketSync(bucket);
    else await this.#cache.setBucket(bucket);
  }

  /**
   * The bundle: read now from a synchronous store at the first template load, or what
   * {@link ready} read from an asynchronous one (nothing before it has); `null` when none is usable.
   */
  #load(): Loaded | null {
    if (this.#state === 'unread' && this.#synchronous) {
      this.#state = 'absent';
      const fingerprint = this.#environment.fingerprint;
      const bucket = this.#cache.getBucketSync(
        this.#bucketEnvironment(fingerprint),
        this.#name,
        BUNDLE_FILENAME,
        BUNDLE_SOURCE,
      );
      this.#state = this.#instantiate(fingerprint, bucket.code) ?? 'absent';
    }
    return typeof this.#state === 'object' ? this.#state : null;
  }

  /** Runs a bundle's script; `null` when there is none, or it is not an array of templates. */
  #instantiate(fingerprint: string, code: BucketCode | null): Loaded | null {
    const dependencies = code?.dependencies;
    if (!code || !dependencies || dependencies.length === 0) return null;
    let script: Instantiated<unknown>;
    try {
      script = instantiate(code, { filename: `bcc-${this.#name}` });
    } catch {
      return null;
    }
    const factories = script.value;
    if (
      !Array.isArray(factories) ||
      factories.length !== dependencies.length ||
      !factories.every((factory) => typeof factory === 'function')
    ) {
      return null;
    }
    const members = new Map(
      dependencies.map((member, index) => [member.name, { checksum: member.checksum, index }] as const),
    );
    return {
      fingerprint,
      members,
      factories,
      // With V8's code accepted there is nothing to store again: the entry's bytes can go.
      code: script.codeCache === 'accepted' ? null : code,
      script,
      from: code.v8 ? 'cache+v8' : 'cache',
      codeCache: script.codeCache,
    };
  }
}
