import type { BucketCode, BucketEnvironment } from './bucket.js';
import type { BytecodeCache } from './cache.js';
import type { LoadedFrom, LoadedTemplate } from './compile.js';
import type { EngineTemplate } from './engine.js';
import { BccConfigError } from './errors.js';
import { type CodeCacheState, type Instantiated, instantiate } from './runtime.js';
import { fileStamp, stampedSourceChecksum } from './source-file.js';

/** The bundle's name from an integration's `bundle` option: `true` is `'default'`; `null` when there is none. */
export function bundleNameOf(option: unknown): string | null {
  if (option === undefined || option === false) return null;
  if (option === true) return 'default';
  if (typeof option !== 'string' || option.length === 0 || option.length > 200) {
    throw new BccConfigError('the bundle option is true, or a name of 1 to 200 characters');
  }
  return option;
}

/** No template file has a NUL in its path, so a bundle's key never equals a template's. */
const BUNDLE_FILENAME = '\0bundle';
/** Members a bundle holds at most; an entry listing more (only a store writer could make one) is ignored. */
export const MAX_BUNDLE_MEMBERS = 2_000;

/** How an engine integration makes its {@link WorkingSetBundle}. */
export interface WorkingSetBundleOptions {
  /**
   * The engine, in the text the bundle's checksum is made of (`bcc:<kind>-bundle:2`): bundles of
   * two engines never answer for each other.
   */
  readonly kind: string;
  /** The bundle's name (see {@link bundleNameOf}); its key is that of the template `bundle:<name>`. */
  readonly name: string;
  /** The cache loads and stores synchronously (else through promises, after {@link WorkingSetBundle.ready}). */
  readonly synchronous: boolean;
  /**
   * Whether a template's stored JavaScript can be a member: one function expression, as the
   * engine's compiler writes it. Anything else (another writer's entry) is left out of bundles.
   */
  isMemberCode(js: string): boolean;
}

/** A template served from a bundle: what its code evaluated to, counted like any loaded template. */
export interface BundleMember extends EngineTemplate {
  /** The member's position in the bundle. */
  readonly index: number;
  /** The value of the member's code (the function the engine's compiler wrote). */
  readonly value: unknown;
  /** The member's code as V8 keeps it (`Function.prototype.toString`), for engines that scan it. */
  code(): string;
}

interface Member {
  readonly path: string;
  readonly checksum: string;
  readonly js: string;
}

/** A member for the next bundle; `stamp`, when given, is one its file was just seen to have. */
interface Candidate extends Member {
  readonly stamp?: string | null | undefined;
}

/** A member as a bundle lists it: its file, the checksum of its source, the file's stamp then. */
type Listed = readonly [path: string, checksum: string, stamp: string | null];

interface Loaded {
  readonly fingerprint: string;
  readonly members: ReadonlyMap<
    string,
    { readonly checksum: string; readonly stamp: string | null; readonly index: number }
  >;
  readonly values: readonly unknown[];
  /** Kept only while this process may store the bundle again (it had no usable V8 code cache). */
  readonly code: BucketCode | null;
  readonly script: Instantiated<unknown>;
  readonly from: LoadedFrom;
  readonly codeCache: CodeCacheState;
}

/**
 * A working-set bundle (an engine integration's `bundle` option): the templates a process loaded,
 * kept as one entry — one read, one script, one V8 code cache — for the processes after it. Per
 * template, a warm process otherwise reads, decodes and runs one entry as its own script, and
 * hashes its source: for 50 templates ~0.2 ms of cold JavaScript each, and the import of
 * `node:crypto` (see docs/performance.md).
 *
 * The entry is a normal frame (the store's integrity, signature and runtime checks apply); its
 * JavaScript lists the members — file, checksum of the source, and the file's stamp when that
 * checksum was taken ({@link stampedSourceChecksum}) — and holds their code. A member is served
 * only for the environment configuration it was compiled for, and only while the source the
 * engine just read is the one it was compiled from: its file still has the stamp (one `stat`:
 * any write sets a new ctime, which no user can set back), for a source the integration knows to
 * be the file's text as read (`verbatim`); otherwise the source's checksum is compared. A member
 * whose source changed is not served: that template loads on its own, and {@link write} writes a
 * new bundle.
 *
 * Written by {@link write} (an integration's `flush()`): with no usable bundle, the templates
 * this process loaded one by one (JavaScript only: V8 has not run them as one script yet); from a
 * bundle that had no usable V8 code cache, the same bundle with the cache V8 made while this
 * process rendered from it; from a bundle with a changed member, its other members whose files
 * are unchanged plus what this process loaded on its own (JavaScript only again). A bundle with
 * an accepted V8 code cache is never replaced by a process that merely used it.
 */
