// The suite run against the smallest possible adapter (the one in BytecodeCache's TSDoc), so a
// change to the suite is checked against a store whose behaviour is obviously right.
import { type Bucket, BytecodeCache, type BytecodeCacheOptions } from '@bcc/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runConformanceSuite } from '../src/index.js';

const stores = new Map<string, Map<string, Uint8Array>>();

class MapBytecodeCache extends BytecodeCache {
  constructor(
    readonly entries: Map<string, Uint8Array>,
    options?: BytecodeCacheOptions,
  ) {
    super(options);
  }
  async loadBytecode(bucket: Bucket) {
    const bytes = this.entries.get(bucket.key);
    if (bytes) bucket.bytecodeFromBytes(bytes);
  }
  async dumpBytecode(bucket: Bucket) {
    this.entries.set(bucket.key, bucket.bytecodeToBytes());
  }
  override loadBytecodeSync(bucket: Bucket) {
    const bytes = this.entries.get(bucket.key);
    if (bytes) bucket.bytecodeFromBytes(bytes);
  }
  override dumpBytecodeSync(bucket: Bucket) {
    this.entries.set(bucket.key, bucket.bytecodeToBytes());
  }
  override async clear() {
    this.entries.clear();
  }
}

class DownBytecodeCache extends BytecodeCache {
  async loadBytecode(): Promise<void> {
    throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
  }
  async dumpBytecode(): Promise<void> {
    throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
  }
}

runConformanceSuite(
  { describe, it, expect, beforeAll, afterAll },
  {
    name: 'map',
    create: ({ namespace, options }) => {
      let entries = stores.get(namespace);
      if (!entries) stores.set(namespace, (entries = new Map()));
      return new MapBytecodeCache(entries, options);
    },
    createUnreachable: ({ options }) => new DownBytecodeCache(options),
    features: { sync: true },
  },
);

describe('the suite itself', () => {
  it('fails against a store that loses bytes', async () => {
    // A store that drops the last byte must be caught by the round-trip check.
    const lossy = new (class extends MapBytecodeCache {
      override async dumpBytecode(bucket: Bucket) {
        const bytes = bucket.bytecodeToBytes();
        this.entries.set(bucket.key, bytes.subarray(0, bytes.length - 1));
      }
    })(new Map());
    const bucket = lossy.createBucket({ fingerprint: 'x' }, 'a', null, 's');
    bucket.code = { js: '1' };
    await lossy.setBucket(bucket);
    const loaded = await lossy.getBucket({ fingerprint: 'x' }, 'a', null, 's');
    expect(loaded.code).toBeNull();
    expect(lossy.stats.rejected.trailing ?? lossy.stats.rejected.length ?? lossy.stats.rejected.crc).toBe(1);
  });
});
