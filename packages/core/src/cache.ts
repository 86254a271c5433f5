import { CircuitBreaker, type CircuitBreakerOptions, skippedCallError } from './breaker.js';
import { Bucket, type BucketEnvironment } from './bucket.js';
import { sha256Hex } from './digest.js';
import {
  BccBackendError,
  BccConfigError,
  BccRejectedEntryError,
  BccUnsupportedError,
  isBccError,
} from './errors.js';
import { normalizeSecrets, type RejectReason, type SecretInput } from './format.js';
import { type CacheStats, emptyStats } from './stats.js';
import { describeLoad, type LoadTraceContext, type StoreTraceContext, traceChannels } from './trace.js';

/** One entry as a store lists it (see {@link BytecodeCache.listEntries}). */
export interface StoredEntry {
  /** The entry key (`getCacheKey`'s result). */
  key: string;
  /** Bytes stored. */
  size: number;
  /** When the store last wrote it, when the store knows. */
  modified?: Date;
}

/** What was going on when a cache reported an error. */
export interface ErrorContext {
  /** `'background'`: work no caller waits for (a refresh, a write-back), reported only. */
  operation: 'load' | 'dump' | 'clear' | 'loadMany' | 'background';
  key?: string;
  /** The template the entry is for, when the bucket knows it (the key is a hash). */
  name?: string;
}

/** Options every cache accepts. */
export interface BytecodeCacheOptions {
  /**
   * Sign entries with HMAC-SHA256 and refuse unsigned or forged ones. A list rotates keys: the
   * first signs, any verifies. Without a secret, whoever can write the store can run code here.
   */
  secret?: SecretInput | readonly SecretInput[];
  /**
   * `true` (default): backend errors become a miss on load and a skipped write on dump, and are
   * only reported through `onError`. `false`: they reject with a `BccBackendError`.
   */
  ignoreErrors?: boolean;
  /**
   * Called for every backend error and every entry refused for its signature. Must not throw.
   * Without it, the first store failure and the first suspicious refusal of the process are
   * each announced once with `process.emitWarning` (codes `BCC_STORE_FAILED`,
   * `BCC_ENTRY_REJECTED`).
   */
  onError?: (error: Error, context: ErrorContext) => void;
  /**
   * After a store failure (down, timeout, refused), skip the store for a back-off period
   * instead of paying a timeout on every call: loads miss and writes are skipped at once, then
   * one probe call decides whether to resume. Default on (`{ backoff: 1000, maxBackoff:
   * 30000 }`); `false` turns it off.
   */
  breaker?: CircuitBreakerOptions | false;
}

/** What was announced with process.emitWarning already: once per process, per kind and store. */
const warned = new Set<string>();

// Rejections that point at someone writing to the store, not at bit rot or a changed template:
// these are reported through onError as well as counted.
const REPORTED_REJECTIONS: Partial<Record<RejectReason, string>> = {
  unsigned: 'it is not signed; someone without the secret wrote to the store',
  signature: 'its signature does not match; someone without the secret wrote to the store',
  key: 'it was written for another key; the store holds an entry copied or written under the wrong name',
};

/** Why a refused entry deserves a report, or `undefined` when counting it is enough. */
export function rejectionWarning(reason: RejectReason): string | undefined {
  return REPORTED_REJECTIONS[reason];
}

const debug = process.env.BCC_DEBUG ? (message: string) => process.stderr.write(`bcc: ${message}\n`) : null;

/** The key and, when known, the template name of a bucket, for error contexts. */
const bucketContext = (bucket: Bucket): { key: string; name?: string } =>
  bucket.name === undefined ? { key: bucket.key } : { key: bucket.key, name: bucket.name };

/** How a bucket is named in messages: the template, and the key that stores it. */
const describeBucket = (bucket: Bucket) =>
  bucket.name === undefined ? bucket.key : `${bucket.name} (${bucket.key})`;

/** Entry keys a cache remembers (by what they hash); ~4,096 × a few hundred bytes at most. */
const KEYS_REMEMBERED = 4_096;

