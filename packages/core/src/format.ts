/**
 * The binary frame of one cache entry. Every integer is little-endian.
 *
 * | offset | size | field                                                          |
 * |--------|------|----------------------------------------------------------------|
 * | 0      | 3    | magic `bcc` (0x62 0x63 0x63)                                   |
 * | 3      | 1    | format version ({@link FORMAT_VERSION})                        |
 * | 4      | 1    | flags: bit 0 set when an HMAC-SHA256 tag follows the payload   |
 * | 5      | 4    | CRC32 of the entry key the frame was written for               |
 * | 9      | 1    | C, length of the source checksum                               |
 * | 10     | C    | source checksum (ASCII)                                        |
 * |        | 1    | R, length of the runtime tag                                   |
 * |        | R    | runtime tag (ASCII): node version, arch, V8 cached-data tag    |
 * |        | 1    | text encoding of the JavaScript: 0 Latin-1, 1 UTF-16LE         |
 * |        | 4    | J, length of the JavaScript in bytes                           |
 * |        | J    | compiled JavaScript                                            |
 * |        | 4    | V, length of the V8 code cache (0 when there is none)          |
 * |        | V    | V8 code cache                                                  |
 * |        | 32   | HMAC-SHA256 over every byte above and the entry key (if flag)  |
 * | end-4  | 4    | CRC32 of every byte before it                                  |
 *
 * The frame is binary on purpose: base64 inside JSON costs as much as V8's own deserialisation.
 * The JavaScript is stored the way V8 holds strings, not as UTF-8: Latin-1 when every character
 * fits a byte, else UTF-16LE. Decoding 42 KB of UTF-8 with one non-ASCII character per line
 * took 43 µs here, against 3 µs (Latin-1) and 5 µs (UTF-16LE, 84 KB) for the same text.
 * See docs/format.md for the rules each field is checked by.
 */
import { cachedDataVersionTag } from 'node:v8';
import { crc32, cryptoModule } from './digest.js';
import { BccConfigError } from './errors.js';

/** The first three bytes of every entry: ASCII `bcc`. */
export const MAGIC: Readonly<Uint8Array> = Uint8Array.of(0x62, 0x63, 0x63);

/**
 * Bumped whenever the frame layout or the code that bcc's integrations generate changes, so
 * entries written by an older bcc become misses instead of being misread.
 */
export const FORMAT_VERSION = 1;

/** Flag bit: the frame carries an HMAC-SHA256 tag. */
export const FLAG_SIGNED = 0b1;

const HMAC_LENGTH = 32;
const TEXT_LATIN1 = 0;
const TEXT_UTF16LE = 1;
const NOT_LATIN1 = /[\u0100-\uffff]/;
const CRC_LENGTH = 4;
const MAX_SHORT_STRING = 255;

let cachedRuntimeTag: string | undefined;

/**
 * Identifies the runtime a V8 code cache was made under: Node version, CPU architecture and
 * `v8.cachedDataVersionTag()` (which also changes with V8 flags such as `--max-old-space-size`).
 * V8 only checks a code cache against the source length, and a foreign one can crash the
 * process, so bcc hands V8 a cache only when this tag matches exactly.
 */
export function runtimeTag(): string {
  cachedRuntimeTag ??= `node-${process.version}-${process.arch}-v8-${cachedDataVersionTag()}`;
  return cachedRuntimeTag;
}

/** What a frame holds. */
export interface FrameContents {
  checksum: string;
  runtime: string;
  js: string;
  v8?: Uint8Array | undefined;
}

/** A key for signing and verifying entries. Strings are taken as UTF-8. */
export type SecretInput = string | Uint8Array;

/** Why a frame was refused. Each reason is counted in the cache's stats. */
export type RejectReason =
  | 'short'
  | 'magic'
  | 'version'
  | 'length'
  | 'trailing'
  | 'crc'
  | 'key'
  | 'unsigned'
  | 'signature'
  | 'checksum';

/** The result of {@link decodeFrame}. */
export type DecodeResult =
  | { ok: true; js: string; v8: Uint8Array | undefined; runtime: string; v8Dropped: boolean }
  | { ok: false; reason: RejectReason };

function signature(secret: Uint8Array, body: Uint8Array, key: string): Buffer {
  // node:crypto only for signed caches (see digest.ts for what importing it costs).
  return cryptoModule().createHmac('sha256', secret).update(body).update('\0').update(key).digest();
}

