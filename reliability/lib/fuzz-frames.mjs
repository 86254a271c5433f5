/**
 * Drives damaged and forged entries through `Bucket.bytecodeFromBytes` and judges each result:
 * refused (fine), accepted with exactly the code that was written (fine), accepted with other
 * code (a failure, except a forgery in unsigned mode, which a store without a secret trusts by
 * design), or an exception escaping (always a failure).
 */
import { Bucket } from '@bcc/core';
import { ENVIRONMENT, frameFor, makeTemplates, SECRET_1, SECRET_2, SECRET_OTHER } from './corpus.mjs';
import { DAMAGE, FORGERY, fixCrc, GARBAGE } from './mutate.mjs';
import { Rng } from './rng.mjs';

/** Who writes and who reads, in each mode. */
export const MODES = [
  { name: 'unsigned', writer: undefined, reader: [] },
  { name: 'signed', writer: SECRET_1, reader: [SECRET_1] },
  // Key rotation: entries signed with the old key stay valid while the new one signs.
  { name: 'rotated', writer: SECRET_1, reader: [SECRET_2, SECRET_1] },
];

const EVIL_JS = '(function () { return globalThis.process.exit(13); })';

/**
 * One template in one mode: the frame as written under `key`, and the forgeries' raw material.
 * @param {import('./corpus.mjs').Template} template
 */
export function caseFor(template, mode, key = template.key) {
  const otherKey = `${key.slice(0, 60)}ff00`;
  const t = key === template.key ? template : { ...template, key };
  return {
    mode,
    template: t,
    frame: frameFor(t, mode.writer),
    ctx: {
      unsigned: frameFor(t, undefined),
      otherSecret: frameFor(t, SECRET_OTHER, { js: EVIL_JS }),
      replayed: frameFor(t, mode.writer, { key: otherKey, js: `${t.js}/* other */` }),
      foreignCode: frameFor(t, undefined, { js: EVIL_JS }),
    },
  };
}

/** Every template in every mode. */
export function makeCases(templates = makeTemplates()) {
  return MODES.flatMap((mode) => templates.map((template) => caseFor(template, mode)));
}

export function weightedPicker(cases) {
  const bag = [];
  for (const c of cases) for (let i = 0; i < c.template.weight; i++) bag.push(c);
  return bag;
}

/** Hands the decoder the bytes in one of the shapes it meets: Buffer (often pooled), Uint8Array, odd-offset view. */
export function container(rng, bytes) {
  const shape = rng.int(3);
  if (shape === 0) return Buffer.from(bytes);
  if (shape === 1) return bytes;
  const offset = 1 + rng.int(7);
  const backing = new Uint8Array(bytes.length + offset + rng.int(5));
  backing.fill(0xaa);
  backing.set(bytes, offset);
  return backing.subarray(offset, offset + bytes.length);
}

const damageNames = Object.keys(DAMAGE);
const garbageNames = Object.keys(GARBAGE);
const forgeryNames = Object.keys(FORGERY);

/**
 * One damaged or forged input for `c`. `family` is 'corrupt' (CRC left as it was, or never a
 * frame) or 'forged' (a writer who knows the format).
 */
export function mutateCase(rng, c, others) {
  const roll = rng.next();
  if (roll < 0.55) {
    const op = rng.pick(damageNames);
    return { family: 'corrupt', op, bytes: DAMAGE[op](rng, c.frame, others) };
  }
  if (roll < 0.65) {
    const op = rng.pick(garbageNames);
    return { family: 'corrupt', op, bytes: GARBAGE[op](rng, c.frame) };
  }
  if (roll < 0.9) {
    const op = rng.pick(damageNames);
    return { family: 'forged', op: `${op}+crc`, bytes: fixCrc(DAMAGE[op](rng, c.frame, others)) };
  }
  const op = rng.pick(forgeryNames);
  return { family: 'forged', op, bytes: FORGERY[op](rng, c.frame, c.ctx) };
}

const sameBytes = (a, b) => a.length === b.length && Buffer.compare(a, b) === 0;

/**
 * Decodes `bytes` as the reader of `c` would and classifies the outcome.
 * @returns {'escaped' | 'rejected' | 'same' | 'differs'}
 */
export function judge(c, bytes, onReject) {
  const bucket = new Bucket(ENVIRONMENT, c.template.key, c.template.checksum, { secrets: c.mode.reader });
  try {
    bucket.bytecodeFromBytes(bytes);
  } catch {
    return 'escaped';
  }
  const code = bucket.code;
  if (code === null) {
    onReject?.(bucket.lastLoad?.status === 'rejected' ? bucket.lastLoad.reason : 'none');
    return 'rejected';
  }
  return classifyCode(c, code);
}

/** 'same' when the code is what was written (a dropped V8 cache is fine: it never reaches V8). */
export function classifyCode(c, code) {
  const jsSame = code.js === c.template.js;
  const v8Safe = code.v8 === undefined || (c.template.v8 !== undefined && sameBytes(code.v8, c.template.v8));
  // The dependencies decide validity: an accepted entry must list exactly those written.
  const depsSame = JSON.stringify(code.dependencies ?? []) === JSON.stringify(c.template.dependencies ?? []);
  return jsSame && v8Safe && depsSame ? 'same' : 'differs';
}

