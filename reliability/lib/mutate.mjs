/**
 * Ways to damage an entry. Two families:
 *
 * - corruption: what a disk, a network or a half-finished write does (bit flips, truncation,
 *   splices of two entries, garbage). The CRC is left as it was, so the decoder must refuse it
 *   whether or not a secret is set;
 * - forgery: what a writer who knows the format but not the secret does: the same damage with a
 *   correct CRC, a stripped signature, an entry re-signed with another key, an entry replayed
 *   from another key. Only a secret stops these; without one, the store is trusted (see
 *   docs/security.md), and accepted forgeries are counted apart, not as failures.
 */
import { crc32 } from 'node:zlib';

const HMAC_LENGTH = 32;
const BOUNDARY_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff];
const BOUNDARY_U32 = [
  0, 1, 2, 3, 4, 0x7f, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
];

/** Field offsets of a valid frame (see packages/core/src/format.ts). @param {Uint8Array} frame */
export function layout(frame) {
  const signed = (frame[4] & 1) === 1;
  const keyCrcAt = 5;
  const checksumLengthAt = 9;
  const runtimeLengthAt = checksumLengthAt + 1 + frame[checksumLengthAt];
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  // Format 2: creation time, engine, template name, dependencies, then the code.
  const createdAt = runtimeLengthAt + 1 + frame[runtimeLengthAt];
  const engineLengthAt = createdAt + 8;
  const nameLengthAt = engineLengthAt + 1 + frame[engineLengthAt];
  const dependencyCountAt = nameLengthAt + 2 + view.getUint16(nameLengthAt, true);
  let at = dependencyCountAt + 2;
  for (let i = view.getUint16(dependencyCountAt, true); i > 0; i--) {
    at += 2 + view.getUint16(at, true);
    at += 1 + frame[at];
  }
  const textAt = at;
  const jsLengthAt = textAt + 1;
  const jsLength = view.getUint32(jsLengthAt, true);
  const jsAt = jsLengthAt + 4;
  const v8LengthAt = jsAt + jsLength;
  const v8Length = view.getUint32(v8LengthAt, true);
  const v8At = v8LengthAt + 4;
  const tailAt = v8At + v8Length;
  return {
    signed,
    keyCrcAt,
    checksumLengthAt,
    runtimeLengthAt,
    engineLengthAt,
    nameLengthAt,
    dependencyCountAt,
    textAt,
    jsLengthAt,
    jsAt,
    jsLength,
    v8LengthAt,
    v8At,
    v8Length,
    hmacAt: signed ? tailAt : -1,
    crcAt: frame.length - 4,
  };
}

/** Recomputes the trailing CRC32, as a forger would. @param {Uint8Array} bytes */
export function fixCrc(bytes) {
  if (bytes.length < 4) return bytes;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setUint32(bytes.length - 4, crc32(bytes.subarray(0, bytes.length - 4)), true);
  return bytes;
}

const copy = (bytes) => Uint8Array.from(bytes);
const concat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
};

/**
 * Damage that keeps the frame's length and fields meaningful enough to reach deep checks.
 * Each takes (rng, frame, others) and returns new bytes; `frame` is never modified.
 * @type {Record<string, (rng: import('./rng.mjs').Rng, frame: Uint8Array, others: Uint8Array[]) => Uint8Array>}
 */