function asciiBytes(value: string, field: string): Buffer {
  const bytes = Buffer.from(value, 'latin1');
  if (bytes.length > MAX_SHORT_STRING || !/^[\x20-\x7e]*$/.test(value)) {
    throw new TypeError(`${field} must be printable ASCII of at most ${MAX_SHORT_STRING} characters`);
  }
  return bytes;
}

/** How a frame is bound to its entry. */
export interface FrameBinding {
  /**
   * The entry key. Its CRC32 is in the header (and the key is under the HMAC), so a frame stored
   * under another key (a store mix-up, a copy from another environment) is refused.
   */
  key: string;
  /** Signs the frame with HMAC-SHA256 when given. */
  secret?: Uint8Array | undefined;
}

/**
 * Encodes one entry for `key`. With a `secret`, the frame is signed, so nobody without the
 * secret can make one and it cannot be replayed under another key.
 */
export function encodeFrame(contents: FrameContents, binding: FrameBinding): Buffer {
  const signing = binding.secret ? { secret: binding.secret, key: binding.key } : undefined;
  const checksum = asciiBytes(contents.checksum, 'checksum');
  const runtime = asciiBytes(contents.runtime, 'runtime tag');
  const text = NOT_LATIN1.test(contents.js) ? TEXT_UTF16LE : TEXT_LATIN1;
  const jsLength = text === TEXT_LATIN1 ? contents.js.length : contents.js.length * 2;
  const v8 = contents.v8 ?? new Uint8Array(0);
  const bodyLength =
    3 + 1 + 1 + 4 + 1 + checksum.length + 1 + runtime.length + 1 + 4 + jsLength + 4 + v8.length;
  const total = bodyLength + (signing ? HMAC_LENGTH : 0) + CRC_LENGTH;
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  out.set(MAGIC, at);
  at += 3;
  out[at++] = FORMAT_VERSION;
  out[at++] = signing ? FLAG_SIGNED : 0;
  out.writeUInt32LE(crc32(binding.key), at);
  at += 4;
  out[at++] = checksum.length;
  out.set(checksum, at);
  at += checksum.length;
  out[at++] = runtime.length;
  out.set(runtime, at);
  at += runtime.length;
  out[at++] = text;
  out.writeUInt32LE(jsLength, at);
  at += 4;
  at += out.write(contents.js, at, jsLength, text === TEXT_LATIN1 ? 'latin1' : 'utf16le');
  out.writeUInt32LE(v8.length, at);
  at += 4;
  out.set(v8, at);
  at += v8.length;
  if (signing) {
    signature(signing.secret, out.subarray(0, bodyLength), signing.key).copy(out, at);
    at += HMAC_LENGTH;
  }
  out.writeUInt32LE(crc32(out.subarray(0, at)), at);
  return out;
}

/** What {@link decodeFrame} checks the frame against. */
export interface DecodeExpectations {
  /** The source checksum the caller needs; any other is a miss. */
  checksum: string;
  /** The entry key the frame must have been written for (checked by the CRC and the HMAC). */
  key: string;
  /** Accepted secrets; when non-empty, unsigned or wrongly signed frames are refused. */
  secrets?: readonly Uint8Array[];
  /** The current runtime tag; a V8 cache made under another is dropped. Default {@link runtimeTag}. */
  runtime?: string;
}

/**
 * Decodes and checks one entry. Never throws on bad bytes: it reports why it refused them.
 * The returned V8 bytes are a view into `bytes`, not a copy (copying 45 KB costs ~12 µs).
 */