/**
 * @typedef {object} FrameFuzzResult
 * @property {number} count
 * @property {number} escaped exceptions that left `bytecodeFromBytes` (must be 0)
 * @property {number} acceptedDiffers entries accepted with code other than what was written (must be 0)
 * @property {number} acceptedSame inputs accepted with exactly the written code (no-op damage)
 * @property {number} rejected
 * @property {number} unsignedForgeriesAccepted forgeries accepted in unsigned mode (by design)
 * @property {Record<string, number>} byMode
 * @property {Record<'corrupt' | 'forged', number>} byFamily
 * @property {Record<string, number>} reasons refusals by reason
 * @property {object[]} failures
 */

/**
 * Runs `count` inputs. Returns counters; `failures` holds the first few failing cases with
 * everything needed to replay them.
 * @param {{ count: number, seed: number, onProgress?: (partial: FrameFuzzResult) => void }} options
 * @returns {FrameFuzzResult}
 */
export function runFrameFuzz({ count, seed, onProgress }) {
  const rng = new Rng(seed);
  const cases = makeCases();
  const bag = weightedPicker(cases);
  const others = cases.map((c) => c.frame);
  /** @type {FrameFuzzResult} */
  const result = {
    count: 0,
    escaped: 0,
    acceptedDiffers: 0,
    acceptedSame: 0,
    rejected: 0,
    unsignedForgeriesAccepted: 0,
    byMode: Object.fromEntries(MODES.map((m) => [m.name, 0])),
    byFamily: { corrupt: 0, forged: 0 },
    reasons: {},
    failures: [],
  };
  const onReject = (reason) => {
    result.reasons[reason] = (result.reasons[reason] ?? 0) + 1;
  };
  for (let i = 0; i < count; i++) {
    const c = bag[rng.int(bag.length)];
    const m = mutateCase(rng, c, others);
    const verdict = judge(c, container(rng, m.bytes), onReject);
    result.count++;
    result.byMode[c.mode.name]++;
    result.byFamily[m.family]++;
    if (verdict === 'rejected') result.rejected++;
    else if (verdict === 'same') result.acceptedSame++;
    else if (verdict === 'differs' && m.family === 'forged' && c.mode.reader.length === 0) {
      result.unsignedForgeriesAccepted++;
    } else {
      if (verdict === 'escaped') result.escaped++;
      else result.acceptedDiffers++;
      if (result.failures.length < 5) {
        result.failures.push({
          verdict,
          seed,
          iteration: i,
          mode: c.mode.name,
          template: c.template.name,
          family: m.family,
          op: m.op,
          hex: Buffer.from(m.bytes).toString('hex').slice(0, 400),
        });
      }
    }
    if (onProgress && (i + 1) % 100_000 === 0) onProgress(result);
  }
  return result;
}

/**
 * The stream path: `Bucket.loadBytecode` fed the same inputs in random chunks (an async
 * iterable, a Readable, strings among them), or through a `readFile()` handle. It must decide
 * exactly as `bytecodeFromBytes` does, and never throw.
 * @param {{ count: number, seed: number }} options
 */
export async function runStreamFuzz({ count, seed }) {
  const { Readable } = await import('node:stream');
  const rng = new Rng(seed);
  const cases = makeCases();
  const bag = weightedPicker(cases);
  const others = cases.map((c) => c.frame);
  const result = { count: 0, escaped: 0, acceptedDiffers: 0, mismatches: 0, failures: [] };
  for (let i = 0; i < count; i++) {
    const c = bag[rng.int(bag.length)];
    const m = mutateCase(rng, c, others);
    const expected = judge(c, m.bytes);
    const chunks = [];
    for (let at = 0; at < m.bytes.length; ) {
      const size = 1 + rng.int(rng.chance(0.5) ? 16 : 65536);
      const chunk = m.bytes.subarray(at, at + size);
      // Strings reach loadBytecode from streams with an encoding set; latin1 keeps every byte.
      chunks.push(rng.chance(0.1) ? Buffer.from(chunk).toString('latin1') : chunk);
      at += size;
    }
    const shape = rng.int(3);
    const source =
      shape === 0
        ? (async function* () {
            yield* chunks;
          })()
        : shape === 1
          ? Readable.from(chunks, { objectMode: true })
          : { readFile: async () => m.bytes };
    const bucket = new Bucket(ENVIRONMENT, c.template.key, c.template.checksum, { secrets: c.mode.reader });
    let actual;
    try {
      await bucket.loadBytecode(source);
      actual = bucket.code === null ? 'rejected' : classifyCode(c, bucket.code);
    } catch (error) {
      actual = 'escaped';
      if (result.failures.length < 5)
        result.failures.push({ seed, iteration: i, op: m.op, error: String(error) });
    }
    result.count++;
    if (actual === 'escaped') result.escaped++;
    else if (actual === 'differs' && !(m.family === 'forged' && c.mode.reader.length === 0))
      result.acceptedDiffers++;
    if (actual !== 'escaped' && actual !== expected) {
      result.mismatches++;
      if (result.failures.length < 5)
        result.failures.push({ seed, iteration: i, op: m.op, expected, actual });
    }
  }
  return result;
}
