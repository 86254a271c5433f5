// TieredBytecodeCache against memory tiers and two small in-test stores: one that fails like a
// dead server, one that holds its writes until released (to observe backfills in flight). The
// conformance suite and the memory + fs + redis stack run in examples/tiered-config, which can
// depend on the adapter packages without a dependency cycle through core.
import { describe, expect, it } from 'vitest';
import type { Bucket } from '../src/bucket.js';
import { BytecodeCache, type BytecodeCacheOptions } from '../src/cache.js';
import { isBccError } from '../src/errors.js';
import { MemoryBytecodeCache } from '../src/memory.js';
import { TieredBytecodeCache } from '../src/tiered.js';

const env = { fingerprint: 'tiered-test' };

/** A store that is down: every call fails the way a refused connection does. */
class DeadStore extends BytecodeCache {
  calls = 0;
  override get backendName() {
    return 'dead';
  }
  async loadBytecode(): Promise<void> {
    this.calls++;
    throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
  }
  async dumpBytecode(): Promise<void> {
    this.calls++;
    throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
  }
  override async clear(): Promise<void> {
    throw new Error('connect ECONNREFUSED 127.0.0.1:1');
  }
}

/** A Map store without loadMany or sync methods, counting its calls. */
class MapStore extends BytecodeCache {
  readonly entries = new Map<string, Uint8Array>();
  loads = 0;
  dumps = 0;
  closed = false;
  constructor(options?: BytecodeCacheOptions) {
    super(options);
  }
  override get backendName() {
    return 'map';
  }
  async loadBytecode(bucket: Bucket) {
    this.loads++;
    const bytes = this.entries.get(bucket.key);
    if (bytes) bucket.bytecodeFromBytes(bytes);
  }
  async dumpBytecode(bucket: Bucket) {
    this.dumps++;
    this.entries.set(bucket.key, bucket.bytecodeToBytes());
  }
  override async clear() {
    this.entries.clear();
  }
  override async close() {
    this.closed = true;
  }
}

function put(
  cache: BytecodeCache,
  name: string,
  source: string,
  js = `(function(){ return ${JSON.stringify(name)}; })`,
) {
  const bucket = cache.createBucket(env, name, null, source);
  bucket.code = { js, v8: Uint8Array.of(1, 2, 3) };
  return cache.setBucket(bucket);
}

