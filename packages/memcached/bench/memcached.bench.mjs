// pnpm bench (in packages/memcached): against a local memcached (or the first of BCC_TEST_MEMCACHED),
//  1. hit latency through MemcachedBytecodeCache vs the raw memjs GET of the same bytes
//     (target <= 1.2x), and
//  2. warming 100 entries through loadBuckets (pipelined GETs) vs 100 sequential getBucket
//     calls (target >= 10x faster).
// Runs against dist: build first (the package's bench script does).
import { compare, fmt, hitLatencyRow, startDelayProxy, startMemcached, warmUpRow } from '@bcc/test-servers';
import { MemcachedBytecodeCache } from '../dist/index.js';

const server = process.env.BCC_TEST_MEMCACHED ? null : await startMemcached();
const servers = process.env.BCC_TEST_MEMCACHED?.split(',')[0] ?? server.url;
const env = { fingerprint: 'bench' };
const source = 'Hello {{ name }}'.repeat(20);
const cache = new MemcachedBytecodeCache({ servers, prefix: `bench-${process.pid}/` });
const raw = cache.client;

console.log(`@bcc/memcached bench against ${servers} (Node ${process.version})\n`);
console.log('hit latency, µs per call (median of rounds; ratios against the raw GET)');
console.log('  raw GET      memjs get of the stored frame');
console.log(
  '  GET+decode   the same, then Bucket.bytecodeFromBytes (CRC, checksum, runtime tag): the floor for any adapter',
);
console.log('  loadBytecode the adapter: GET + decode (namespace version cached)');
console.log('  getBucket    what a template engine calls: key and checksum hashing + loadBytecode');
console.log('  entry     raw GET  GET+decode   loadBytecode     getBucket');
for (const size of [2_000, 20_000, 85_000]) {
  await hitLatencyRow(cache, {
    env,
    source,
    size,
    storeKey: (k) => cache.keyFor(k),
    rawGet: async (key) => (await raw.get(key)).value,
  });
}

console.log('\nwarm-up of 100 entries, ms (median of rounds)');
console.log('  entry      loadBuckets  sequential  speed-up');
for (const size of [1_000, 20_000, 85_000]) {
  await warmUpRow(cache, { env, source, size, prefix: 'warm', rounds: 15, store: true });
}

// Loopback answers in 15-25 µs, so above the per-entry work (hashing, frame checks) dominates
// both sides. Through a proxy adding 1 ms each way, the round trips a batch saves show.
const proxy = await startDelayProxy(Number(servers.split(':')[1]), 1);
const slow = new MemcachedBytecodeCache({
  servers: `127.0.0.1:${proxy.port}`,
  prefix: cache.prefix,
  timeout: 5000,
});
console.log('\nwarm-up of 100 entries through a proxy adding 1 ms each way (a slow network), ms');
console.log('  entry      loadBuckets  sequential  speed-up');
for (const size of [1_000, 20_000]) {
  await warmUpRow(slow, { env, source, size, prefix: 'warm', rounds: 3, store: false });
}
await slow.close();
await proxy.close();

// A dead server must be a fast miss. Kill it and time misses.
if (server) {
  const own = new MemcachedBytecodeCache({ servers, prefix: cache.prefix });
  await own.getBucket(env, 'hit-2000.html', null, source);
  await server.kill();
  await new Promise((r) => setTimeout(r, 100));
  console.log('\nmemcached killed: time to a miss, ms (median of 10 calls)');
  const [t] = await compare(
    [
      async () => {
        if ((await own.getBucket(env, 'hit-2000.html', null, source)).code)
          throw new Error('expected a miss');
      },
    ],
    { ops: 1, rounds: 10 },
  );
  console.log(`  ${'client made by the cache'.padEnd(50)}${fmt(t / 1000, 2)}`);
  await server.start();
  await own.close();
}

await cache.close();
await server?.stop();
