/**
 * The fuzz sample through a store's whole load path: each damaged or forged entry is planted
 * in the store through the adapter's own `dumpBytecode` (a stand-in bucket that hands over raw
 * bytes, so nothing re-encodes them), then loaded with `cache.getBucket()` exactly as a
 * template engine would. The outcome must match what `bytecodeFromBytes` decides for the same
 * bytes: the store neither loses, alters nor invents an entry, and no error escapes.
 */
import { ENVIRONMENT, makeTemplates } from './corpus.mjs';
import { caseFor, classifyCode, judge, MODES, makeCases, mutateCase } from './fuzz-frames.mjs';
import { Rng } from './rng.mjs';

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
    failures: [],
  };
  const fail = (entry) => {
    if (result.failures.length < 5) result.failures.push({ store: store.name, seed, ...entry });
  };
  try {
    for (let i = 0; i < count; i++) {
      const modeIndex = i % MODES.length;
      const mode = MODES[modeIndex];
      const cache = caches[modeIndex];
      const template = rng.pick(templates);
      // A fresh name per sample: a write the store skipped must not leave an older entry to be found.
      const name = `${template.name}#${i}`;
      const c = caseFor({ ...template, name }, mode, cache.getCacheKey(name, null, ENVIRONMENT.fingerprint));
      const m = mutateCase(rng, c, others);
      const expected = judge(c, m.bytes);
      const errorsBefore = cache.stats.errors;
      const rejectedBefore = Object.values(cache.stats.rejected).reduce((a, b) => a + b, 0);
      let actual;
      try {
        await cache.dumpBytecode({ key: c.template.key, bytecodeToBytes: () => m.bytes });
        const bucket = await cache.getBucket(ENVIRONMENT, name, null, template.source);
        actual = bucket.code === null ? 'rejected' : classifyCode(c, bucket.code);
      } catch (error) {
        result.escaped++;
        fail({ iteration: i, op: m.op, mode: mode.name, error: String(error) });
        continue;
      }
      result.count++;
      if (cache.stats.errors > errorsBefore) {
        // The store failed (not the entry): a miss, which is allowed, but counted.
        result.backendErrors++;
        continue;
      }
      const rejectedNow = Object.values(cache.stats.rejected).reduce((a, b) => a + b, 0);
      if (expected === 'rejected') result.rejectedExpected++;
      result.rejectedInStats += rejectedNow - rejectedBefore;
      if (actual === 'differs') {
        if (m.family === 'forged' && mode.reader.length === 0) result.unsignedForgeriesAccepted++;
        else {
          result.acceptedDiffers++;
          fail({ iteration: i, op: m.op, mode: mode.name, verdict: actual });
        }
      }
      if (actual !== expected) {
        result.mismatches++;
        fail({ iteration: i, op: m.op, mode: mode.name, expected, actual });
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
