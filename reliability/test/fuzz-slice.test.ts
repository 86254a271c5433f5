import { Bucket } from '@bcc/core';
import { describe, expect, it } from 'vitest';
import { ENVIRONMENT, frameFor, makeTemplates, SECRET_1, SECRET_2 } from '../lib/corpus.mjs';
import { runAdapterFuzz } from '../lib/fuzz-adapters.mjs';
import { caseFor, judge, MODES, runFrameFuzz, runStreamFuzz } from '../lib/fuzz-frames.mjs';
import { FORGERY } from '../lib/mutate.mjs';
import { Rng } from '../lib/rng.mjs';
import { openStore } from '../lib/stores.mjs';

// A fast slice of `pnpm fuzz` (reliability/fuzz.mjs), with fixed seeds so a failure replays.
describe('fuzz slice: Bucket.bytecodeFromBytes', () => {
  const result = runFrameFuzz({ count: 40_000, seed: 20261125 });

  it('lets no exception escape and accepts no entry with code other than what was written', () => {
    expect(result.failures).toEqual([]);
    expect(result.escaped).toBe(0);
    expect(result.acceptedDiffers).toBe(0);
    expect(result.count).toBe(40_000);
  });

  it('reaches every mode, both families and every reason for refusing an entry', () => {
    for (const mode of MODES) expect(result.byMode[mode.name]).toBeGreaterThan(10_000);
    expect(result.byFamily.corrupt).toBeGreaterThan(20_000);
    expect(result.byFamily.forged).toBeGreaterThan(10_000);
    for (const reason of [
      'short',
      'magic',
      'version',
      'length',
      'trailing',
      'crc',
      'key',
      'unsigned',
      'signature',
      'checksum',
      'dependency',
    ]) {
      expect(result.reasons[reason], reason).toBeGreaterThan(0);
    }
    // Some inputs are harmless no-ops (a field set to the value it had) and must stay accepted.
    expect(result.acceptedSame).toBeGreaterThan(0);
  });
});

describe('fuzz slice: Bucket.loadBytecode (streams in random chunks)', () => {
  it('decides exactly as bytecodeFromBytes, and never throws', async () => {
    const r = await runStreamFuzz({ count: 3_000, seed: 11 });
    expect(r.failures).toEqual([]);
    expect(r).toMatchObject({ count: 3_000, escaped: 0, acceptedDiffers: 0, mismatches: 0 });
  });
});

describe('fuzz judge', () => {
  const [template] = makeTemplates().filter((t) => t.name === 'utf16.html');
  const rng = new Rng(1);

  it('counts planted code as accepted other code without a secret, so the fuzzer can fail', () => {
    const c = caseFor(template!, MODES[0]);
    expect(judge(c, FORGERY.foreignCode!(rng, c.frame, c.ctx))).toBe('differs');
    expect(judge(c, FORGERY.keepTag!(rng, c.frame, c.ctx))).toBe('differs');
    expect(judge(c, c.frame)).toBe('same');
  });

  it('refuses every forgery kind with a secret, and with a rotated one', () => {
    for (const mode of MODES.slice(1)) {
      const c = caseFor(template!, mode);
      for (const [name, forge] of Object.entries(FORGERY)) {
        expect(judge(c, forge(rng, c.frame, c.ctx)), `${mode.name} ${name}`).toBe('rejected');
      }
      expect(judge(c, c.frame)).toBe('same');
    }
  });

  it('accepts an entry signed with the old key only while the reader still lists it', () => {
    const frame = frameFor(template!, SECRET_1);
    const read = (secrets: Uint8Array[]) => {
      const bucket = new Bucket(ENVIRONMENT, template!.key, template!.checksum, { secrets });
      bucket.bytecodeFromBytes(frame);
      return bucket.code?.js ?? null;
    };
    expect(read([SECRET_2, SECRET_1])).toBe(template!.js);
    expect(read([SECRET_1])).toBe(template!.js);
    expect(read([SECRET_2])).toBeNull();
  });
});

describe('fuzz slice: through a store', () => {
  for (const name of ['memory', 'fs', 'tiered']) {
    it(`${name}: planted entries load exactly as the decoder decides`, async () => {
      const store = await openStore(name);
      try {
        const r = await runAdapterFuzz(store, { count: 300, seed: 7 });
        expect(r.failures).toEqual([]);
        expect(r).toMatchObject({
          count: 300,
          escaped: 0,
          acceptedDiffers: 0,
          mismatches: 0,
          backendErrors: 0,
        });
        expect(r.byPath.getBucket).toBeGreaterThan(0);
        expect(r.byPath.loadBuckets).toBeGreaterThan(0);
        // All three stores load synchronously too, so every path is taken.
        expect(r.byPath.getBucketSync).toBeGreaterThan(0);
        expect(r.byPath.getBucketSync).toBeGreaterThan(0);
        // Every refusal shows up in the cache's stats.
        expect(r.rejectedInStats).toBe(r.rejectedExpected);
        expect(r.rejectedExpected).toBeGreaterThan(200);
      } finally {
        await store.close();
      }
    });
  }
});