export class WorkingSetBundle {
  readonly #cache: BytecodeCache;
  readonly #environment: { readonly fingerprint: string; readonly engine?: string | undefined };
  readonly #options: WorkingSetBundleOptions;
  readonly #key: string;
  readonly #source: string;
  #state: Loaded | 'unread' | 'absent' = 'unread';
  #reading: Promise<void> | null = null;
  readonly #recorded = new Map<string, Member>();
  readonly #served = new Map<number, BundleMember>();
  /** A member was refused: its source changed since the bundle was written. */
  #stale = false;

  /** `environment`: read for its fingerprint each time (it follows the engine's configuration). */
  constructor(
    cache: BytecodeCache,
    environment: { readonly fingerprint: string; readonly engine?: string | undefined },
    options: WorkingSetBundleOptions,
  ) {
    this.#cache = cache;
    this.#environment = environment;
    this.#options = options;
    this.#key = `bundle:${options.name}`;
    // Version 2: the members' list (path, checksum, file stamp) is in the JavaScript, checked
    // member by member when served (version 1, Nunjucks only, listed them as frame dependencies).
    this.#source = `bcc:${options.kind}-bundle:2`;
  }

  /** Reads the bundle from an asynchronous store, once; {@link serve} answers from it afterwards. */
  ready(): Promise<void> {
    if (this.#state !== 'unread') return Promise.resolve();
    this.#reading ??= (async () => {
      const fingerprint = this.#environment.fingerprint;
      const bucket = await this.#cache.getBucket(
        this.#bucketEnvironment(fingerprint),
        this.#key,
        BUNDLE_FILENAME,
        this.#source,
      );
      if (this.#state === 'unread') this.#state = this.#instantiate(fingerprint, bucket.code) ?? 'absent';
    })().catch((error: unknown) => {
      // A store that throws (ignoreErrors: false) fails this load, not every later one.
      this.#state = 'absent';
      throw error;
    });
    return this.#reading;
  }

  /**
   * The bundle's template for the file at `path` whose text the engine read as `source`, or
   * `null` when the bundle does not have it as it is now. `verbatim`: `source` is the file's text
   * exactly as read from `path` just now, so an unchanged stamp vouches for it.
   */
  serve(path: string, source: string, verbatim: boolean): BundleMember | null {
    const loaded = this.#load();
    if (loaded === null || loaded.fingerprint !== this.#environment.fingerprint) return null;
    const member = loaded.members.get(path);
    if (member === undefined) return null;
    // The stamp is taken after the engine read the file: unchanged since the bundle was written
    // means what was read is what the member was compiled from.
    const unchanged =
      (verbatim && stampHolds(path, member.stamp)) ||
      this.#cache.getSourceChecksum(source) === member.checksum;
    if (!unchanged) {
      this.#stale = true;
      return null;
    }
    let served = this.#served.get(member.index);
    if (served === undefined) {
      const value = loaded.values[member.index];
      served = {
        index: member.index,
        value,
        from: loaded.from,
        codeCache: loaded.codeCache,
        persist: null,
        code: () => Function.prototype.toString.call(value),
      };
      this.#served.set(member.index, served);
    }
    return served;
  }

  /** A template this process loaded on its own, from the file at `path`: a member of the bundle {@link write} may store. */
  record(path: string, loaded: LoadedTemplate<unknown>): void {
    const code = loaded.bucket.code;
    if (!code || code.dependencies?.length || !this.#options.isMemberCode(code.js)) return;
    this.#recorded.delete(path);
    this.#recorded.set(path, { path, checksum: loaded.bucket.checksum, js: code.js });
  }

  /** Stores the bundle when this process has one to give (see the class comment). */
  async write(): Promise<void> {
    const state = this.#state;
    if (typeof state === 'object') {
      if (state.fingerprint !== this.#environment.fingerprint) return;
      if (this.#stale) {
        // The members it still has right, then what this process loaded on its own. Served
        // members were checked against the source their engine read; one not served this time
        // is kept only while its file has the listed stamp (a stat: no file a store writer
        // named is read to decide).
        const kept: Candidate[] = [];
        for (const [path, member] of state.members) {
          const served = this.#served.has(member.index);
          if (!served && !stampHolds(path, member.stamp)) continue;
          const js = `(${Function.prototype.toString.call(state.values[member.index])})`;
          kept.push({ path, checksum: member.checksum, js, stamp: served ? undefined : member.stamp });
        }
        await this.#storeMembers([...kept, ...this.#recorded.values()]);
        return;
      }
      if (state.code === null || this.#served.size === 0) return;
      await this.#store(state.fingerprint, { ...state.code, v8: state.script.createCodeCache() });
      return;
    }
    await this.#storeMembers([...this.#recorded.values()]);
  }

  /**
   * Stores a JavaScript-only bundle of the members whose file holds, now, the source they were
   * compiled from (a member whose file does not would never be served), each with its file's
   * stamp: read and hashed here, unless the candidate comes with a stamp its file still has.
   */
  async #storeMembers(candidates: readonly Candidate[]): Promise<void> {
    const checksumOf = this.#cache.checksumOf;
    const byPath = new Map(candidates.map((member) => [member.path, member]));
    const listed: Listed[] = [];
    const code: string[] = [];
    for (const member of byPath.values()) {
      if (listed.length === MAX_BUNDLE_MEMBERS) break;
      let stamp = member.stamp;
      if (stamp === undefined) {
        const file = stampedSourceChecksum(member.path, checksumOf);
        if (file?.checksum !== member.checksum) continue;
        stamp = file.stamp;
      }
      listed.push([member.path, member.checksum, stamp]);
      code.push(member.js);
    }
    if (listed.length === 0) return;
    await this.#store(this.#environment.fingerprint, {
      js: `({\nmembers: ${JSON.stringify(listed)},\ntemplates: [\n${code.join(',\n')}\n]\n})`,
    });
  }

  #bucketEnvironment(fingerprint: string): BucketEnvironment {
    return { fingerprint, engine: this.#environment.engine };
  }

  async #store(fingerprint: string, code: BucketCode): Promise<void> {
    const bucket = this.#cache.createBucket(
      this.#bucketEnvironment(fingerprint),
      this.#key,
      BUNDLE_FILENAME,
      this.#source,
    );
    bucket.code = code;
    if (this.#options.synchronous) this.#cache.setBucketSync(bucket);
    else await this.#cache.setBucket(bucket);
  }

  /**
   * The bundle: read now from a synchronous store at the first template load, or what
   * {@link ready} read from an asynchronous one (nothing before it has); `null` when none is usable.
   */
  #load(): Loaded | null {
    if (this.#state === 'unread' && this.#options.synchronous) {
      this.#state = 'absent';
      const fingerprint = this.#environment.fingerprint;
      const bucket = this.#cache.getBucketSync(
        this.#bucketEnvironment(fingerprint),
        this.#key,
        BUNDLE_FILENAME,
        this.#source,
      );
      this.#state = this.#instantiate(fingerprint, bucket.code) ?? 'absent';
    }
    return typeof this.#state === 'object' ? this.#state : null;
  }

  /** Runs a bundle's script; `null` when there is none, or it is not what {@link write} stores. */
  #instantiate(fingerprint: string, code: BucketCode | null): Loaded | null {
    if (!code || code.dependencies?.length) return null;
    let script: Instantiated<unknown>;
    try {
      script = instantiate(code, { filename: `bcc-${this.#key}` });
    } catch {
      return null;
    }
    let listed: unknown;
    let values: unknown;
    try {
      const value = script.value as { members?: unknown; templates?: unknown } | null | undefined;
      listed = value?.members;
      values = value?.templates;
    } catch {
      return null; // a getter that throws: not what write() stores
    }
    if (
      !Array.isArray(listed) ||
      !Array.isArray(values) ||
      listed.length === 0 ||
      listed.length > MAX_BUNDLE_MEMBERS ||
      values.length !== listed.length ||
      !listed.every(isListed) ||
      !values.every((value) => typeof value === 'function')
    ) {
      return null;
    }
    const members = new Map(
      (listed as Listed[]).map(
        ([path, checksum, stamp], index) => [path, { checksum, stamp, index }] as const,
      ),
    );
    return {
      fingerprint,
      members,
      values,
      // With V8's code accepted there is nothing to store again: the entry's bytes can go.
      code: script.codeCache === 'accepted' ? null : code,
      script,
      from: code.v8 ? 'cache+v8' : 'cache',
      codeCache: script.codeCache,
    };
  }
}

/** The file at `path` still has the listed stamp (`null`: none was recorded, so it cannot). */
function stampHolds(path: string, stamp: string | null): boolean {
  return stamp !== null && fileStamp(path) === stamp;
}

function isListed(value: unknown): value is Listed {
  return (
    Array.isArray(value) &&
    value.length === 3 &&
    typeof value[0] === 'string' &&
    typeof value[1] === 'string' &&
    (value[2] === null || typeof value[2] === 'string')
  );
}