/**
 * The contract between bcc and a store. An adapter implements `loadBytecode` (fill the bucket
 * from the store, or leave it empty) and `dumpBytecode` (store `bucket.bytecodeToBytes()`); it
 * may throw on backend errors, and `getBucket`/`setBucket` turn those into misses and skipped
 * writes unless `ignoreErrors` is `false`.
 *
 * A complete adapter, storing entries in a `Map`:
 *
 * ```ts
 * import { BytecodeCache, type Bucket } from '@bcc/core';
 *
 * class MapBytecodeCache extends BytecodeCache {
 *   readonly entries = new Map<string, Uint8Array>();
 *   async loadBytecode(bucket: Bucket) {
 *     const bytes = this.entries.get(bucket.key);
 *     if (bytes) bucket.bytecodeFromBytes(bytes);
 *   }
 *   async dumpBytecode(bucket: Bucket) {
 *     this.entries.set(bucket.key, bucket.bytecodeToBytes());
 *   }
 *   override async clear() {
 *     this.entries.clear();
 *   }
 * }
 * ```
 */
export abstract class BytecodeCache {
  /** Hit, miss, rejection, write and error counters. */
  readonly stats: CacheStats = emptyStats();
  protected readonly secrets: readonly Uint8Array[];
  protected readonly ignoreErrors: boolean;
  /** Skips the store after a failure (see {@link BytecodeCacheOptions.breaker}); `null` when off. */
  readonly breaker: CircuitBreaker | null;
  readonly #onError: ((error: Error, context: ErrorContext) => void) | undefined;
  /** Keys already hashed, by the text hashed (see {@link getCacheKey}). */
  readonly #keys = new Map<string, string>();

  constructor(options: BytecodeCacheOptions = {}) {
    this.secrets = normalizeSecrets(options.secret);
    this.ignoreErrors = options.ignoreErrors ?? true;
    this.#onError = options.onError;
    if (options.onError !== undefined && typeof options.onError !== 'function') {
      throw new BccConfigError(`onError must be a function, got ${typeof options.onError}`);
    }
    this.breaker = options.breaker === false ? null : new CircuitBreaker(options.breaker ?? {});
  }

  /** A short name of the store, used in error messages (`'redis'`, `'fs'`). */
  get backendName(): string {
    return this.constructor.name;
  }

  /**
   * Where the store is, for operators' messages: the backend and its address or directory,
   * never a password. Adapters override it; the default is {@link backendName}.
   */
  get storeName(): string {
    return this.backendName;
  }

  /** Fills `bucket` from the store; a miss leaves it empty. May throw on backend errors. */
  abstract loadBytecode(bucket: Bucket): Promise<void>;

  /** Stores `bucket.bytecodeToBytes()`. May throw on backend errors. */
  abstract dumpBytecode(bucket: Bucket): Promise<void>;

  /** Synchronous load, for engines that load templates synchronously; only some stores have it. */
  loadBytecodeSync?(bucket: Bucket): void;

  /** Synchronous dump; only some stores have it. */
  dumpBytecodeSync?(bucket: Bucket): void;

  /**
   * Optional batch load: fills many buckets in a few round trips (Redis MGET, memcached
   * pipelining). Buckets it cannot find stay empty.
   */
  loadMany?(buckets: readonly Bucket[]): Promise<void>;

  /** Removes this cache's entries, and only those. */
  async clear(): Promise<void> {
    throw new BccUnsupportedError(`${this.backendName} cannot clear its entries`);
  }

  /**
   * Optional, for operators (`bcc ls`, `verify`, `prune`): this cache's entries, and only those,
   * as the store has them (key, bytes, and last-modified time when the store keeps one). Stores
   * that cannot enumerate (memcached) leave it out.
   */
  listEntries?(): AsyncIterable<StoredEntry>;

  /** Optional: the bytes stored under `key` as they are (unchecked), or `undefined`. */
  readEntry?(key: string): Promise<Uint8Array | undefined>;

  /** Optional: removes the entry under `key`; resolves to `true` when there was one. */
  deleteEntry?(key: string): Promise<boolean>;

