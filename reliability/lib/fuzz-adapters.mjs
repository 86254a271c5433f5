/**
 * The fuzz sample through a store's whole load path: each damaged or forged entry is planted
 * in the store through the adapter's own `dumpBytecode` (a stand-in bucket that hands over raw
 * bytes, so nothing re-encodes them), then loaded as a template engine would, through each
 * load path the store has: `getBucket`, `getBucketSync` and `loadBuckets` (its `loadMany`). The outcome must match what `bytecodeFromBytes` decides for the same
 * bytes: the store neither loses, alters nor invents an entry, and no error escapes.
 */
import { ENVIRONMENT, makeTemplates } from './corpus.mjs';
import { caseFor, classifyCode, judge, MODES, makeCases, mutateCase } from './fuzz-frames.mjs';
import { Rng } from './rng.mjs';

/** Entries planted, then loaded, at a time: batches exercise `loadBuckets` (MGET, pipelining). */
const BATCH = 8;

/**
 * @param {import('./stores.mjs').OpenStore} store
 * @param {{ count: number, seed: number }} options
 */
export async function runAdapterFuzz(store, { count, seed }) {
  const rng = new Rng(seed);
  const templates = makeTemplates().filter((t) => t.name !== 'large.html' || store.name !== 'memcached');
  // Splice partners: other templates' entries. (Another key's entry for the same source is a
  // replay, which the forgery family covers.)
  const others = makeCases(templates).map((c) => c.frame);
  const run = `${Date.now().toString(36)}-${seed}`;
  const caches = MODES.map((mode) =>
    store.create(mode.reader.length > 0 ? { secret: mode.reader } : {}, `fuzz-${run}-${mode.name}`),
  );
  const result = {
    store: store.name,
    count: 0,
    escaped: 0,
    acceptedDiffers: 0,
    unsignedForgeriesAccepted: 0,
    mismatches: 0,
    backendErrors: 0,
    rejectedInStats: 0,
    rejectedExpected: 0,
    /** Entries loaded through each path: getBucket, getBucketSync, loadBuckets (loadMany). */
    byPath: { getBucket: 0, getBucketSync: 0, loadBuckets: 0 },
    failures: [],
  };
  const fail = (entry) => {
    if (result.failures.length < 5) result.failures.push({ store: store.name, seed, ...entry });
  };
  const rejectedTotal = (cache) => Object.values(cache.stats.rejected).reduce((a, b) => a + b, 0);
  try {
    for (let start = 0, batch = 0; start < count; start += BATCH, batch++) {
      const modeIndex = batch % MODES.length;
      const mode = MODES[modeIndex];
      const cache = caches[modeIndex];
      const items = [];
      for (let i = start; i < Math.min(count, start + BATCH); i++) {
        const template = rng.pick(templates);
        // A fresh name per sample: a write the store skipped must not leave an older entry to be found.
        const name = `${template.name}#${i}`;
        const c = caseFor(
          { ...template, name },
          mode,
          cache.getCacheKey(name, null, ENVIRONMENT.fingerprint),
        );
        const m = mutateCase(rng, c, others);
        items.push({ i, name, template, c, m, expected: judge(c, m.bytes) });
      }
      // Every load path the store has: one by one, synchronously, and in a batch (MGET, pipelining ...).
      const paths = ['getBucket', 'loadBuckets'];
      if (typeof cache.loadBytecodeSync === 'function') paths.push('getBucketSync');
      const path = rng.pick(paths);
      const errorsBefore = cache.stats.errors;
      const rejectedBefore = rejectedTotal(cache);
      let buckets;
      try {
        for (const item of items) {
          await cache.dumpBytecode({ key: item.c.template.key, bytecodeToBytes: () => item.m.bytes });
        }
        if (path === 'loadBuckets') {
          buckets = items.map((item) =>
            cache.createBucket(ENVIRONMENT, item.name, null, item.template.source),
          );
          await cache.loadBuckets(buckets);
        } else {
          buckets = [];
          for (const item of items) {
            buckets.push(
              path === 'getBucketSync'
                ? cache.getBucketSync(ENVIRONMENT, item.name, null, item.template.source)
                : await cache.getBucket(ENVIRONMENT, item.name, null, item.template.source),
            );
          }
        }
      } catch (error) {
        result.escaped += items.length;
        fail({ iteration: start, path, mode: mode.name, error: String(error) });
        continue;
      }
      result.count += items.length;
      result.byPath[path] += items.length;
      if (cache.stats.errors > errorsBefore) {
        // The store failed (not the entries): misses, which are allowed, but counted.
        result.backendErrors += items.length;
        continue;
      }
      result.rejectedInStats += rejectedTotal(cache) - rejectedBefore;
      for (const [j, item] of items.entries()) {
        const code = buckets[j].code;
        const actual = code === null ? 'rejected' : classifyCode(item.c, code);
        if (item.expected === 'rejected') result.rejectedExpected++;
        if (actual === 'differs') {
          if (item.m.family === 'forged' && mode.reader.length === 0) result.unsignedForgeriesAccepted++;
          else {
            result.acceptedDiffers++;
            fail({ iteration: item.i, path, op: item.m.op, mode: mode.name, verdict: actual });
          }
        }
        if (actual !== item.expected) {
          result.mismatches++;
          fail({ iteration: item.i, path, op: item.m.op, mode: mode.name, expected: item.expected, actual });
        }
      }
    }
  } finally {
    for (const cache of caches) {
      await cache.clear().catch(() => {});
      await cache.close();
    }
  }
  return result;
}
