import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emptyLike, filledBucket } from './helpers.js';

// A fast slice of scripts/fuzz (which drives a million entries): mutated entries never throw
// and are never accepted with other code than was written.
describe('mutated entries (property-based)', () => {
  const original = filledBucket(300, '(function(){ return "fuzz ✓"; })');
  const frame = Buffer.from(original.bytecodeToBytes());
  const signedSecret = [Buffer.from('k')];
  const signed = filledBucket(300, '(function(){ return "fuzz ✓"; })', signedSecret);
  const signedFrame = Buffer.from(signed.bytecodeToBytes());

  const mutation = (base: Buffer) =>
    fc.oneof(
      fc.record({
        kind: fc.constant('flip' as const),
        at: fc.nat(base.length - 1),
        bits: fc.integer({ min: 1, max: 255 }),
      }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(base.length - 1) }),
      fc.record({
        kind: fc.constant('append' as const),
        extra: fc.uint8Array({ minLength: 1, maxLength: 64 }),
      }),
      fc.record({
        kind: fc.constant('splice' as const),
        at: fc.nat(base.length - 1),
        bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
      }),
      fc.record({ kind: fc.constant('u32' as const), at: fc.nat(base.length - 4), value: fc.nat() }),
      fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 600 }) }),
    );

  // biome-ignore lint/suspicious/noExplicitAny: the union of mutation records
  function apply(base: Buffer, m: any): Buffer {
    switch (m.kind) {
      case 'flip': {
        const b = Buffer.from(base);
        b[m.at]! ^= m.bits;
        return b;
      }
      case 'truncate':
        return base.subarray(0, m.at);
      case 'append':
        return Buffer.concat([base, m.extra]);
      case 'splice':
        return Buffer.concat([base.subarray(0, m.at), m.bytes, base.subarray(m.at)]);
      case 'u32': {
        const b = Buffer.from(base);
        b.writeUInt32LE(m.value >>> 0, m.at);
        return b;
      }
      default:
        return Buffer.from(m.bytes);
    }
  }

  for (const [label, base, bucket, secrets] of [
    ['unsigned', frame, original, undefined],
    ['signed', signedFrame, signed, signedSecret],
  ] as const) {
    it(`${label}: 10,000 mutated entries never throw and never yield foreign code`, () => {
      let rejected = 0;
      fc.assert(
        fc.property(mutation(base), (m) => {
          const bytes = apply(base, m);
          const target = emptyLike(bucket, secrets ? [...secrets] : undefined);
          target.bytecodeFromBytes(bytes);
          if (target.code === null) rejected++;
          else {
            // Only a "mutation" that happened to leave the bytes unchanged may be accepted.
            expect(bytes.equals(base)).toBe(true);
            expect(target.code.js).toBe(bucket.code!.js);
          }
        }),
        { numRuns: 10_000 },
      );
      expect(rejected).toBeGreaterThan(9_900);
    });
  }
});