describe('TieredBytecodeCache', () => {
  it('serves from the first tier that has the entry and backfills every faster tier', async () => {
    const [memory, middle, slow] = [new MemoryBytecodeCache(), new MapStore(), new MapStore()];
    const tiered = new TieredBytecodeCache([memory, middle, slow]);
    await put(slow, 'page.html', 'src');
    expect(memory.count).toBe(0);

    const first = await tiered.getBucket(env, 'page.html', null, 'src');
    expect(first.code?.js).toBe('(function(){ return "page.html"; })');
    expect(tiered.hitsByTier).toEqual([0, 0, 1]);
    await tiered.flush();
    expect(memory.count).toBe(1);
    expect(middle.entries.size).toBe(1);
    expect(tiered.backfills).toEqual({ writes: 2, failures: 0 });

    const slowLoads = slow.loads;
    const second = await tiered.getBucket(env, 'page.html', null, 'src');
    expect(second.code?.js).toBe(first.code?.js);
    expect(Buffer.from(second.code!.v8!)).toEqual(Buffer.from([1, 2, 3]));
    expect(tiered.hitsByTier).toEqual([1, 0, 1]);
    expect(slow.loads).toBe(slowLoads);
    expect(tiered.stats.hits).toBe(2);
  });

  it('backfills only the tiers above the one that had the entry', async () => {
    const [fast, middle, slow] = [new MapStore(), new MapStore(), new MapStore()];
    const tiered = new TieredBytecodeCache([fast, middle, slow]);
    await put(middle, 'a.html', 'src');
    await tiered.getBucket(env, 'a.html', null, 'src');
    await tiered.flush();
    expect(fast.entries.size).toBe(1);
    expect(slow.entries.size).toBe(0);
    expect(slow.loads).toBe(0);
  });

  it('writes every tier on setBucket', async () => {
    const tiers = [new MemoryBytecodeCache(), new MapStore(), new MapStore()] as const;
    const tiered = new TieredBytecodeCache([...tiers]);
    await put(tiered, 'page.html', 'src');
    expect(tiers[0].count).toBe(1);
    expect(tiers[1].entries.size).toBe(1);
    expect(tiers[2].entries.size).toBe(1);
    expect(tiered.stats.writes).toBe(1);
  });

  it('a dead middle tier: loads fall through to the slow tier, writes reach the others, errors are reported', async () => {
    const errors: Error[] = [];
    const [fast, dead, slow] = [new MemoryBytecodeCache(), new DeadStore(), new MapStore()];
    const tiered = new TieredBytecodeCache([fast, dead, slow], {
      breaker: false,
      onError: (e) => errors.push(e),
    });

    await put(tiered, 'page.html', 'src');
    expect(fast.count).toBe(1);
    expect(slow.entries.size).toBe(1);
    expect(tiered.stats.writeFailures).toBe(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'ERR_BCC_BACKEND', backend: 'dead', operation: 'dump' });
    expect(errors[0]!.message).toContain('tier 1 (dead)');
    expect((errors[0]!.cause as Error).message).toContain('ECONNREFUSED');

    await fast.clear();
    const loaded = await tiered.getBucket(env, 'page.html', null, 'src');
    expect(loaded.code).not.toBeNull();
    expect(tiered.hitsByTier).toEqual([0, 0, 1]);
    await tiered.flush();
    // The backfill reached the memory tier and failed (reported, not thrown) on the dead one.
    expect(fast.count).toBe(1);
    expect(tiered.backfills).toEqual({ writes: 1, failures: 1 });
    expect(errors.map((e) => (e as { operation?: string }).operation)).toEqual(['dump', 'load', 'dump']);
  });

  it('with ignoreErrors: false, a load that another tier served still resolves; a miss with a failed tier rejects', async () => {
    const [dead, slow] = [new DeadStore(), new MapStore()];
    const tiered = new TieredBytecodeCache([dead, slow], { ignoreErrors: false, onError: () => {} });
    await put(slow, 'there.html', 'src');
    await expect(tiered.getBucket(env, 'there.html', null, 'src')).resolves.toMatchObject({
      code: expect.anything(),
    });
    await tiered.flush();
    const error = await tiered.getBucket(env, 'absent.html', null, 'src').catch((e: unknown) => e);
    expect(isBccError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'ERR_BCC_BACKEND', backend: 'dead' });
    const bucket = tiered.createBucket(env, 'new.html', null, 'src');
    bucket.code = { js: '1' };
    await expect(tiered.setBucket(bucket)).rejects.toMatchObject({ code: 'ERR_BCC_BACKEND' });
    expect(slow.entries.has(bucket.key)).toBe(true);
  });

  it('combines the errors of several failed tiers into one, naming each', async () => {
    const errors: Error[] = [];
    const tiered = new TieredBytecodeCache([new DeadStore(), new DeadStore()], {
      onError: (e) => errors.push(e),
    });
    const bucket = await tiered.getBucket(env, 'x.html', null, 'src');
    expect(bucket.code).toBeNull();
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/2 tiers failed: tier 0 \(dead\).*; tier 1 \(dead\)/);
    expect((errors[0]!.cause as AggregateError).errors).toHaveLength(2);
  });

  it("the tiered cache's secret governs: an entry signed with another secret in a fast tier is refused and the slow tier serves", async () => {
    const errors: Error[] = [];
    const [fast, slow] = [new MemoryBytecodeCache(), new MapStore()];
    const tiered = new TieredBytecodeCache([fast, slow], { secret: 'right', onError: (e) => errors.push(e) });
    const forger = new TieredBytecodeCache([fast], { secret: 'wrong' });
    await put(tiered, 'page.html', 'src', '(function(){ return "genuine"; })');
    await put(forger, 'page.html', 'src', '(function(){ return "forged"; })');

    const loaded = await tiered.getBucket(env, 'page.html', null, 'src');
    expect(loaded.code?.js).toBe('(function(){ return "genuine"; })');
    expect(tiered.stats.rejected.signature).toBe(1);
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual(['ERR_BCC_REJECTED_ENTRY']);
    // The genuine entry was written back over the forged one.
    await tiered.flush();
    expect(fast.count).toBe(1);
    expect((await tiered.getBucket(env, 'page.html', null, 'src')).code?.js).toBe(
      '(function(){ return "genuine"; })',
    );
    expect(tiered.hitsByTier).toEqual([1, 1]);
  });

  it('an entry copied under another key in a fast tier is refused and reported, and the slow tier serves', async () => {
    const errors: Error[] = [];
    const [fast, slow] = [new MapStore(), new MapStore()];
    const tiered = new TieredBytecodeCache([fast, slow], { onError: (e) => errors.push(e) });
    await put(tiered, 'page.html', 'src');
    await put(tiered, 'other.html', 'src');
    const page = tiered.createBucket(env, 'page.html', null, 'src');
    const other = tiered.createBucket(env, 'other.html', null, 'src');
    fast.entries.set(page.key, fast.entries.get(other.key)!);

    const loaded = await tiered.getBucket(env, 'page.html', null, 'src');
    expect(loaded.code?.js).toBe('(function(){ return "page.html"; })');
    expect(tiered.stats.rejected.key).toBe(1);
    expect(errors.map((e) => (e as { reason?: string }).reason)).toEqual(['key']);
  });

  it('a stale entry in a fast tier (source changed) is replaced by the slow tier’s current one', async () => {
    const [fast, slow] = [new MemoryBytecodeCache(), new MapStore()];
    const tiered = new TieredBytecodeCache([fast, slow]);
    await put(fast, 'page.html', 'old', '(function(){ return "old"; })');
    await put(slow, 'page.html', 'new', '(function(){ return "new"; })');
    expect((await tiered.getBucket(env, 'page.html', null, 'new')).code?.js).toBe(
      '(function(){ return "new"; })',
    );
    expect(tiered.stats.rejected.checksum).toBe(1);
    await tiered.flush();
    expect((await fast.getBucket(env, 'page.html', null, 'new')).code?.js).toBe(
      '(function(){ return "new"; })',
    );
  });

  it('loadBuckets goes tier by tier, sending each tier only what the faster ones missed', async () => {
    const [fast, slow] = [new MemoryBytecodeCache(), new MapStore()];
    const tiered = new TieredBytecodeCache([fast, slow], { concurrency: 3 });
    for (let i = 0; i < 10; i++) await put(i < 4 ? fast : slow, `t${i}.html`, 'src');
    const buckets = Array.from({ length: 12 }, (_, i) => tiered.createBucket(env, `t${i}.html`, null, 'src'));
    await tiered.loadBuckets(buckets);
    expect(buckets.map((b) => b.code !== null)).toEqual([...Array(10).fill(true), false, false]);
    expect(slow.loads).toBe(8);
    expect(tiered.hitsByTier).toEqual([4, 6]);
    expect(tiered.stats).toMatchObject({ hits: 10, misses: 2 });
    await tiered.flush();
    expect(fast.count).toBe(10);
  });

  it('a backfill never overwrites a newer setBucket of the same key', async () => {
    const [fast, slow] = [new MapStore(), new MapStore()];
    const tiered = new TieredBytecodeCache([fast, slow]);
    await put(slow, 'page.html', 'src', '(function(){ return "v1"; })');
    const loaded = await tiered.getBucket(env, 'page.html', null, 'src');
    // The caller adds a V8 cache and stores it while the backfill of v1 is still pending.
    loaded.code = { js: '(function(){ return "v1+v8"; })', v8: Uint8Array.of(9) };
    await tiered.setBucket(loaded);
    await tiered.flush();
    const fromFast = fast.createBucket(env, 'page.html', null, 'src');
    await fast.loadBytecode(fromFast);
    expect(fromFast.code?.js).toBe('(function(){ return "v1+v8"; })');
  });

  it('is synchronous when every tier is', () => {
    const [fast, slow] = [new MemoryBytecodeCache(), new MemoryBytecodeCache()];
    const tiered = new TieredBytecodeCache([fast, slow]);
    const bucket = slow.createBucket(env, 'sync.html', null, 'src');
    bucket.code = { js: '(function(){ return 1; })' };
    slow.setBucketSync(bucket);
    expect(tiered.getBucketSync(env, 'sync.html', null, 'src').code?.js).toBe('(function(){ return 1; })');
    expect(fast.count).toBe(1); // backfilled synchronously
    const other = tiered.createBucket(env, 'other.html', null, 'src');
    other.code = { js: '2' };
    tiered.setBucketSync(other);
    expect([fast.count, slow.count]).toEqual([2, 2]);
    expect(new TieredBytecodeCache([fast, new MapStore()]).loadBytecodeSync).toBeUndefined();
  });

  it('clear() clears every tier even when one fails, then reports the failure', async () => {
    const [fast, dead, slow] = [new MemoryBytecodeCache(), new DeadStore(), new MapStore()];
    const tiered = new TieredBytecodeCache([fast, dead, slow], { onError: () => {} });
    await put(tiered, 'page.html', 'src');
    await expect(tiered.clear()).rejects.toMatchObject({ code: 'ERR_BCC_BACKEND', operation: 'clear' });
    expect(fast.count).toBe(0);
    expect(slow.entries.size).toBe(0);
  });

  it('close() waits for backfills and closes every tier', async () => {
    const [fast, slow] = [new MapStore(), new MapStore()];
    const tiered = new TieredBytecodeCache([fast, slow]);
    await put(slow, 'page.html', 'src');
    await tiered.getBucket(env, 'page.html', null, 'src');
    await tiered.close();
    expect(fast.entries.size).toBe(1);
    expect([fast.closed, slow.closed]).toEqual([true, true]);
  });

  it('refuses an empty list and things that are not caches', () => {
    expect(() => new TieredBytecodeCache([])).toThrow(/non-empty list/);
    expect(() => new TieredBytecodeCache([{} as BytecodeCache])).toThrow(/tier 0/);
  });

  it('throws TypeError for an empty bucket, like every cache', async () => {
    const tiered = new TieredBytecodeCache([new MemoryBytecodeCache()]);
    await expect(tiered.setBucket(tiered.createBucket(env, 'e', null, 's'))).rejects.toBeInstanceOf(
      TypeError,
    );
  });
});
