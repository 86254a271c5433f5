/**
 * Sick servers, for chaos.mjs: memcached and Redis killed in the middle of a large reply (a
 * proxy forwards part of it, then the server dies) and restarted, and a value far larger than
 * any entry planted at a bcc key. The same cache instance must hit again after every restart,
 * and the huge value must cost one bounded miss while other keys keep hitting.
 */
import { MemcachedBytecodeCache } from '@bcc/memcached';
import { RedisBytecodeCache } from '@bcc/redis';
import { startMemcached, startProxy, startRedis } from '@bcc/test-servers';

const env = { fingerprint: 'chaos-sick' };
const MIB = 1024 * 1024;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function bigCode(bytes, seed) {
  const line = `/* ${seed} */ out.push(ctx.lookup("row_${seed}") + "<td>cell</td>");\n`;
  return { js: `(function(ctx, out){\n${line.repeat(Math.ceil(bytes / line.length))}})` };
}

async function write(cache, name, code) {
  const bucket = cache.createBucket(env, name, null, 'src');
  bucket.code = code;
  await cache.setBucket(bucket);
}

const load = (cache, name) => cache.getBucket(env, name, null, 'src');

/** Milliseconds until `name` is written and read back as a hit, or null after `ms`. */
async function msUntilHit(cache, name, code, ms) {
  const started = performance.now();
  while (performance.now() - started < ms) {
    await write(cache, name, code);
    if ((await load(cache, name)).code?.js === code.js) return Math.round(performance.now() - started);
    await sleep(50);
  }
  return null;
}

const STORES = {
  memcached: {
    start: () => startMemcached({ itemSize: '128m', memoryMb: 256 }),
    cache: (port) =>
      new MemcachedBytecodeCache({ servers: `127.0.0.1:${port}`, maxItemSize: 2 * MIB, onError: () => {} }),
    plant: async (server, key, bytes) => {
      const raw = new MemcachedBytecodeCache({ servers: server.url, breaker: false });
      await raw.client.set(key, bytes, {});
      await raw.close();
    },
    rawKey: (cache, bucketKey) => cache.keyFor(bucketKey),
  },
  redis: {
    start: () => startRedis(),
    cache: (port) =>
      new RedisBytecodeCache({ url: `redis://127.0.0.1:${port}`, maxEntrySize: 2 * MIB, onError: () => {} }),
    plant: async (server, key, bytes) => {
      const raw = new RedisBytecodeCache({
        url: server.url,
        breaker: false,
        options: { enableOfflineQueue: true },
      });
      await raw.client.set(key, bytes);
      await raw.close();
    },
    rawKey: async (cache, bucketKey) => cache.keyFor(bucketKey),
  },
};

/** Runs the checks for each store; returns one result line each and whether all passed. */
export async function sickServerChecks({ rounds = 5, log = () => {} } = {}) {
  const lines = [];
  let ok = true;
  for (const [name, store] of Object.entries(STORES)) {
    const server = await store.start();
    const proxy = await startProxy(server.port);
    const cache = store.cache(proxy.port);
    const recoveries = [];
    try {
      for (let round = 0; round < rounds; round++) {
        const code = bigCode(512 * 1024, round);
        if ((await msUntilHit(cache, 'big.html', code, 5000)) === null)
          throw new Error(`${name}: no hit before round ${round}`);
        const cut = proxy.cutNextReply({ after: 50_000 + round * 20_000, onCut: () => server.kill() });
        const missed = await load(cache, 'big.html');
        await cut;
        await server.start();
        const ms = await msUntilHit(cache, 'big.html', code, 10_000);
        recoveries.push(ms);
        log(
          `sick: ${name} round ${round}: ${missed.code ? 'hit (reply completed before the cut)' : 'miss'} while cut, hits again after ${ms ?? 'NEVER'} ms`,
        );
      }
      // 64 MB at a bcc key: one bounded miss, and another key still hits right after.
      const small = bigCode(2000, 'small');
      await write(cache, 'small.html', small);
      const bucketKey = cache.getCacheKey('huge.html', null, env.fingerprint);
      await store.plant(server, await store.rawKey(cache, bucketKey), Buffer.alloc(64 * MIB, 1));
      const started = performance.now();
      const huge = await load(cache, 'huge.html');
      const hugeMs = Math.round(performance.now() - started);
      const otherHits = (await load(cache, 'small.html')).code?.js === small.js;
      const recovered = recoveries.every((ms) => ms !== null);
      const passed = recovered && huge.code === null && otherHits;
      ok &&= passed;
      lines.push(
        `${name}: killed mid-reply ${rounds}x, hits again after ${recoveries.map((ms) => ms ?? 'NEVER').join('/')} ms; ` +
          `64 MB value: miss in ${hugeMs} ms, other keys ${otherHits ? 'hit' : 'MISSED'} ${passed ? 'ok' : 'FAIL'}`,
      );
    } catch (error) {
      ok = false;
      lines.push(`${name}: FAIL ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      await cache.close();
      await proxy.close();
      await server.stop();
    }
  }
  return { ok, lines };
}
