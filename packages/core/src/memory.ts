import type { Bucket } from './bucket.js';
import { BytecodeCache, type BytecodeCacheOptions, type StoredEntry } from './cache.js';
import { BccConfigError } from './errors.js';

/**
 * `bytes` in memory of its own. Entries under 4 KB come out of Node's shared 8 KB buffer pool:
 * keeping such a slice keeps the whole pool block alive, so `maxBytes` would bound the count
 * of bytes but not the memory held (8 MB of small entries held ~95 MB in a test).
 */
function ownMemory(bytes: Uint8Array): Uint8Array {
  if (bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.byteLength) return bytes;
  const own = new Uint8Array(bytes.byteLength);
  own.set(bytes);
  return own;
}

/** Options of {@link MemoryBytecodeCache}. */
export interface MemoryBytecodeCacheOptions extends BytecodeCacheOptions {
  /** Upper bound on the bytes of all stored entries; least recently used go first. Default 64 MiB. */
  maxBytes?: number;
}

/**
 * An in-process cache bounded by total bytes, evicting the least recently used entry. For
 * tests, as the first tier of a {@link TieredBytecodeCache}, and for short-lived apps.
 * Synchronous, so synchronous engines can use it.
 *
 * ```ts
 * const cache = new MemoryBytecodeCache({ maxBytes: 16 * 1024 * 1024 });
 * ```
 */
export class MemoryBytecodeCache extends BytecodeCache {
  readonly maxBytes: number;
  // A Map iterates in insertion order; re-inserting on access makes the first key the LRU one.
  readonly #entries = new Map<string, Uint8Array>();
  #size = 0;

  constructor(options: MemoryBytecodeCacheOptions = {}) {
    super(options);
    const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) {
      throw new BccConfigError(`maxBytes must be a positive integer, got ${String(options.maxBytes)}`);
    }
    this.maxBytes = maxBytes;
  }

  override get backendName(): string {
    return 'memory';
  }

  /** Bytes currently held. */
  get size(): number {
    return this.#size;
  }

  /** Number of entries currently held. */
  get count(): number {
    return this.#entries.size;
  }

  override loadBytecodeSync(bucket: Bucket): void {
    const bytes = this.#entries.get(bucket.key);
    if (bytes === undefined) return;
    this.#entries.delete(bucket.key);
    this.#entries.set(bucket.key, bytes);
    bucket.bytecodeFromBytes(bytes);
  }

  override dumpBytecodeSync(bucket: Bucket): void {
    const bytes = ownMemory(bucket.bytecodeToBytes());
    this.#remove(bucket.key);
    // An entry larger than the whole cache is not stored; keeping it would evict everything else.
    if (bytes.length > this.maxBytes) return;
    this.#entries.set(bucket.key, bytes);
    this.#size += bytes.length;
    for (const [key] of this.#entries) {
      if (this.#size <= this.maxBytes) break;
      this.#remove(key);
    }
  }

  async loadBytecode(bucket: Bucket): Promise<void> {
    this.loadBytecodeSync(bucket);
  }

  async dumpBytecode(bucket: Bucket): Promise<void> {
    this.dumpBytecodeSync(bucket);
  }

  override async loadMany(buckets: readonly Bucket[]): Promise<void> {
    for (const bucket of buckets) this.loadBytecodeSync(bucket);
  }

  override async clear(): Promise<void> {
    this.#entries.clear();
    this.#size = 0;
  }

  override async *listEntries(): AsyncIterable<StoredEntry> {
    for (const [key, bytes] of [...this.#entries]) yield { key, size: bytes.length };
  }

  /** A copy of the entry: the held bytes must not change under the cache. */
  override async readEntry(key: string): Promise<Uint8Array | undefined> {
    const bytes = this.#entries.get(key);
    return bytes && Uint8Array.from(bytes);
  }

  override async deleteEntry(key: string): Promise<boolean> {
    const had = this.#entries.has(key);
    this.#remove(key);
    return had;
  }

  #remove(key: string): void {
    const old = this.#entries.get(key);
    if (old === undefined) return;
    this.#entries.delete(key);
    this.#size -= old.length;
  }
}
