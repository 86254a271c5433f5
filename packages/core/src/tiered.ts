import { CircuitBreaker, skippedCallError } from './breaker.js';
import { Bucket, type LoadOutcome } from './bucket.js';
import {
  BytecodeCache,
  type BytecodeCacheOptions,
  type ErrorContext,
  isBytecodeCache,
  rejectionWarning,
} from './cache.js';
import { BccBackendError, BccConfigError, BccRejectedEntryError, isBccError } from './errors.js';
import { normalizeSecrets, sameSecrets } from './format.js';

/** Throws `BccConfigError` unless `tiers` is a non-empty list of distinct caches. */
function checkTiers(tiers: readonly BytecodeCache[]): readonly BytecodeCache[] {
  if (!Array.isArray(tiers) || tiers.length === 0) {
    throw new BccConfigError('TieredBytecodeCache needs a non-empty list of caches, fastest first');
  }
  for (const [i, tier] of tiers.entries()) {
    if (!isBytecodeCache(tier)) {
      throw new BccConfigError(
        `tier ${i} of the TieredBytecodeCache is not a bcc cache (no getBucket/loadBytecode)`,
      );
    }
    const first = tiers.indexOf(tier);
    if (first !== i) {
      throw new BccConfigError(
        `tiers ${first} and ${i} of the TieredBytecodeCache are the same cache instance: give each tier once`,
      );
    }
  }
  return tiers;
}

/** A tier's normalised secrets (a protected field; read by shape, as tiers may come from another copy of core). */
function secretsOf(tier: BytecodeCache): readonly Uint8Array[] {
  const secrets = (tier as unknown as { secrets?: unknown }).secrets;
  return Array.isArray(secrets) ? (secrets as Uint8Array[]) : [];
}

/** The options with the one secret every tier agrees on; `BccConfigError` when they disagree. */
function withTierSecrets(
  tiers: readonly BytecodeCache[],
  options: TieredBytecodeCacheOptions,
): TieredBytecodeCacheOptions {
  let shared: readonly Uint8Array[] | undefined;
  let sharedBy = -1;
  for (const [i, tier] of tiers.entries()) {
    const secrets = secretsOf(tier);
    if (secrets.length === 0) continue;
    if (shared === undefined) {
      shared = secrets;
      sharedBy = i;
    } else if (!sameSecrets(shared, secrets)) {
      throw new BccConfigError(
        `tiers ${sharedBy} (${tiers[sharedBy]!.backendName}) and ${i} (${tier.backendName}) have different secrets: a tiered cache signs and verifies every tier with one secret; give every tier the same secret, or give it only to the TieredBytecodeCache`,
      );
    }
  }
  if (shared === undefined) return options;
  if (options.secret === undefined) return { ...options, secret: [...shared] };
  if (!sameSecrets(normalizeSecrets(options.secret), shared)) {
    throw new BccConfigError(
      `the TieredBytecodeCache's secret differs from the secret of tier ${sharedBy} (${tiers[sharedBy]!.backendName}): give them the same secret, or leave it out of one of them`,
    );
  }
  return options;
}

/** Options of {@link TieredBytecodeCache}. */
export interface TieredBytecodeCacheOptions extends BytecodeCacheOptions {
  /**
   * How many buckets a tier without `loadMany` loads at once during `loadBuckets`. Default 16.
   */
  concurrency?: number;
}

type Operation = ErrorContext['operation'];

/**
 * Several caches used as one, fastest first: `[memory, fs, redis, s3]`.
 *
 * - load tries the tiers in order; the first valid entry wins and is written back, in the
 *   background, to every faster tier above the one that had it (a "backfill"), so the next
 *   load is served by the fastest tier;
 * - dump writes every tier concurrently;
 * - one tier failing never fails the others: its error is reported through `onError`, and a
 *   load only fails (with `ignoreErrors: false`) when no tier had the entry;
 * - `clear()` clears every tier, `close()` closes every tier.
 *
 * The tiered cache makes the buckets, so one secret signs and verifies entries for every tier
 * on every path. Tiers that have a `secret` must all have the same one (the same list, in the
 * same order), and a `secret` given to the tiered cache must match it; without one, the
 * tiered cache takes the tiers' secret. Anything else is a `BccConfigError`: no tier's secret
 * is ever skipped. The tiers' own `ignoreErrors` and `onError` are not consulted, because the
 * tiered cache calls their `loadBytecode`/`dumpBytecode` directly.
 *
 * ```ts
 * const cache = new TieredBytecodeCache([
 *   new MemoryBytecodeCache({ maxBytes: 32 * 1024 * 1024 }),
 *   new FileSystemBytecodeCache(),
 *   new RedisBytecodeCache({ url: 'redis://cache:6379' }),
 * ], { secret: process.env.BCC_SECRET });
 * ```
 *
 * Synchronous loads and dumps (`getBucketSync`) are available when every tier has them
 * (e.g. memory + filesystem).
 */