export const DAMAGE = {
  flipBits(rng, frame) {
    const out = copy(frame);
    const flips = 1 + rng.int(8);
    for (let i = 0; i < flips; i++) out[rng.int(out.length)] ^= 1 << rng.int(8);
    return out;
  },
  setBytes(rng, frame) {
    const out = copy(frame);
    const count = 1 + rng.int(4);
    for (let i = 0; i < count; i++) {
      out[rng.int(out.length)] = rng.chance(0.5) ? rng.pick(BOUNDARY_BYTES) : rng.int(256);
    }
    return out;
  },
  truncate(rng, frame) {
    // Favour the interesting cuts: inside the header and just before the end.
    const at = rng.chance(0.3)
      ? rng.int(Math.min(frame.length, 80))
      : frame.length - 1 - rng.int(Math.min(frame.length, 40));
    return copy(frame.subarray(0, Math.max(0, at)));
  },
  extend(rng, frame) {
    const extra = rng.chance(0.5)
      ? rng.bytes(1 + rng.int(16))
      : frame.subarray(frame.length - 1 - rng.int(Math.min(8, frame.length)));
    return concat(frame, extra);
  },
  insertBytes(rng, frame) {
    const at = rng.int(frame.length + 1);
    return concat(frame.subarray(0, at), rng.bytes(1 + rng.int(8)), frame.subarray(at));
  },
  deleteBytes(rng, frame) {
    const at = rng.int(frame.length);
    const count = 1 + rng.int(Math.min(8, frame.length - at));
    return concat(frame.subarray(0, at), frame.subarray(at + count));
  },
  lengthField(rng, frame) {
    const out = copy(frame);
    const f = layout(frame);
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    const target = rng.int(7);
    if (target === 0)
      out[f.checksumLengthAt] = rng.chance(0.5)
        ? rng.pick(BOUNDARY_BYTES)
        : out[f.checksumLengthAt] + rng.int(5) - 2;
    else if (target === 1)
      out[f.runtimeLengthAt] = rng.chance(0.5)
        ? rng.pick(BOUNDARY_BYTES)
        : out[f.runtimeLengthAt] + rng.int(5) - 2;
    else if (target === 2) out[f.textAt] = rng.pick([0, 1, 2, 0xff]);
    else if (target === 5 || target === 6) {
      const at = target === 5 ? f.nameLengthAt : f.dependencyCountAt;
      const old = view.getUint16(at, true);
      view.setUint16(
        at,
        rng.chance(0.5) ? rng.pick([0, 1, 0xff, 0x100, 0xfffe, 0xffff]) : (old + rng.int(5) - 2) & 0xffff,
        true,
      );
    } else {
      const at = target === 3 ? f.jsLengthAt : f.v8LengthAt;
      const old = target === 3 ? f.jsLength : f.v8Length;
      const value = rng.chance(0.5) ? rng.pick(BOUNDARY_U32) : old + rng.int(9) - 4;
      view.setUint32(at, value >>> 0, true);
    }
    return out;
  },
  headerByte(rng, frame) {
    const out = copy(frame);
    // magic, version, flags
    out[rng.int(5)] = rng.chance(0.5) ? rng.pick(BOUNDARY_BYTES) : rng.int(256);
    return out;
  },
  splice(rng, frame, others) {
    const other = rng.pick(others);
    const cut = rng.int(frame.length + 1);
    const from = rng.chance(0.5) ? cut : rng.int(other.length + 1);
    return concat(frame.subarray(0, cut), other.subarray(Math.min(from, other.length)));
  },
  spliceFields(rng, frame, others) {
    // One entry's header with another's code: a plausible result of two interleaved writers.
    const other = rng.pick(others);
    const a = layout(frame);
    const b = layout(other);
    return concat(frame.subarray(0, a.jsLengthAt), other.subarray(b.jsLengthAt));
  },
  twice(_rng, frame) {
    return concat(frame, frame);
  },
  swapJs(rng, frame) {
    // Same lengths, different code: only the CRC (corruption) or the HMAC (forgery) can tell.
    const out = copy(frame);
    const f = layout(frame);
    if (f.jsLength === 0) return DAMAGE.flipBits(rng, frame);
    out[f.jsAt + rng.int(f.jsLength)] ^= 0x20;
    return out;
  },
  swapV8(rng, frame) {
    const out = copy(frame);
    const f = layout(frame);
    if (f.v8Length === 0) return DAMAGE.swapJs(rng, frame);
    const count = 1 + rng.int(4);
    for (let i = 0; i < count; i++) out[f.v8At + rng.int(f.v8Length)] = rng.int(256);
    return out;
  },
};

/** Bytes that were never a frame. @type {Record<string, (rng: import('./rng.mjs').Rng, frame: Uint8Array) => Uint8Array>} */
export const GARBAGE = {
  random(rng) {
    return rng.bytes(rng.int(rng.chance(0.9) ? 64 : 4096));
  },
  magicThenRandom(rng, frame) {
    return concat(frame.subarray(0, 5 + rng.int(4)), rng.bytes(rng.int(300)));
  },
  empty() {
    return new Uint8Array(0);
  },
};

/**
 * Forgeries that need more than damage plus a fixed CRC. `ctx` has the entry as written
 * unsigned and signed with other keys, made by the caller.
 * @type {Record<string, (rng: import('./rng.mjs').Rng, frame: Uint8Array, ctx: { unsigned: Uint8Array, otherSecret: Uint8Array, replayed: Uint8Array, foreignCode: Uint8Array }) => Uint8Array>}
 */
export const FORGERY = {
  /** Strip the signature and clear the flag: a downgrade to an unsigned entry. */
  stripSignature(_rng, frame) {
    const f = layout(frame);
    if (!f.signed) return fixCrc(copy(frame));
    const out = concat(frame.subarray(0, f.hmacAt), new Uint8Array(4));
    out[4] &= ~1;
    return fixCrc(out);
  },
  /** The same template's entry, written without a secret. */
  unsigned(_rng, _frame, ctx) {
    return ctx.unsigned;
  },
  /** Other code under the right key, signed with a secret the reader does not have. */
  otherSecret(_rng, _frame, ctx) {
    return ctx.otherSecret;
  },
  /** Another key's valid entry, for the same source, replayed under this key. */
  replayed(_rng, _frame, ctx) {
    return ctx.replayed;
  },
  /** Attacker's code, written unsigned: what planting an entry in a shared store looks like. */
  foreignCode(_rng, _frame, ctx) {
    return ctx.foreignCode;
  },
  /** Keep the signature, change the code, fix the CRC. */
  keepTag(rng, frame) {
    return fixCrc(DAMAGE.swapJs(rng, frame));
  },
  /** Claim a signature that is not there: set the flag on an unsigned frame. */
  claimSigned(rng, frame) {
    const out = concat(frame.subarray(0, frame.length - 4), rng.bytes(HMAC_LENGTH), new Uint8Array(4));
    out[4] |= 1;
    return fixCrc(out);
  },
};
