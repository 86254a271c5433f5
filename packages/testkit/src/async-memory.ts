import { type Bucket, MemoryBytecodeCache } from '@bcc/core';

/**
 * A memory cache that behaves like a network store for engine integrations: no synchronous
 * load or dump, and every call answers on a later turn of the event loop. Engine integrations
 * test their asynchronous-store paths (preload, the synchronous API's fallback) against it
 * without a server.
 */
export class AsyncOnlyMemoryCache extends MemoryBytecodeCache {
  /** How many batch loads (`loadMany`) were asked for. */
  loadManyCalls = 0;

  constructor() {
    super();
    // Hide the synchronous methods, as a network store (redis, memcached, s3) has none.
    (this as { loadBytecodeSync?: unknown }).loadBytecodeSync = undefined;
    (this as { dumpBytecodeSync?: unknown }).dumpBytecodeSync = undefined;
  }

  override async loadBytecode(bucket: Bucket): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    MemoryBytecodeCache.prototype.loadBytecodeSync.call(this, bucket);
  }

  override async dumpBytecode(bucket: Bucket): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    MemoryBytecodeCache.prototype.dumpBytecodeSync.call(this, bucket);
  }

  override async loadMany(buckets: readonly Bucket[]): Promise<void> {
    this.loadManyCalls++;
    for (const bucket of buckets) await this.loadBytecode(bucket);
  }
}
