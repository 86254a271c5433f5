import { type Bucket, type BytecodeCache, type BytecodeCacheOptions, isBccError } from '@bcc/core';
import { makeCode, testEnvironment } from './fixtures.js';
import type { ConformanceTarget, TestApi } from './types.js';

let namespaceCounter = 0;

/**
 * Registers the conformance tests for one adapter. Every group checks one clause of the
 * `BytecodeCache` contract (DESIGN §4); `features` switches off what a store cannot do.
 */
export function runConformanceSuite(api: TestApi, target: ConformanceTarget): void {
  const { describe, it, expect } = api;
  const features = target.features ?? {};
  const timeout = target.timeout ?? 20_000;
  const made: BytecodeCache[] = [];
  const run = `${process.pid.toString(36)}${Date.now().toString(36)}`;

  async function fresh(options: BytecodeCacheOptions = {}, namespace?: string): Promise<BytecodeCache> {
    const ns = namespace ?? `bcc-conformance-${run}-${namespaceCounter++}`;
    const cache = await target.create({ namespace: ns, options });
    made.push(cache);
    return cache;
  }
  const newNamespace = () => `bcc-conformance-${run}-${namespaceCounter++}`;
  const env = testEnvironment();

  async function store(cache: BytecodeCache, name: string, source: string, bytes?: number) {
    const bucket = cache.createBucket(env, name, `/templates/${name}`, source);
    bucket.code = makeCode(`${name}:${source}`, bytes);
    await cache.setBucket(bucket);
    return bucket;
  }
  const load = (cache: BytecodeCache, name: string, source: string) =>
    cache.getBucket(env, name, `/templates/${name}`, source);

  const expectSameCode = (actual: Bucket, expected: Bucket) => {
    expect(actual.code).not.toBeNull();
    expect(actual.code!.js).toBe(expected.code!.js);
    expect(Buffer.from(actual.code!.v8 ?? []).equals(Buffer.from(expected.code!.v8 ?? []))).toBe(true);
  };

  describe(`${target.name}: bcc conformance`, () => {
    api.afterAll?.(async () => {
      for (const cache of made) {
        if (features.clear !== false) await cache.clear().catch(() => {});
        await cache.close().catch(() => {});
      }
    });

    it(
      'misses on an empty store and leaves the bucket empty',
      async () => {
        const cache = await fresh();
        const bucket = await load(cache, 'absent.html', 'source');
        expect(bucket.code).toBeNull();
        expect(cache.stats.misses).toBe(1);
        expect(cache.stats.hits).toBe(0);
      },
      timeout,
    );

    it(
      'round-trips an entry, byte for byte, through a second cache on the same store',
      async () => {
        const ns = newNamespace();
        const writer = await fresh({}, ns);
        const written = await store(writer, 'page.html', 'Hello {{ name }}');
        const reader = await fresh({}, ns);
        const loaded = await load(reader, 'page.html', 'Hello {{ name }}');
        expectSameCode(loaded, written);
        expect(reader.stats.hits).toBe(1);
        expect(writer.stats.writes).toBe(1);
      },
      timeout,
    );

    it(
      'round-trips a large entry',
      async () => {
        const cache = await fresh();
        const size = features.largeEntryBytes ?? 600_000;
        const written = await store(cache, 'large.html', 'large', size);
        expect(written.bytecodeToBytes().length).toBeGreaterThan(size * 0.9);
        expectSameCode(await load(cache, 'large.html', 'large'), written);
      },
      timeout,
    );

    it(
      'overwrites an entry on a second setBucket',
      async () => {
        const cache = await fresh();
        await store(cache, 'page.html', 'v1');
        const bucket = cache.createBucket(env, 'page.html', '/templates/page.html', 'v1');
        bucket.code = { js: '(function(){ return "second"; })' };
        await cache.setBucket(bucket);
        const loaded = await load(cache, 'page.html', 'v1');
        expect(loaded.code?.js).toBe('(function(){ return "second"; })');
        expect(loaded.code?.v8).toBeUndefined();
      },
      timeout,
    );

    it(
      'misses when the source changed (checksum)',
      async () => {
        const cache = await fresh();
        await store(cache, 'page.html', 'old source');
        const bucket = await load(cache, 'page.html', 'new source');
        expect(bucket.code).toBeNull();
        expect(cache.stats.rejected.checksum).toBe(1);
      },
      timeout,
    );

    it(
      'keeps templates apart by name, filename and environment fingerprint',
      async () => {
        const cache = await fresh();
        await store(cache, 'a.html', 'same');
        expect((await load(cache, 'b.html', 'same')).code).toBeNull();
        expect((await cache.getBucket(env, 'a.html', '/elsewhere/a.html', 'same')).code).toBeNull();
        expect(
          (await cache.getBucket(testEnvironment('other'), 'a.html', '/templates/a.html', 'same')).code,
        ).toBeNull();
        expect((await load(cache, 'a.html', 'same')).code).not.toBeNull();
      },
      timeout,
    );

    it(
      'misses, without throwing, on corrupted, truncated or foreign stored bytes',
      async () => {
        const cache = await fresh();
        const good = await store(cache, 'page.html', 'src');
        const frame = Buffer.from(good.bytecodeToBytes());
        const flipped = Buffer.from(frame);
        flipped[Math.floor(flipped.length / 2)]! ^= 0x10;
        const variants: Uint8Array[] = [
          flipped,
          frame.subarray(0, frame.length - 1),
          frame.subarray(0, 10),
          Buffer.concat([frame, Buffer.of(0)]),
          Buffer.from('not a bcc entry at all'),
          Buffer.alloc(1),
        ];
        for (const bytes of variants) {
          // A bucket-shaped object: adapters store whatever bytecodeToBytes() returns under bucket.key.
          const planted = Object.create(good) as Bucket;
          Object.defineProperty(planted, 'bytecodeToBytes', { value: () => bytes });
          await cache.dumpBytecode(planted);
          const loaded = await load(cache, 'page.html', 'src');
          expect(loaded.code).toBeNull();
        }
        const rejected = Object.values(cache.stats.rejected).reduce((a, b) => a + (b ?? 0), 0);
        expect(rejected).toBe(variants.length);
      },
      timeout,
    );

    it(
      'serves many concurrent getBucket/setBucket calls without mixing entries',
      async () => {
        const ns = newNamespace();
        // Correctness under concurrency, not availability: a store's transient error must not skip calls here.
        const caches = [await fresh({ breaker: false }, ns), await fresh({ breaker: false }, ns)];
        const names = Array.from({ length: 8 }, (_, i) => `t${i}.html`);
        const writers = Array.from({ length: 4 }, (_, w) => w);
        const expected = new Set(names.flatMap((n) => writers.map((w) => makeCode(`${n}:${w}`, 3000).js)));
        const ops: Promise<void>[] = [];
        for (let round = 0; round < 3; round++) {
          for (const [i, name] of names.entries()) {
            for (const w of writers) {
              const cache = caches[(i + w + round) % 2]!;
              ops.push(
                (async () => {
                  const bucket = cache.createBucket(env, name, `/templates/${name}`, 'shared');
                  bucket.code = makeCode(`${name}:${w}`, 3000);
                  await cache.setBucket(bucket);
                })(),
                (async () => {
                  const got = await load(cache, name, 'shared');
                  if (got.code) {
                    expect(expected.has(got.code.js)).toBe(true);
                    expect(got.code.js.includes(JSON.stringify(`${name}:`).slice(0, -1))).toBe(true);
                  }
                })(),
              );
            }
          }
        }
        await Promise.all(ops);
        for (const name of names) {
          const final = await load(caches[0]!, name, 'shared');
          expect(final.code).not.toBeNull();
          const writer = writers.find((w) => makeCode(`${name}:${w}`, 3000).js === final.code!.js);
          expect(writer).toBeDefined();
          expect(
            Buffer.from(final.code!.v8!).equals(Buffer.from(makeCode(`${name}:${writer}`, 3000).v8!)),
          ).toBe(true);
        }
      },
      timeout,
    );

    it(
      'loads many buckets at once (loadMany when offered, else one by one)',
      async () => {
        const cache = await fresh();
        const stored = new Set<string>();
        for (let i = 0; i < 20; i += 2) {
          await store(cache, `m${i}.html`, 'many');
          stored.add(`m${i}.html`);
        }
        const buckets = Array.from({ length: 20 }, (_, i) =>
          cache.createBucket(env, `m${i}.html`, `/templates/m${i}.html`, 'many'),
        );
        await cache.loadBuckets(buckets);
        for (const [i, bucket] of buckets.entries()) {
          if (stored.has(`m${i}.html`)) expect(bucket.code?.js).toBe(makeCode(`m${i}.html:many`).js);
          else expect(bucket.code).toBeNull();
        }
        expect(cache.stats.hits).toBe(10);
        expect(cache.stats.misses).toBe(10);
      },
      timeout,
    );

    describe('signed entries', () => {
      it(
        'loads entries signed with its secret, and with a rotated-out secret still listed',
        async () => {
          const ns = newNamespace();
          const old = await fresh({ secret: 'old-key' }, ns);
          const written = await store(old, 'signed.html', 'src');
          const rotated = await fresh({ secret: ['new-key', 'old-key'] }, ns);
          expectSameCode(await load(rotated, 'signed.html', 'src'), written);
        },
        timeout,
      );

      it(
        'refuses unsigned entries, entries signed with another secret, and entries replayed under another key',
        async () => {
          const ns = newNamespace();
          const errors: Error[] = [];
          const signed = await fresh({ secret: 'right', onError: (e) => errors.push(e) }, ns);
          const unsigned = await fresh({}, ns);
          const forger = await fresh({ secret: 'wrong' }, ns);
          await store(unsigned, 'unsigned.html', 'src');
          await store(forger, 'forged.html', 'src');
          expect((await load(signed, 'unsigned.html', 'src')).code).toBeNull();
          expect((await load(signed, 'forged.html', 'src')).code).toBeNull();
          // A genuine entry for one key, copied under another key, must not verify.
          const genuine = await store(signed, 'genuine.html', 'src');
          const target = signed.createBucket(env, 'victim.html', '/templates/victim.html', 'src');
          const replay = Object.create(target) as Bucket;
          Object.defineProperty(replay, 'bytecodeToBytes', { value: () => genuine.bytecodeToBytes() });
          await signed.dumpBytecode(replay);
          expect((await load(signed, 'victim.html', 'src')).code).toBeNull();
          expect(signed.stats.rejected.unsigned).toBe(1);
          expect(signed.stats.rejected.signature).toBe(1);
          expect(signed.stats.rejected.key).toBe(1);
          expect(errors.filter((e) => isBccError(e) && e.code === 'ERR_BCC_REJECTED_ENTRY')).toHaveLength(3);
        },
        timeout,
      );
    });

    if (features.clear !== false) {
      it(
        'clear() removes the entries of this cache',
        async () => {
          const cache = await fresh();
          await store(cache, 'a.html', 'x');
          await store(cache, 'b.html', 'x');
          await cache.clear();
          expect((await load(cache, 'a.html', 'x')).code).toBeNull();
          expect((await load(cache, 'b.html', 'x')).code).toBeNull();
          await store(cache, 'a.html', 'x');
          expect((await load(cache, 'a.html', 'x')).code).not.toBeNull();
        },
        timeout,
      );
    }

    if (features.clear !== false && features.isolation !== false) {
      it(
        "clear() leaves another namespace's entries alone",
        async () => {
          const mine = await fresh();
          const theirs = await fresh();
          await store(mine, 'a.html', 'x');
          const kept = await store(theirs, 'a.html', 'x');
          await mine.clear();
          expect((await load(mine, 'a.html', 'x')).code).toBeNull();
          expectSameCode(await load(theirs, 'a.html', 'x'), kept);
        },
        timeout,
      );
    }

    const sync = features.sync;
    if (sync === true) {
      it(
        'supports synchronous getBucketSync/setBucketSync',
        async () => {
          const cache = await fresh();
          expect(typeof cache.loadBytecodeSync).toBe('function');
          const bucket = cache.createBucket(env, 'sync.html', '/templates/sync.html', 'src');
          bucket.code = makeCode('sync');
          cache.setBucketSync(bucket);
          const loaded = cache.getBucketSync(env, 'sync.html', '/templates/sync.html', 'src');
          expectSameCode(loaded, bucket);
          expect(cache.getBucketSync(env, 'sync.html', '/templates/sync.html', 'changed').code).toBeNull();
        },
        timeout,
      );
    }

    it(
      'lists, reads and deletes its own entries, and only those, when it can enumerate (bcc ls, verify, prune)',
      async () => {
        const ns = newNamespace();
        const cache = await fresh({}, ns);
        if (!cache.listEntries) {
          // Not every store can enumerate; one that cannot must not half-implement it.
          expect(cache.readEntry === undefined && cache.deleteEntry === undefined).toBe(true);
          return;
        }
        const neighbour = await fresh();
        await store(neighbour, 'theirs.html', 'not ours');
        const a = await store(cache, 'a.html', 'A', 2048);
        const b = await store(cache, 'b.html', 'B');
        const listed = [];
        for await (const entry of cache.listEntries()) listed.push(entry);
        const byKey = new Map(listed.map((entry) => [entry.key, entry]));
        expect([...byKey.keys()].sort()).toEqual([a.key, b.key].sort());
        expect(byKey.get(a.key)!.size).toBe(a.bytecodeToBytes().length);
        const modified = byKey.get(b.key)!.modified;
        if (modified !== undefined)
          expect(Math.abs(modified.getTime() - Date.now())).toBeLessThan(10 * 60_000);
        const bytes = await cache.readEntry!(a.key);
        expect(Buffer.from(bytes!).equals(Buffer.from(a.bytecodeToBytes()))).toBe(true);
        expect(await cache.readEntry!(`${a.key.slice(0, -4)}0000`)).toBeUndefined();
        expect(await cache.deleteEntry!(a.key)).toBe(true);
        expect(await cache.deleteEntry!(a.key)).toBe(false);
        expect((await load(cache, 'a.html', 'A')).code).toBeNull();
        expect((await load(cache, 'b.html', 'B')).code).not.toBeNull();
        expect((await load(neighbour, 'theirs.html', 'not ours')).code).not.toBeNull();
      },
      timeout,
    );

    it(
      'throws TypeError when asked to store an empty bucket',
      async () => {
        const cache = await fresh();
        const bucket = cache.createBucket(env, 'empty.html', null, 'src');
        await expect(cache.setBucket(bucket)).rejects.toBeInstanceOf(TypeError);
      },
      timeout,
    );

    const createUnreachable = target.createUnreachable;
    if (createUnreachable) {
      describe('an unreachable backend', () => {
        it(
          'is a miss and a skipped write with ignoreErrors (the default), reported through onError',
          async () => {
            const errors: Error[] = [];
            const cache = await createUnreachable({
              namespace: newNamespace(),
              options: { breaker: false, onError: (e) => errors.push(e) },
            });
            made.push(cache);
            const bucket = await load(cache, 'page.html', 'src');
            expect(bucket.code).toBeNull();
            bucket.code = makeCode('unreachable');
            await expect(cache.setBucket(bucket)).resolves.toBe(false);
            expect(errors.length).toBeGreaterThanOrEqual(2);
            expect(errors.every((e) => isBccError(e))).toBe(true);
            expect(cache.stats.errors).toBeGreaterThanOrEqual(2);
            expect(cache.stats.writeFailures).toBe(1);
          },
          timeout,
        );

        it(
          'rejects with a BccBackendError carrying the cause when ignoreErrors is false',
          async () => {
            const cache = await createUnreachable({
              namespace: newNamespace(),
              options: { ignoreErrors: false, breaker: false },
            });
            made.push(cache);
            const error = await load(cache, 'page.html', 'src').then(
              () => null,
              (e: unknown) => e,
            );
            expect(isBccError(error)).toBe(true);
            expect((error as { code: string }).code).toBe('ERR_BCC_BACKEND');
            expect((error as Error).cause).toBeDefined();
            const bucket = cache.createBucket(env, 'page.html', null, 'src');
            bucket.code = makeCode('unreachable');
            await expect(cache.setBucket(bucket)).rejects.toMatchObject({ code: 'ERR_BCC_BACKEND' });
          },
          timeout,
        );
      });
    }
  });
}
