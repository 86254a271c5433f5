// Shared by the network adapters' benchmarks (packages/redis/bench, packages/memcached/bench), so
// both measure the same way and the delay proxy exists once.
import { Bucket, type BucketEnvironment, type BytecodeCache } from '@bcc/core';
import { startProxy } from './proxy.js';

/** Median of `rounds` timings of `fn` (which runs `ops` operations), in microseconds per operation. */
export async function perOp(fn: () => Promise<unknown>, { ops, rounds }: { ops: number; rounds: number }) {
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1000 / ops);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

/**
 * Runs each of `fns` in turn, round after round (so drift and GC hit all alike), and returns
 * the median microseconds per operation of each.
 */
export async function compare(
  fns: (() => Promise<unknown>)[],
  { ops, rounds }: { ops: number; rounds: number },
) {
  const samples: number[][] = fns.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (const [i, fn] of fns.entries()) samples[i]!.push(await perOp(fn, { ops, rounds: 1 }));
  }
  return samples.map((s) => s.sort((x, y) => x - y)[Math.floor(s.length / 2)]!);
}

/** Template-like code of about `bytes` bytes: half JavaScript, half opaque "V8" bytes. */
export function benchCode(seed: string | number, bytes: number): { js: string; v8: Uint8Array } {
  const line = `function f_${seed}(ctx, out) { out.push(ctx.lookup("name") + "<li>${seed}</li>"); }\n`;
  const js = `(function(){\n${line.repeat(Math.max(1, Math.ceil(bytes / 2 / line.length)))}})`;
  const v8 = new Uint8Array(Math.max(64, Math.floor(bytes / 2))).map((_, i) => (i * 2654435761) >>> 24);
  return { js, v8 };
}

/** Right-aligned number for benchmark tables. */
export const fmt = (n: number, digits = 1) => n.toFixed(digits).padStart(8);

/** A loopback proxy to `port` that holds every chunk for `delayMs` in each direction. */
export async function startDelayProxy(port: number, delayMs: number) {
  return startProxy(port, { delayMs });
}

/** A benchmark row's size label, e.g. `20 KB`. */
const sizeLabel = (size: number) => `${size / 1000} KB`.padEnd(8);

/**
 * One row of the hit-latency table of a network adapter: the raw client's GET of a stored frame,
 * that GET plus `Bucket.bytecodeFromBytes` (the floor for any adapter), the adapter's
 * `loadBytecode`, and `getBucket` (what an engine calls), in µs per call with ratios to the GET.
 */
export async function hitLatencyRow(
  cache: BytecodeCache,
  options: {
    env: BucketEnvironment;
    source: string;
    size: number;
    /** The store's key of an entry (e.g. prefix + bucket key), computed once, outside the timings. */
    storeKey: (bucketKey: string) => string | Promise<string>;
    /** The raw client's GET of a store key. */
    rawGet: (storeKey: string) => Promise<Uint8Array | null | undefined>;
    ops?: number;
  },
): Promise<void> {
  const { env, source, size, rawGet, ops = 200 } = options;
  const name = `hit-${size}.html`;
  const bucket = cache.createBucket(env, name, null, source);
  bucket.code = benchCode(size, size);
  await cache.setBucket(bucket);
  const key = await options.storeKey(bucket.key);
  const empty = () => new Bucket(env, bucket.key, bucket.checksum);
  const expectHit = (b: { code: unknown }) => {
    if (!b.code) throw new Error('expected a hit');
  };
  const [direct, floor, load, full] = await compare(
    [
      async () => {
        for (let i = 0; i < ops; i++) if (!(await rawGet(key))) throw new Error('expected a value');
      },
      async () => {
        for (let i = 0; i < ops; i++) {
          const b = empty();
          b.bytecodeFromBytes((await rawGet(key))!);
          expectHit(b);
        }
      },
      async () => {
        for (let i = 0; i < ops; i++) {
          const b = empty();
          await cache.loadBytecode(b);
          expectHit(b);
        }
      },
      async () => {
        for (let i = 0; i < ops; i++) expectHit(await cache.getBucket(env, name, null, source));
      },
    ],
    { ops, rounds: 25 },
  );
  const cell = (t: number) => `${fmt(t)} ${`(${(t / direct!).toFixed(2)}x)`.padEnd(8)}`;
  console.log(`  ${sizeLabel(size)}${fmt(direct!)}  ${cell(floor!)}${cell(load!)}${cell(full!)}`);
}

/**
 * One row of a warm-up table: 100 entries of `size` bytes loaded through `loadBuckets` vs 100
 * sequential `getBucket` calls, in ms, with the speed-up. `store` writes the entries first.
 */
export async function warmUpRow(
  cache: BytecodeCache,
  options: {
    env: BucketEnvironment;
    source: string;
    size: number;
    prefix: string;
    rounds: number;
    store: boolean;
  },
): Promise<void> {
  const { env, source, size, rounds } = options;
  const names = Array.from({ length: 100 }, (_, i) => `${options.prefix}-${size}-${i}.html`);
  if (options.store) {
    for (const name of names) {
      const bucket = cache.createBucket(env, name, null, source);
      bucket.code = benchCode(name, size);
      await cache.setBucket(bucket);
    }
  }
  const [batch, sequential] = await compare(
    [
      async () => {
        const buckets = names.map((n) => cache.createBucket(env, n, null, source));
        await cache.loadBuckets(buckets);
        if (!buckets.every((b) => b.code)) throw new Error('expected hits');
      },
      async () => {
        for (const n of names)
          if (!(await cache.getBucket(env, n, null, source)).code) throw new Error('expected a hit');
      },
    ],
    { ops: 1, rounds },
  );
  console.log(
    `  ${sizeLabel(size)}${fmt(batch! / 1000, 2).padStart(11)}${fmt(sequential! / 1000, 2).padStart(12)}${fmt(sequential! / batch!, 1).padStart(9)}x`,
  );
}
