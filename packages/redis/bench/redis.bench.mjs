// pnpm bench (in packages/redis): against a local redis-server (or BCC_TEST_REDIS_URL),
//  1. hit latency through RedisBytecodeCache.getBucket vs the raw ioredis GET of the same bytes
//     (target <= 1.2x), and
//  2. warming 100 entries through loadBuckets (MGET) vs 100 sequential getBucket calls
//     (target >= 10x faster).
// Runs against dist: build first (the package's bench script does).

import {
  compare,
  fmt,
  hitLatencyRow,
  startDelayProxy,
  startRedis,
  startRedisCluster,
  warmUpRow,
} from '@bcc/test-servers';
import { Cluster, Redis } from 'ioredis';
import { RedisBytecodeCache } from '../dist/index.js';

const server = process.env.BCC_TEST_REDIS_URL ? null : await startRedis();
const url = process.env.BCC_TEST_REDIS_URL ?? server.url;
const env = { fingerprint: 'bench' };
const source = 'Hello {{ name }}'.repeat(20);
const cache = new RedisBytecodeCache({ url, prefix: `bench-${process.pid}/` });
const raw = cache.client;

console.log(`@bcc/redis bench against ${url} (Node ${process.version})\n`);
console.log('hit latency, µs per call (median of rounds; ratios against the raw GET)');
console.log('  raw GET      ioredis getBuffer of the stored frame');
console.log(
  '  GET+decode   the same, then Bucket.bytecodeFromBytes (CRC, checksum, runtime tag): the floor for any adapter',
);
console.log('  loadBytecode the adapter: GET + decode');
console.log('  getBucket    what a template engine calls: key and checksum hashing + loadBytecode');
console.log('  entry     raw GET  GET+decode   loadBytecode     getBucket');
for (const size of [2_000, 20_000, 85_000]) {
  await hitLatencyRow(cache, {
    env,
    source,
    size,
    storeKey: (k) => cache.keyFor(k),
    rawGet: (key) => raw.getBuffer(key),
  });
}

console.log('\nwarm-up of 100 entries, ms (median of rounds)');
console.log('  entry      loadBuckets  sequential  speed-up');
for (const size of [1_000, 20_000, 85_000]) {
  await warmUpRow(cache, { env, source, size, prefix: 'warm', rounds: 15, store: true });
}

// Loopback answers in 13-25 µs, so above the per-entry work (hashing, frame checks) dominates
// both sides. Through a proxy adding 1 ms each way, the round trips a batch saves show.
const proxy = await startDelayProxy(Number(new URL(url).port), 1);
const slow = new RedisBytecodeCache({
  url: `redis://127.0.0.1:${proxy.port}`,
  prefix: cache.prefix,
  commandTimeout: 5000,
});
console.log('\nwarm-up of 100 entries through a proxy adding 1 ms each way (a slow network), ms');
console.log('  entry      loadBuckets  sequential  speed-up');
for (const size of [1_000, 20_000]) {
  await warmUpRow(slow, { env, source, size, prefix: 'warm', rounds: 3, store: false });
}
await slow.close();
await proxy.close();

// The same warm-up on a three-master Redis Cluster: one pipeline of GETs per master.
if (!process.env.BCC_TEST_REDIS_URL) {
  const cluster = await startRedisCluster();
  const client = new Cluster(cluster.nodes, { redisOptions: { commandTimeout: 500 } });
  await new Promise((resolve, reject) => {
    client.once('ready', resolve);
    client.once('error', reject);
  });
  const onCluster = new RedisBytecodeCache({ client, prefix: `bench-${process.pid}/` });
  console.log('\nwarm-up of 100 entries on a 3-master Redis Cluster (loopback), ms');
  console.log('  entry      loadBuckets  sequential  speed-up');
  for (const size of [1_000, 20_000]) {
    await warmUpRow(onCluster, { env, source, size, prefix: 'cluster', rounds: 15, store: true });
  }
  client.disconnect();
  await cluster.stop();
}

// A dead server must be a fast miss. Kill it and time misses: with the client the cache makes
// (fails at once while disconnected) and with a client on ioredis' defaults (queues commands;
// the cache's commandTimeout bounds the wait).
if (server) {
  const defaults = new Redis(url);
  defaults.on('error', () => {});
  const own = new RedisBytecodeCache({ url, prefix: cache.prefix });
  const borrowed = new RedisBytecodeCache({ client: defaults, prefix: cache.prefix });
  await own.getBucket(env, 'hit-2000.html', null, source);
  await borrowed.getBucket(env, 'hit-2000.html', null, source);
  await server.kill();
  await new Promise((r) => setTimeout(r, 100));
  console.log('\nredis-server killed: time to a miss, ms (median of 10 calls)');
  for (const [label, c] of [
    ['client made by the cache', own],
    ['client with ioredis defaults, commandTimeout 500', borrowed],
  ]) {
    const [t] = await compare(
      [
        async () => {
          if ((await c.getBucket(env, 'hit-2000.html', null, source)).code)
            throw new Error('expected a miss');
        },
      ],
      { ops: 1, rounds: 10 },
    );
    console.log(`  ${label.padEnd(50)}${fmt(t / 1000, 2)}`);
  }
  await server.start();
  await own.close();
  await borrowed.close();
  defaults.disconnect();
}

await cache.clear();
await cache.close();
await server?.stop();
