import { hash } from 'node:crypto';
import { Bucket, type BucketEnvironment } from './bucket.js';
import { BccBackendError, BccRejectedEntryError, BccUnsupportedError, isBccError } from './errors.js';
import { normalizeSecrets, type RejectReason, type SecretInput } from './format.js';
import { type CacheStats, emptyStats } from './stats.js';

/** What was going on when a cache reported an error. */
export interface ErrorContext {
  /** `'background'`: work no caller waits for (a refresh, a write-back), reported only. */
  operation: 'load' | 'dump' | 'clear' | 'loadMany' | 'background';
  key?: string;
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
  /** Called for every backend error and every entry refused for its signature. Must not throw. */
  onError?: (error: Error, context: ErrorContext) => void;
}

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
  readonly #onError: ((error: Error, context: ErrorContext) => void) | undefined;

  constructor(options: BytecodeCacheOptions = {}) {
    this.secrets = normalizeSecrets(options.secret);
    this.ignoreErrors = options.ignoreErrors ?? true;
    this.#onError = options.onError;
  }

  /** A short name of the store, used in error messages (`'redis'`, `'fs'`). */
  get backendName(): string {
    return this.constructor.name;
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

  /** Closes clients this cache made. Clients passed in by the user are left open. */
  async close(): Promise<void> {}

  /**
   * The entry key: a hash of the template name, its filename and the environment fingerprint,
   * so two differently configured environments never share an entry (Jinja2 leaves the
   * environment out; bcc does not).
   */
  getCacheKey(name: string, filename?: string | null, fingerprint = ''): string {
    // One-shot crypto.hash: half the cost of createHash() for inputs this small.
    return hash('sha256', `${name.length}:${name}|${filename ?? ''}|${fingerprint}`, 'hex');
  }

  /** The checksum of the template source an entry must match. */
  getSourceChecksum(source: string): string {
    return hash('sha256', source, 'hex');
  }

  /** Makes an empty bucket for a template without touching the store. */
  createBucket(
    environment: BucketEnvironment,
    name: string,
    filename: string | null | undefined,
    source: string,
  ): Bucket {
    const key = this.getCacheKey(name, filename, environment.fingerprint);
    return new Bucket(environment, key, this.getSourceChecksum(source), { secrets: this.secrets });
  }

  /** Returns the template's bucket, filled from the store on a hit. */
  async getBucket(
    environment: BucketEnvironment,
    name: string,
    filename: string | null | undefined,
    source: string,
  ): Promise<Bucket> {
    const bucket = this.createBucket(environment, name, filename, source);
    try {
      await this.loadBytecode(bucket);
    } catch (error) {
      bucket.reset();
      this.handleError(error, { operation: 'load', key: bucket.key });
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
    const bucket = this.createBucket(environment, name, filename, source);
    try {
      this.loadBytecodeSync(bucket);
    } catch (error) {
      bucket.reset();
      this.handleError(error, { operation: 'load', key: bucket.key });
    }
    this.recordLoad(bucket);
    return bucket;
  }

  /** Stores the bucket. Throws `TypeError` for an empty bucket. */
  async setBucket(bucket: Bucket): Promise<void> {
    const size = bucket.bytecodeToBytes().length;
    try {
      await this.dumpBytecode(bucket);
      this.recordWrite(size);
    } catch (error) {
      this.stats.writeFailures++;
      this.handleError(error, { operation: 'dump', key: bucket.key });
    }
  }

  /** Synchronous {@link setBucket}, for stores that implement `dumpBytecodeSync`. */
  setBucketSync(bucket: Bucket): void {
    if (!this.dumpBytecodeSync) {
      throw new BccUnsupportedError(`${this.backendName} has no synchronous dump; use setBucket()`);
    }
    const size = bucket.bytecodeToBytes().length;
    try {
      this.dumpBytecodeSync(bucket);
      this.recordWrite(size);
    } catch (error) {
      this.stats.writeFailures++;
      this.handleError(error, { operation: 'dump', key: bucket.key });
    }
  }

  /**
   * Fills many buckets: through `loadMany` when the store has it, else one by one (at most
   * `concurrency` at a time). Errors follow `ignoreErrors` like `getBucket`.
   */
  async loadBuckets(buckets: readonly Bucket[], concurrency = 16): Promise<void> {
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
    } catch (error) {
      this.handleError(error, { operation: 'loadMany' });
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

  /** Calls `onError` without ever letting the hook break a render. */
  protected report(error: Error, context: ErrorContext): void {
    debug?.(`${context.operation}${context.key ? ` ${context.key}` : ''}: ${error.message}`);
    try {
      this.#onError?.(error, context);
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
      debug?.(`rejected ${bucket.key}: ${outcome.reason}`);
      const why = rejectionWarning(outcome.reason);
      if (why) {
        this.report(
          new BccRejectedEntryError(
            bucket.key,
            outcome.reason,
            `${this.backendName}: refused entry ${bucket.key}: ${why}`,
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