  /** Closes clients this cache made. Clients passed in by the user are left open. */
  async close(): Promise<void> {}

  /**
   * The entry key: a hash of the template name, its filename and the environment fingerprint,
   * so two differently configured environments never share an entry (Jinja2 leaves the
   * environment out; bcc does not).
   */
  getCacheKey(name: string, filename?: string | null, fingerprint = ''): string {
    const text = `${name.length}:${name}|${filename ?? ''}|${fingerprint}`;
    let key = this.#keys.get(text);
    if (key === undefined) {
      key = sha256Hex(text);
      // Engines ask for the same keys on every render (an async store's prefetch, each page's
      // layout and partials): hashing them again used up the budget of hashing that a process
      // does without importing node:crypto (see digest.ts). Bounded: the oldest goes first.
      if (this.#keys.size >= KEYS_REMEMBERED) this.#keys.delete(this.#keys.keys().next().value as string);
      this.#keys.set(text, key);
    }
    return key;
  }

  /** The checksum of the template source an entry must match. */
  getSourceChecksum(source: string): string {
    return sha256Hex(source);
  }

  /** Makes an empty bucket for a template without touching the store. */
  createBucket(
    environment: BucketEnvironment,
    name: string,
    filename: string | null | undefined,
    source: string,
  ): Bucket {
    const key = this.getCacheKey(name, filename, environment.fingerprint);
    return new Bucket(environment, key, this.getSourceChecksum(source), {
      secrets: this.secrets,
      name,
      checksumOf: this.checksumOf,
    });
  }

  /**
   * {@link getSourceChecksum} as one function made once per cache: what buckets check their
   * dependencies with, and what `sourceFileChecksum` remembers checksums by, so every caller that
   * passes this one shares what it remembered.
   */
  readonly checksumOf = (source: string): string => this.getSourceChecksum(source);

  /** Returns the template's bucket, filled from the store on a hit. */
  getBucket(
    environment: BucketEnvironment,
    name: string,
    filename: string | null | undefined,
    source: string,
  ): Promise<Bucket> {
    if (!traceChannels.load.hasSubscribers) return this.#getBucket(environment, name, filename, source);
    const context: LoadTraceContext = { name, store: this.storeName, async: true };
    return traceChannels.load.tracePromise(async () => {
      const bucket = await this.#getBucket(environment, name, filename, source);
      describeLoad(context, bucket);
      return bucket;
    }, context);
  }

  async #getBucket(
    environment: BucketEnvironment,
    name: string,
    filename: string | null | undefined,
    source: string,
  ): Promise<Bucket> {
    const bucket = this.createBucket(environment, name, filename, source);
    if (this.#mayCall('load')) {
      try {
        await this.loadBytecode(bucket);
        this.breaker?.success();
      } catch (error) {
        this.#loadFailed(bucket, error);
      }
    }
    this.recordLoad(bucket);
    return bucket;
  }

  /** Synchronous {@link getBucket}, for stores that implement `loadBytecodeSync`. */
  getBucketSync(
    environment: BucketEnvironment,
    name: string,
    filename: string | null | undefined,
    source: string,
  ): Bucket {
    if (!this.loadBytecodeSync) {
      throw new BccUnsupportedError(
        `${this.backendName} has no synchronous load; use getBucket(), or a memory or filesystem cache for synchronous engines`,
      );
    }
    if (!traceChannels.load.hasSubscribers) return this.#getBucketSync(environment, name, filename, source);
    const context: LoadTraceContext = { name, store: this.storeName, async: false };
    return traceChannels.load.traceSync(() => {
      const bucket = this.#getBucketSync(environment, name, filename, source);
      describeLoad(context, bucket);
      return bucket;
    }, context);
  }

