#!/usr/bin/env node
/**
 * Fuzzes bcc's entry decoder: at least 1,000,000 damaged, truncated, spliced, random and forged
 * entries through `Bucket.bytecodeFromBytes` (unsigned, signed, and signed with a rotated key),
 * then a sample through each store's whole load path (plant through the adapter, load with
 * `getBucket`). Fails (exit 1) when an exception escapes, when an entry is accepted with code
 * other than what was written, or when a store's load disagrees with the decoder.
 *
 *   node fuzz.mjs [--count 1000000] [--streams 50000] [--sample 2000] [--seed N]
 *                 [--stores memory,fs,tiered,redis,memcached,s3]
 *
 * `--streams` inputs also go through `Bucket.loadBytecode` in random chunks (the stream path).
 *
 * Forgeries accepted without a secret are reported, not failed: without a secret, whoever can
 * write the store is trusted (docs/security.md).
 */
import { scriptArgs, toNumber } from './lib/args.mjs';
import { runAdapterFuzz } from './lib/fuzz-adapters.mjs';
import { runFrameFuzz, runStreamFuzz } from './lib/fuzz-frames.mjs';
import { openStores, STORE_NAMES } from './lib/stores.mjs';

const args = scriptArgs({
  count: { default: '1000000' },
  sample: { default: '2000' },
  streams: { default: '50000' },
  seed: { default: String(Date.now() % 2 ** 31) },
  stores: { default: STORE_NAMES.join(',') },
});
const count = toNumber(args.count);
const sample = toNumber(args.sample);
const seed = toNumber(args.seed);
const log = (line) => process.stderr.write(`${line}\n`);

const started = performance.now();
log(`fuzz: ${count} entries through Bucket.bytecodeFromBytes, seed ${seed}`);
const frames = runFrameFuzz({
  count,
  seed,
  onProgress: (r) =>
    log(`  ${r.count} done, ${r.escaped} escaped, ${r.acceptedDiffers} accepted with other code`),
});
log(`  rejected by reason: ${JSON.stringify(frames.reasons)}`);
const frameSeconds = (performance.now() - started) / 1000;

const streamCount = toNumber(args.streams);
const streams = await runStreamFuzz({ count: streamCount, seed: seed + 2 });
log(
  `  stream path (Bucket.loadBytecode, random chunks): ${streams.count} inputs, ${streams.escaped} escaped, ${streams.acceptedDiffers} accepted with other code, ${streams.mismatches} disagreeing with bytecodeFromBytes`,
);

const adapterResults = [];
let skipped = [];
if (sample > 0) {
  const stores = await openStores(args.stores.split(',').filter(Boolean));
  skipped = stores.skipped;
  for (const s of skipped) log(`  ${s.name}: skipped, ${s.reason}`);
  try {
    for (const store of stores.open) {
      const t = performance.now();
      const r = await runAdapterFuzz(store, { count: sample, seed: seed + 1 });
      adapterResults.push(r);
      log(
        `  ${store.name}: ${r.count} planted and loaded (getBucket/getBucketSync/loadBuckets ${r.byPath.getBucket}/${r.byPath.getBucketSync}/${r.byPath.loadBuckets}) in ${((performance.now() - t) / 1000).toFixed(1)} s, ${r.escaped} escaped, ${r.acceptedDiffers} accepted with other code, ${r.mismatches} disagreeing with the decoder, ${r.backendErrors} backend errors`,
      );
    }
  } finally {
    await stores.close();
  }
}

const failures = [...frames.failures, ...streams.failures, ...adapterResults.flatMap((r) => r.failures)];
for (const f of failures) log(`  FAILURE ${JSON.stringify(f)}`);
const bad =
  frames.escaped +
  frames.acceptedDiffers +
  streams.escaped +
  streams.acceptedDiffers +
  streams.mismatches +
  adapterResults.reduce((n, r) => n + r.escaped + r.acceptedDiffers + r.mismatches, 0);
const adapters = adapterResults
  .map((r) => `${r.store} ${r.count}/${r.escaped}/${r.acceptedDiffers}/${r.mismatches}`)
  .join(', ');
const forgeries =
  frames.unsignedForgeriesAccepted + adapterResults.reduce((n, r) => n + r.unsignedForgeriesAccepted, 0);
console.log(
  `fuzz ${bad === 0 ? 'PASS' : 'FAIL'}: entries=${frames.count} escaped=${frames.escaped} accepted-other-code=${frames.acceptedDiffers} ` +
    `rejected=${frames.rejected} accepted-intact=${frames.acceptedSame} (unsigned/signed/rotated ${frames.byMode.unsigned}/${frames.byMode.signed}/${frames.byMode.rotated}; ` +
    `corrupt/forged ${frames.byFamily.corrupt}/${frames.byFamily.forged}) in ${frameSeconds.toFixed(1)} s; ` +
    `stream path ${streams.count}/${streams.escaped}/${streams.acceptedDiffers}/${streams.mismatches}; ` +
    `stores (loaded/escaped/other-code/disagreeing): ${adapters || 'none'}${skipped.length ? `; skipped ${skipped.map((s) => s.name).join(',')}` : ''}; ` +
    `forgeries accepted without a secret (by design)=${forgeries}; seed=${seed}`,
);
process.exitCode = bad === 0 ? 0 : 1;
