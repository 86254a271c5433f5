/**
 * A chaos worker: renders templates continuously through one cache per store (the compile-
 * through flow of `loadTemplate`, V8 cache stored after the first render), and reports to the
 * parent every 250 ms: renders, failed renders, hits, misses, backend errors and the slowest
 * cache call per store. A render fails when anything throws or its output is wrong.
 *
 * Started by chaos.mjs with IPC; argv[2] is JSON `{ id, stores: { name: address }, tiered }`;
 * with `tiered`, a TieredBytecodeCache over all the stores is rendered through as well.
 */
import { Script } from 'node:vm';
import { loadTemplate } from '@bcc/core';
import { TINY_CONTEXT, tinyEnvironment, tinyTemplates } from './tiny-engine.mjs';

const { id, stores: addresses, tiered } = JSON.parse(process.argv[2]);
const environment = tinyEnvironment('bcc-reliability/chaos/1');
const templates = tinyTemplates(24);
// The right output of each template, rendered without any cache.
const expected = templates.map((t) =>
  new Script(environment.compile(t.source, t.name)).runInThisContext()(TINY_CONTEXT),
);

async function makeCache(name, address, prefix = 'bcc-chaos/') {
  // Counted through cache.stats.errors; the last message is kept to explain slow calls.
  const onError = (error) => {
    lastError[name] = error.message.slice(0, 300);
  };
  if (name === 'redis') {
    const { RedisBytecodeCache } = await import('@bcc/redis');
    return new RedisBytecodeCache({ url: address, prefix, onError });
  }
  if (name === 'memcached') {
    const { MemcachedBytecodeCache } = await import('@bcc/memcached');
    return new MemcachedBytecodeCache({ servers: address, prefix, onError });
  }
  if (name === 's3') {
    const { S3BytecodeCache } = await import('@bcc/s3');
    const { TEST_S3_BUCKET, TEST_S3_CREDENTIALS } = await import('@bcc/test-servers');
    return new S3BytecodeCache({
      bucket: process.env.BCC_TEST_S3_BUCKET ?? TEST_S3_BUCKET,
      prefix,
      clientConfig: { endpoint: address, region: 'us-east-1', credentials: TEST_S3_CREDENTIALS },
      onError,
    });
  }
  if (name === 'tiered') {
    // Every store behind one cache, fastest first: a dead tier must cost neither hits nor renders.
    const { TieredBytecodeCache } = await import('@bcc/core');
    const tiers = [];
    for (const [tier, tierAddress] of Object.entries(address)) {
      tiers.push(await makeCache(tier, tierAddress, 'bcc-chaos-tiered/'));
    }
    return new TieredBytecodeCache(tiers, { onError });
  }
  throw new Error(`unknown store ${name}`);
}

const lastError = {};
const fresh = () => ({ renders: 0, failed: 0, hits: 0, misses: 0, errors: 0, maxCallMs: 0, slow: [] });
const stores = [];
const plan = Object.entries(addresses);
if (tiered) plan.push(['tiered', addresses]);
for (const [name, address] of plan) {
  const cache = await makeCache(name, address);
  const store = { name, cache, window: fresh(), total: fresh(), failures: [] };
  // Time every call the render path makes into the cache.
  for (const method of ['getBucket', 'setBucket']) {
    const original = cache[method].bind(cache);
    cache[method] = async (...args) => {
      const t = performance.now();
      try {
        return await original(...args);
      } finally {
        const ms = performance.now() - t;
        if (ms > store.window.maxCallMs) store.window.maxCallMs = ms;
        // Calls over a second are reported one by one, so the parent can place them in time.
        if (ms > 1000) {
          store.window.slow.push({ method, ms: Math.round(ms), endedAt: Date.now(), error: lastError[name] });
        }
      }
    };
  }
  stores.push(store);
}

function flush() {
  const report = { id, t: Date.now(), stores: {} };
  for (const store of stores) {
    const w = store.window;
    w.errors = store.cache.stats.errors - store.errorsSeen || 0;
    store.errorsSeen = store.cache.stats.errors;
    report.stores[store.name] = w;
    for (const k of ['renders', 'failed', 'hits', 'misses', 'errors']) store.total[k] += w[k];
    store.total.maxCallMs = Math.max(store.total.maxCallMs, w.maxCallMs);
    store.window = fresh();
  }
  process.send?.(report);
}
for (const store of stores) store.errorsSeen = store.cache.stats.errors;
const timer = setInterval(flush, 250);

let stopping = false;
process.on('message', (message) => {
  if (message === 'stop') stopping = true;
});

for (let i = id; !stopping; i++) {
  const index = i % templates.length;
  for (const store of stores) {
    const w = store.window;
    w.renders++;
    try {
      const loaded = await loadTemplate(store.cache, environment, templates[index]);
      if (loaded.from === 'compiled') w.misses++;
      else w.hits++;
      const output = loaded.value(TINY_CONTEXT);
      if (output !== expected[index]) throw new Error(`wrong output for ${templates[index].name}`);
      await loaded.persistCodeCache();
    } catch (error) {
      w.failed++;
      if (store.failures.length < 3) store.failures.push(String(error?.stack ?? error));
    }
  }
  // Leave the two cores some air: four workers, three servers and the parent share them.
  await new Promise((resolve) => setTimeout(resolve, 3));
}
clearInterval(timer);
flush();
process.send?.({
  id,
  done: true,
  totals: Object.fromEntries(
    stores.map((s) => [
      s.name,
      s.cache.hitsByTier ? { ...s.total, hitsByTier: [...s.cache.hitsByTier] } : s.total,
    ]),
  ),
  failures: stores.flatMap((s) => s.failures.map((f) => `${s.name}: ${f}`)),
});
await Promise.all(stores.map((s) => s.cache.close()));
process.disconnect?.();