  #getBucketSync(
    environment: BucketEnvironment,
    name: string,
    filename: string | null | undefined,
    source: string,
  ): Bucket {
    const bucket = this.createBucket(environment, name, filename, source);
    if (this.#mayCall('load')) {
      try {
        this.loadBytecodeSync!(bucket);
        this.breaker?.success();
      } catch (error) {
        this.#loadFailed(bucket, error);
      }
    }
    this.recordLoad(bucket);
    return bucket;
  }

  /** A load the store failed: a miss, reported (and the breaker told). */
  #loadFailed(bucket: Bucket, error: unknown): void {
    bucket.reset();
    this.#failed(error, { operation: 'load', ...bucketContext(bucket) });
  }

  /**
   * Stores the bucket; resolves to `true` when the store took it, `false` when the write was
   * skipped or failed (reported through `onError`). Throws `TypeError` for an empty bucket.
   */
  setBucket(bucket: Bucket): Promise<boolean> {
    if (!traceChannels.store.hasSubscribers) return this.#setBucket(bucket);
    const context = this.#storeContext(bucket, true);
    return traceChannels.store.tracePromise(async () => {
      context.stored = await this.#setBucket(bucket);
      return context.stored;
    }, context);
  }

  #storeContext(bucket: Bucket, async: boolean): StoreTraceContext {
    const bytes = bucket.bytecodeToBytes().length;
    return { name: bucket.name ?? '', store: this.storeName, key: bucket.key, bytes, async };
  }

  async #setBucket(bucket: Bucket): Promise<boolean> {
    const size = bucket.bytecodeToBytes().length;
    if (!this.#mayCall('dump')) {
      this.stats.writeFailures++;
      return false;
    }
    try {
      await this.dumpBytecode(bucket);
      this.breaker?.success();
      this.recordWrite(size);
      return true;
    } catch (error) {
      this.stats.writeFailures++;
      this.#failed(error, { operation: 'dump', ...bucketContext(bucket) });
      return false;
    }
  }

  /** Synchronous {@link setBucket}, for stores that implement `dumpBytecodeSync`. */
  setBucketSync(bucket: Bucket): boolean {
    if (!this.dumpBytecodeSync) {
      throw new BccUnsupportedError(`${this.backendName} has no synchronous dump; use setBucket()`);
    }
    if (!traceChannels.store.hasSubscribers) return this.#setBucketSync(bucket);
    const context = this.#storeContext(bucket, false);
    return traceChannels.store.traceSync(() => {
      context.stored = this.#setBucketSync(bucket);
      return context.stored;
    }, context);
  }

  #setBucketSync(bucket: Bucket): boolean {
    const size = bucket.bytecodeToBytes().length;
    if (!this.#mayCall('dump')) {
      this.stats.writeFailures++;
      return false;
    }
    try {
      this.dumpBytecodeSync!(bucket);
      this.breaker?.success();
      this.recordWrite(size);
      return true;
    } catch (error) {
      this.stats.writeFailures++;
      this.#failed(error, { operation: 'dump', ...bucketContext(bucket) });
      return false;
    }
  }

  /**
   * Fills many buckets: through `loadMany` when the store has it, else one by one (at most
   * `concurrency` at a time). Errors follow `ignoreErrors` like `getBucket`.
   */
  async loadBuckets(buckets: readonly Bucket[], concurrency = 16): Promise<void> {
    if (buckets.length > 0 && !this.#mayCall('loadMany')) {
      for (const bucket of buckets) this.recordLoad(bucket);
      return;
    }
    try {
      if (this.loadMany) {
        await this.loadMany(buckets);
      } else {
        let next = 0;
        const worker = async () => {
          while (next < buckets.length) {
            const bucket = buckets[next++]!;
            await this.loadBytecode(bucket);
          }
        };
        await Promise.all(Array.from({ length: Math.min(concurrency, buckets.length) }, worker));
      }
      this.breaker?.success();
    } catch (error) {
      this.#failed(error, { operation: 'loadMany' });
    }
    for (const bucket of buckets) this.recordLoad(bucket);
  }

  /**
   * Reports an error through `onError`; rethrows it (wrapped in a `BccBackendError` unless it
   * is a bcc error already) when `ignoreErrors` is `false`. Adapters call it for errors they
   * catch themselves, e.g. in background work.
   */
  protected handleError(error: unknown, context: ErrorContext): void {
    this.stats.errors++;
    const wrapped = isBccError(error)
      ? error
      : new BccBackendError(
          this.backendName,
          context.operation,
          `${this.backendName} ${context.operation} failed: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
    this.report(wrapped, context);
    if (!this.ignoreErrors) throw wrapped;
  }

  /**
   * Whether the store may be called now. A call the open breaker turns away is a quiet miss or
   * skipped write, except with `ignoreErrors: false`, which wants to hear that the store is
   * unavailable (thrown here).
   */
  #mayCall(operation: ErrorContext['operation']): boolean {
    if (!this.breaker || this.breaker.allow()) return true;
    if (this.ignoreErrors) return false;
    throw skippedCallError(this.backendName, operation, this.backendName, this.breaker);
  }

  /** A failed store call: opens the breaker when the store itself failed, then {@link handleError}. */
  #failed(error: unknown, context: ErrorContext): void {
    this.breaker?.settle(error);
    this.handleError(error, context);
  }

  /**
   * Calls `onError` without ever letting the hook break a render. Without a hook, the first
   * store failure and the first suspicious refusal of the process are announced once each.
   */
  protected report(error: Error, context: ErrorContext): void {
    const what = context.name ? ` ${context.name} (${context.key})` : context.key ? ` ${context.key}` : '';
    debug?.(`${context.operation}${what}: ${error.message}`);
    if (this.#onError === undefined) {
      warnOnce(error, this.storeName);
      return;
    }
    try {
      this.#onError(error, context);
    } catch {
      // A failing hook must not turn a cache problem into a rendering failure.
    }
  }

  private recordLoad(bucket: Bucket): void {
    const outcome = bucket.lastLoad;
    if (bucket.code) {
      this.stats.hits++;
      if (outcome?.status === 'hit') {
        this.stats.bytesRead += outcome.bytes;
        if (outcome.v8Dropped) this.stats.v8Dropped++;
      }
      return;
    }
    this.stats.misses++;
    if (outcome?.status === 'rejected') {
      this.stats.bytesRead += outcome.bytes;
      this.stats.rejected[outcome.reason] = (this.stats.rejected[outcome.reason] ?? 0) + 1;
      debug?.(`rejected ${describeBucket(bucket)}: ${outcome.reason}`);
      const why = rejectionWarning(outcome.reason);
      if (why) {
        this.report(
          new BccRejectedEntryError(
            bucket.key,
            outcome.reason,
            `${this.backendName}: refused entry ${describeBucket(bucket)}: ${why}`,
          ),
          {
            operation: 'load',
            key: bucket.key,
          },
        );
      }
    }
  }

  private recordWrite(size: number): void {
    this.stats.writes++;
    this.stats.bytesWritten += size;
  }
}

/**
 * Announces a store's first failure, or its first suspicious refusal, once per process: an
 * operator who set no `onError` still learns that the cache is not doing its job, and why.
 */
function warnOnce(error: Error, store: string): void {
  const rejected = isBccError(error) && error.code === 'ERR_BCC_REJECTED_ENTRY';
  const code = rejected ? 'BCC_ENTRY_REJECTED' : 'BCC_STORE_FAILED';
  const once = `${code}\0${store}`;
  if (warned.has(once)) return;
  warned.add(once);
  const what = rejected
    ? `bcc refused an entry of ${store}: ${error.message}`
    : `bcc's store ${store} failed; templates compile as without a cache until it recovers: ${error.message}`;
  process.emitWarning(what, {
    code,
    detail: 'Shown once per process. Pass onError to the cache to see every occurrence, or set BCC_DEBUG=1.',
  });
}

/**
 * True when `value` has the shape of a bcc cache. Use this instead of `instanceof`, which
 * fails when an app ends up with two copies of `@bcc/core`.
 */
export function isBytecodeCache(value: unknown): value is BytecodeCache {
  const v = value as Partial<BytecodeCache> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.getBucket === 'function' &&
    typeof v.setBucket === 'function' &&
    typeof v.loadBytecode === 'function' &&
    typeof v.dumpBytecode === 'function'
  );
}