export class TieredBytecodeCache extends BytecodeCache {
  /** The tiers, fastest first. */
  readonly tiers: readonly BytecodeCache[];
  /** Entries served by each tier, in tier order (a backfilled entry counts for the tier that served it). */
  readonly hitsByTier: number[];
  /** Backfill writes done and failed, over all tiers. */
  readonly backfills = { writes: 0, failures: 0 };
  readonly #concurrency: number;
  readonly #breakers: (CircuitBreaker | null)[];
  readonly #pending = new Set<Promise<void>>();
  // The last backfill of each key, so a later dump of the same key lands after it, not under it.
  readonly #pendingByKey = new Map<string, Promise<void>>();

  constructor(tiers: readonly BytecodeCache[], options: TieredBytecodeCacheOptions = {}) {
    // Each tier has its own breaker below: one for the whole stack would stop a healthy memory
    // tier along with a dead Redis.
    super({ ...withTierSecrets(checkTiers(tiers), options), breaker: false });
    const breakerOptions = options.breaker;
    this.#breakers = tiers.map(() =>
      breakerOptions === false ? null : new CircuitBreaker(breakerOptions ?? {}),
    );
    const concurrency = options.concurrency ?? 16;
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
      throw new BccConfigError(`concurrency must be a positive integer, got ${String(options.concurrency)}`);
    }
    this.#concurrency = concurrency;
    this.tiers = [...tiers];
    this.hitsByTier = tiers.map(() => 0);
    // getBucketSync checks for these methods: offer them only when every tier can.
    if (!tiers.every((t) => typeof t.loadBytecodeSync === 'function')) {
      Object.defineProperty(this, 'loadBytecodeSync', { value: undefined });
    }
    if (!tiers.every((t) => typeof t.dumpBytecodeSync === 'function')) {
      Object.defineProperty(this, 'dumpBytecodeSync', { value: undefined });
    }
  }

  override get backendName(): string {
    return `tiered(${this.tiers.map((t) => t.backendName).join('>')})`;
  }

  async loadBytecode(bucket: Bucket): Promise<void> {
    await this.#load([bucket], 'load');
  }

  override async loadMany(buckets: readonly Bucket[]): Promise<void> {
    await this.#load(buckets, 'loadMany');
  }

  override loadBytecodeSync(bucket: Bucket): void {
    const errors: Error[] = [];
    let rejection: LoadOutcome | null = null;
    for (const [i, tier] of this.tiers.entries()) {
      bucket.lastLoad = null;
      try {
        this.#onTierSync(i, () => tier.loadBytecodeSync!(bucket), 'load');
      } catch (error) {
        bucket.reset();
        errors.push(this.#tierError(error, i, 'load'));
      }
      if (bucket.code) {
        this.hitsByTier[i]!++;
        if (rejection) this.#recordRejection(bucket, rejection);
        this.#reportAll(errors, bucket.key, 'load');
        this.#backfillSync(bucket, i);
        return;
      }
      // (a cast: TypeScript believes lastLoad is still the null assigned above)
      const outcome = bucket.lastLoad as LoadOutcome | null;
      if (outcome?.status === 'rejected') rejection = outcome;
    }
    bucket.lastLoad = rejection;
    if (errors.length > 0) throw this.#combine(errors, 'load');
  }

  /** Writes every tier concurrently; throws (after all tiers finished) if any tier failed. */
  async dumpBytecode(bucket: Bucket): Promise<void> {
    bucket.bytecodeToBytes(); // an empty bucket is the caller's bug: TypeError, not a backend error
    const backfill = this.#pendingByKey.get(bucket.key);
    if (backfill) await backfill;
    const results = await Promise.allSettled(
      this.tiers.map(async (tier, i) => this.#onTier(i, () => tier.dumpBytecode(bucket))),
    );
    const errors = results.flatMap((r, i) =>
      r.status === 'rejected' ? [this.#tierError(r.reason, i, 'dump')] : [],
    );
    if (errors.length > 0) throw this.#combine(errors, 'dump');
  }

  override dumpBytecodeSync(bucket: Bucket): void {
    bucket.bytecodeToBytes();
    const errors: Error[] = [];
    for (const [i, tier] of this.tiers.entries()) {
      try {
        this.#onTierSync(i, () => tier.dumpBytecodeSync!(bucket));
      } catch (error) {
        errors.push(this.#tierError(error, i, 'dump'));
      }
    }
    if (errors.length > 0) throw this.#combine(errors, 'dump');
  }

  /** Clears every tier (after pending backfills); throws if any tier failed, once all finished. */
  override async clear(): Promise<void> {
    await this.flush();
    const results = await Promise.allSettled(this.tiers.map(async (tier) => tier.clear()));
    const errors = results.flatMap((r, i) =>
      r.status === 'rejected' ? [this.#tierError(r.reason, i, 'clear')] : [],
    );
    if (errors.length > 0) throw this.#combine(errors, 'clear');
  }

  /** Waits for pending backfills, then closes every tier. */
  override async close(): Promise<void> {
    await this.flush();
    const results = await Promise.allSettled(this.tiers.map(async (tier) => tier.close()));
    const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (failed.length === 1) throw failed[0];
    if (failed.length > 1) throw new AggregateError(failed, `${failed.length} tiers failed to close`);
  }

  /**
   * Resolves when every backfill started so far has finished (backfill errors are reported
   * through `onError`, never thrown). For tests, and for a clean shutdown.
   */
  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  async #load(buckets: readonly Bucket[], operation: Operation): Promise<void> {
    const errors: Error[] = [];
    const rejections = new Map<Bucket, LoadOutcome>();
    let pending = buckets;
    for (let i = 0; i < this.tiers.length; i++) {
      if (pending.length === 0) break;
      for (const bucket of pending) bucket.lastLoad = null;
      const error = await this.#loadFromTier(i, pending);
      if (error !== undefined) errors.push(this.#tierError(error, i, operation));
      const missed: Bucket[] = [];
      for (const bucket of pending) {
        if (bucket.code) {
          this.hitsByTier[i]!++;
          const rejection = rejections.get(bucket);
          if (rejection) this.#recordRejection(bucket, rejection);
          if (i > 0) this.#backfill(bucket, i);
        } else {
          if (bucket.lastLoad?.status === 'rejected') rejections.set(bucket, bucket.lastLoad);
          missed.push(bucket);
        }
      }
      pending = missed;
    }
    // The base class counts (and reports) the rejection of an entry no tier could serve.
    for (const bucket of pending) bucket.lastLoad = rejections.get(bucket) ?? null;
    if (errors.length === 0) return;
    // Some tier served every bucket: the failure is reported, but the caller got its entries.
    if (pending.length === 0)
      this.#reportAll(errors, buckets.length === 1 ? buckets[0]!.key : undefined, operation);
    else throw this.#combine(errors, operation);
  }

  /**
   * Loads `buckets` from tier `i`, unless its breaker is open (then they stay empty); returns
   * (does not throw) the tier's first error, which opens its breaker when the store failed.
   */
  async #loadFromTier(i: number, buckets: readonly Bucket[]): Promise<unknown> {
    const breaker = this.#breakers[i];
    try {
      if (!this.#gate(i, 'load')) return undefined;
    } catch (skipped) {
      return skipped;
    }
    const error = await this.#loadFromTierNow(this.tiers[i]!, buckets);
    breaker?.settle(error);
    return error;
  }

  async #loadFromTierNow(tier: BytecodeCache, buckets: readonly Bucket[]): Promise<unknown> {
    if (buckets.length === 1) {
      try {
        await tier.loadBytecode(buckets[0]!);
      } catch (error) {
        buckets[0]!.reset();
        return error;
      }
      return undefined;
    }
    if (tier.loadMany) {
      try {
        await tier.loadMany(buckets);
      } catch (error) {
        return error;
      }
      return undefined;
    }
    let first: unknown;
    let next = 0;
    const worker = async () => {
      while (next < buckets.length) {
        const bucket = buckets[next++]!;
        try {
          await tier.loadBytecode(bucket);
        } catch (error) {
          bucket.reset();
          first ??= error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#concurrency, buckets.length) }, worker));
    return first;
  }

  /** Writes a bucket found in tier `found` to every faster tier, after the caller has moved on. */
  #backfill(bucket: Bucket, found: number): void {
    // A copy: the caller may replace bucket.code (e.g. adding a V8 cache) while this is pending.
    const copy = new Bucket(bucket.environment, bucket.key, bucket.checksum, { secrets: this.secrets });
    copy.code = bucket.code;
    const previous = this.#pendingByKey.get(bucket.key);
    const work = (async () => {
      if (previous) await previous;
      // setImmediate: let the render that asked for this entry run before the writes start.
      await new Promise<void>((resolve) => setImmediate(resolve));
      await Promise.all(
        this.tiers.slice(0, found).map(async (tier, i) => {
          try {
            if (await this.#onTier(i, () => tier.dumpBytecode(copy))) this.backfills.writes++;
          } catch (error) {
            this.backfills.failures++;
            this.#reportQuietly(this.#tierError(error, i, 'dump'), { operation: 'dump', key: bucket.key });
          }
        }),
      );
    })();
    this.#pending.add(work);
    this.#pendingByKey.set(bucket.key, work);
    void work.finally(() => {
      this.#pending.delete(work);
      if (this.#pendingByKey.get(bucket.key) === work) this.#pendingByKey.delete(bucket.key);
    });
  }

  #backfillSync(bucket: Bucket, found: number): void {
    for (let i = 0; i < found; i++) {
      try {
        if (this.#onTierSync(i, () => this.tiers[i]!.dumpBytecodeSync!(bucket))) this.backfills.writes++;
      } catch (error) {
        this.backfills.failures++;
        this.#reportQuietly(this.#tierError(error, i, 'dump'), { operation: 'dump', key: bucket.key });
      }
    }
  }

  /**
   * Whether tier `i` may be called now: `false` while its breaker is open (with `ignoreErrors:
   * false`, a `BccBackendError` instead).
   */
  #gate(i: number, operation: Operation): boolean {
    const breaker = this.#breakers[i];
    if (!breaker || breaker.allow()) return true;
    if (this.ignoreErrors) return false;
    throw skippedCallError(
      this.tiers[i]!.backendName,
      operation,
      `tier ${i} (${this.tiers[i]!.backendName})`,
      breaker,
    );
  }

  /** Runs `call` on tier `i` unless its breaker is open; `false` when skipped. Failures open it. */
  async #onTier(i: number, call: () => Promise<void>): Promise<boolean> {
    if (!this.#gate(i, 'dump')) return false;
    try {
      await call();
    } catch (error) {
      this.#breakers[i]?.settle(error);
      throw error;
    }
    this.#breakers[i]?.settle();
    return true;
  }

  /** Synchronous {@link #onTier}. */
  #onTierSync(i: number, call: () => void, operation: Operation = 'dump'): boolean {
    if (!this.#gate(i, operation)) return false;
    try {
      call();
    } catch (error) {
      this.#breakers[i]?.settle(error);
      throw error;
    }
    this.#breakers[i]?.settle();
    return true;
  }

  /** Counts and reports a faster tier's refused entry when a slower tier served the bucket. */
  #recordRejection(bucket: Bucket, outcome: LoadOutcome): void {
    if (outcome.status !== 'rejected') return;
    const { reason } = outcome;
    this.stats.rejected[reason] = (this.stats.rejected[reason] ?? 0) + 1;
    const why = rejectionWarning(reason);
    if (why) {
      this.report(
        new BccRejectedEntryError(
          bucket.key,
          reason,
          `${this.backendName}: refused entry ${bucket.key} in a faster tier: ${why}`,
        ),
        { operation: 'load', key: bucket.key },
      );
    }
  }

  #tierError(error: unknown, tier: number, operation: Operation): Error {
    if (isBccError(error)) return error;
    const name = this.tiers[tier]!.backendName;
    const message = error instanceof Error ? error.message : String(error);
    return new BccBackendError(name, operation, `tier ${tier} (${name}) ${operation} failed: ${message}`, {
      cause: error,
    });
  }

  #combine(errors: Error[], operation: Operation): Error {
    if (errors.length === 1) return errors[0]!;
    return new BccBackendError(
      this.backendName,
      operation,
      `${errors.length} tiers failed: ${errors.map((e) => e.message).join('; ')}`,
      { cause: new AggregateError(errors) },
    );
  }

  #reportAll(errors: Error[], key: string | undefined, operation: Operation): void {
    for (const error of errors)
      this.#reportQuietly(error, key === undefined ? { operation } : { operation, key });
  }

  /** Reports without ever throwing: used where the caller already has its result. */
  #reportQuietly(error: Error, context: ErrorContext): void {
    this.stats.errors++;
    this.report(error, context);
  }
}