export function decodeFrame(bytes: Uint8Array, expect: DecodeExpectations): DecodeResult {
  const size = bytes.length;
  if (size < 3 + 1 + 1 + 4 + 1 + 1 + 1 + 4 + 4 + CRC_LENGTH) return { ok: false, reason: 'short' };
  if (bytes[0] !== 0x62 || bytes[1] !== 0x63 || bytes[2] !== 0x63) return { ok: false, reason: 'magic' };
  if (bytes[3] !== FORMAT_VERSION) return { ok: false, reason: 'version' };
  const flags = bytes[4]!;
  if ((flags & ~FLAG_SIGNED) !== 0) return { ok: false, reason: 'version' };
  const view = new DataView(bytes.buffer, bytes.byteOffset, size);
  const tail = ((flags & FLAG_SIGNED) !== 0 ? HMAC_LENGTH : 0) + CRC_LENGTH;
  const end = size - tail;
  let at = 9;
  const checksumLength = bytes[at++]!;
  const checksumStart = at;
  at += checksumLength;
  if (at + 1 > end) return { ok: false, reason: 'length' };
  const runtimeLength = bytes[at++]!;
  const runtimeStart = at;
  at += runtimeLength;
  if (at + 5 > end) return { ok: false, reason: 'length' };
  const text = bytes[at++];
  const jsLength = view.getUint32(at, true);
  if (text !== TEXT_LATIN1 && text !== TEXT_UTF16LE) return { ok: false, reason: 'version' };
  if (text === TEXT_UTF16LE && jsLength % 2 !== 0) return { ok: false, reason: 'length' };
  at += 4;
  const jsStart = at;
  if (jsLength > end - at - 4) return { ok: false, reason: 'length' };
  at += jsLength;
  const v8Length = view.getUint32(at, true);
  at += 4;
  const v8Start = at;
  if (v8Length > end - at) return { ok: false, reason: 'length' };
  at += v8Length;
  if (at !== end) return { ok: false, reason: 'trailing' };

  if (view.getUint32(size - CRC_LENGTH, true) !== crc32(bytes.subarray(0, size - CRC_LENGTH))) {
    return { ok: false, reason: 'crc' };
  }
  if (view.getUint32(5, true) !== crc32(expect.key)) return { ok: false, reason: 'key' };
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, size);
  const secrets = expect.secrets;
  if (secrets && secrets.length > 0) {
    if ((flags & FLAG_SIGNED) === 0) return { ok: false, reason: 'unsigned' };
    const tag = buf.subarray(end, end + HMAC_LENGTH);
    const body = buf.subarray(0, end);
    let valid = false;
    for (const secret of secrets) {
      // Every secret is tried, so the time taken says nothing about which one matched.
      if (cryptoModule().timingSafeEqual(signature(secret, body, expect.key), tag)) valid = true;
    }
    if (!valid) return { ok: false, reason: 'signature' };
  }
  if (buf.toString('latin1', checksumStart, checksumStart + checksumLength) !== expect.checksum) {
    return { ok: false, reason: 'checksum' };
  }
  const runtime = buf.toString('latin1', runtimeStart, runtimeStart + runtimeLength);
  const js = buf.toString(text === TEXT_LATIN1 ? 'latin1' : 'utf16le', jsStart, jsStart + jsLength);
  const sameRuntime = runtime === (expect.runtime ?? runtimeTag());
  const v8 = sameRuntime && v8Length > 0 ? bytes.subarray(v8Start, v8Start + v8Length) : undefined;
  return { ok: true, js, v8, runtime, v8Dropped: !sameRuntime && v8Length > 0 };
}

/**
 * Normalises secrets given as a string, bytes or a list (first signs, all verify). Strings are
 * trimmed (the same rule as `BCC_SECRET`, so a secret given either way signs the same); an
 * empty or blank secret, an empty list or anything else is a `BccConfigError`, never "unsigned".
 */
export function normalizeSecrets(input: SecretInput | readonly SecretInput[] | undefined): Uint8Array[] {
  if (input === undefined) return [];
  const list: readonly unknown[] = Array.isArray(input) ? input : [input];
  if (list.length === 0) {
    throw new BccConfigError('secret is an empty list: give at least one secret, or leave secret out');
  }
  return list.map((secret, index) => {
    const where = Array.isArray(input) ? `secret #${index}` : 'secret';
    if (typeof secret === 'string') {
      const trimmed = secret.trim();
      if (trimmed === '') {
        throw new BccConfigError(
          `${where} is empty or blank: an empty secret would sign nothing; set a long random string (e.g. \`openssl rand -hex 32\`)`,
        );
      }
      return Buffer.from(trimmed, 'utf8');
    }
    if (secret instanceof Uint8Array && secret.length > 0) return secret;
    throw new BccConfigError(
      `${where} must be a non-empty string or Uint8Array, got ${secret instanceof Uint8Array ? 'empty bytes' : secret === null ? 'null' : typeof secret}`,
    );
  });
}

/** True when two normalised secret lists are the same secrets in the same order. */
export function sameSecrets(a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean {
  return a.length === b.length && a.every((secret, i) => Buffer.from(secret).equals(b[i]!));
}
