/**
 * The binary frame of one cache entry, format version 2. Every integer is little-endian.
 *
 * | size | field                                                                   |
 * |------|-------------------------------------------------------------------------|
 * | 3    | magic `bcc` (0x62 0x63 0x63)                                            |
 * | 1    | format version ({@link FORMAT_VERSION})                                 |
 * | 1    | flags: bit 0 set when an HMAC-SHA256 tag follows the payload            |
 * | 4    | CRC32 of the entry key the frame was written for                        |
 * | 1+C  | source checksum (ASCII), length-prefixed                                |
 * | 1+R  | runtime tag (ASCII): node version, arch, V8 version and flag hashes     |
 * | 8    | creation time, milliseconds since 1970 (float64)                        |
 * | 1+E  | engine (ASCII, e.g. `nunjucks@3.2.4`; may be empty)                     |
 * | 2+N  | template name (UTF-8), length-prefixed                                  |
 * | 2    | D, number of dependencies; then D times: 2+n name (UTF-8), 1+c checksum |
 * | 1    | text encoding of the JavaScript: 0 Latin-1, 1 UTF-16LE                  |
 * | 4+J  | compiled JavaScript                                                     |
 * | 4+V  | V8 code cache (V = 0 when there is none)                                |
 * | 32   | HMAC-SHA256 over every byte above and the entry key (if flag)           |
 * | 4    | CRC32 of every byte before it                                           |
 *
 * The frame is binary on purpose: base64 inside JSON costs as much as V8's own deserialisation.
 * The JavaScript is stored the way V8 holds strings, not as UTF-8: Latin-1 when every character
 * fits a byte, else UTF-16LE. Decoding 42 KB of UTF-8 with one non-ASCII character per line
 * took 43 µs here, against 3 µs (Latin-1) and 5 µs (UTF-16LE, 84 KB) for the same text.
 * Name, engine and creation time say what an entry is (`bcc ls`, `bcc inspect`); they never
 * decide a hit. Dependencies do: an engine that inlines other files (Pug's `include`) lists
 * them, and the entry is valid only while each still has its checksum.
 * See docs/format.md for the rules each field is checked by.
 */
import { crc32, cryptoModule } from './digest.js';
import { BccConfigError } from './errors.js';

const { Script } = process.getBuiltinModule('node:vm');

/** The first three bytes of every entry: ASCII `bcc`. */
export const MAGIC: Readonly<Uint8Array> = Uint8Array.of(0x62, 0x63, 0x63);

/**
 * Bumped whenever the frame layout or the code that bcc's integrations generate changes, so
 * entries written by an older bcc become misses instead of being misread.
 */
export const FORMAT_VERSION = 2;

/** Flag bit: the frame carries an HMAC-SHA256 tag. */
export const FLAG_SIGNED = 0b1;

const HMAC_LENGTH = 32;
const TEXT_LATIN1 = 0;
const TEXT_UTF16LE = 1;
const NOT_LATIN1 = /[\u0100-\uffff]/;
const CRC_LENGTH = 4;
const MAX_SHORT_STRING = 255;
const MAX_NAME_BYTES = 0xffff;
const MAX_DEPENDENCIES = 0xffff;
/** The largest time a `Date` holds (ECMAScript: ±8.64e15 ms); NaN fails the comparison too. */
const MAX_DATE_MS = 8.64e15;
/** magic, version, flags, key CRC, C, R, created, E, N, D, text, J, V. */
const FIXED_BYTES = 3 + 1 + 1 + 4 + 1 + 1 + 8 + 1 + 2 + 2 + 1 + 4 + 4;

let cachedRuntimeTag: string | undefined;

/**
 * V8's own identity for code caches, read off the header of the cache it makes for a constant
 * one-character script: magic number, version hash, flag hash and (V8 11 and later) the
 * read-only snapshot checksum — the fields V8 checks a cache against — leaving out the source
 * hash, which belongs to the probe script. The flag hash changes with V8 flags such as `--no-opt`,
 * exactly as `v8.cachedDataVersionTag()` does (that tag also mixes in CPU features, which
 * bytecode does not depend on).
 *
 * Not `v8.cachedDataVersionTag()` itself: importing `node:v8` costs a fresh process 1.6–2.1 ms on
 * Node 24 (it loads the stream modules), this probe 0.3–0.5 ms. If a V8 ever made a shorter
 * header, the tag falls back to `node:v8`.
 */
function v8Identity(): string {
  const header = new Script('0', { filename: 'bcc-runtime-probe' }).createCachedData();
  if (header.length < 20) {
    return `tag${(process.getBuiltinModule('node:v8') as typeof import('node:v8')).cachedDataVersionTag()}`;
  }
  return Buffer.concat([header.subarray(0, 8), header.subarray(12, 20)]).toString('hex');
}

/**
 * Identifies the runtime a V8 code cache was made under: Node version, CPU architecture and
 * V8's version and flag hashes ({@link v8Identity}; they change with V8 flags such as `--no-opt`).
 * V8 only checks a code cache against the source length, and a foreign one can crash the
 * process, so bcc hands V8 a cache only when this tag matches exactly.
 */
export function runtimeTag(): string {
  cachedRuntimeTag ??= `node-${process.version}-${process.arch}-v8-${v8Identity()}`;
  return cachedRuntimeTag;
}

/** A file a compiled template inlined, and the checksum of its source when it was compiled. */
export interface Dependency {
  readonly name: string;
  readonly checksum: string;
}

/** What a frame holds. */
export interface FrameContents {
  checksum: string;
  runtime: string;
  js: string;
  v8?: Uint8Array | undefined;
  /** The template's name (informational: `bcc ls`). Default empty. */
  name?: string | undefined;
  /** Engine and version, e.g. `nunjucks@3.2.4` (informational). Default empty. */
  engine?: string | undefined;
  /** Creation time in ms since 1970; default now. */
  created?: number | undefined;
  /** Files the code depends on besides the template itself (each must keep its checksum). */
  dependencies?: readonly Dependency[] | undefined;
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
  | 'checksum'
  | 'dependency';

/** The result of {@link decodeFrame}. */
export type DecodeResult =
  | {
      ok: true;
      js: string;
      v8: Uint8Array | undefined;
      runtime: string;
      v8Dropped: boolean;
      dependencies: readonly Dependency[];
    }
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

function nameBytes(value: string, field: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > MAX_NAME_BYTES) throw new TypeError(`${field} is longer than ${MAX_NAME_BYTES} bytes`);
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
  const engine = asciiBytes(contents.engine ?? '', 'engine');
  // The name only informs operators: an overlong one is cut, not a failed write.
  const name = Buffer.from(contents.name ?? '', 'utf8').subarray(0, MAX_NAME_BYTES);
  const deps = contents.dependencies ?? [];
  if (deps.length > MAX_DEPENDENCIES) throw new TypeError(`more than ${MAX_DEPENDENCIES} dependencies`);
  const depBytes = deps.map((d) => [
    nameBytes(d.name, 'dependency name'),
    asciiBytes(d.checksum, 'checksum'),
  ]);
  const depsLength = depBytes.reduce((sum, [n, c]) => sum + 2 + n!.length + 1 + c!.length, 0);
  const text = NOT_LATIN1.test(contents.js) ? TEXT_UTF16LE : TEXT_LATIN1;
  const jsLength = text === TEXT_LATIN1 ? contents.js.length : contents.js.length * 2;
  const v8 = contents.v8 ?? new Uint8Array(0);
  const bodyLength =
    FIXED_BYTES +
    checksum.length +
    runtime.length +
    engine.length +
    name.length +
    depsLength +
    jsLength +
    v8.length;
  const total = bodyLength + (signing ? HMAC_LENGTH : 0) + CRC_LENGTH;
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  out.set(MAGIC, at);
  at += 3;
  out[at++] = FORMAT_VERSION;
  out[at++] = signing ? FLAG_SIGNED : 0;
  out.writeUInt32LE(crc32(binding.key), at);
  at += 4;
  const short = (bytes: Uint8Array) => {
    out[at++] = bytes.length;
    out.set(bytes, at);
    at += bytes.length;
  };
  const long = (bytes: Uint8Array) => {
    out.writeUInt16LE(bytes.length, at);
    out.set(bytes, at + 2);
    at += 2 + bytes.length;
  };
  short(checksum);
  short(runtime);
  out.writeDoubleLE(contents.created ?? Date.now(), at);
  at += 8;
  short(engine);
  long(name);
  out.writeUInt16LE(depBytes.length, at);
  at += 2;
  for (const [depName, depChecksum] of depBytes) {
    long(depName!);
    short(depChecksum!);
  }
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

/** Where each field of a frame is, once its structure and CRC checked out. */
interface ParsedFrame {
  readonly bytes: Buffer;
  readonly signed: boolean;
  readonly keyCrc: number;
  readonly checksum: readonly [number, number];
  readonly runtime: readonly [number, number];
  readonly created: number;
  readonly engine: readonly [number, number];
  readonly name: readonly [number, number];
  /** [nameStart, nameEnd, checksumStart, checksumEnd] per dependency. */
  readonly dependencies: readonly (readonly [number, number, number, number])[];
  readonly utf16: boolean;
  readonly js: readonly [number, number];
  readonly v8: readonly [number, number];
  /** Where the HMAC (or, unsigned, the CRC) starts. */
  readonly end: number;
}

/**
 * Checks a frame's structure (magic, version, flags, every length) and its CRC, and says where
 * each field is. Nothing is decoded yet: that waits for the key, HMAC and checksum checks.
 */
function parseFrame(bytes: Uint8Array): ParsedFrame | RejectReason {
  const size = bytes.length;
  if (size < FIXED_BYTES + CRC_LENGTH) return 'short';
  if (bytes[0] !== 0x62 || bytes[1] !== 0x63 || bytes[2] !== 0x63) return 'magic';
  if (bytes[3] !== FORMAT_VERSION) return 'version';
  const flags = bytes[4]!;
  if ((flags & ~FLAG_SIGNED) !== 0) return 'version';
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, size);
  const signed = (flags & FLAG_SIGNED) !== 0;
  const end = size - (signed ? HMAC_LENGTH : 0) - CRC_LENGTH;
  let at = 9;
  // Each reader returns [start, end) of a length-prefixed field, or null past `end`.
  const field = (prefix: 1 | 2 | 4): [number, number] | null => {
    if (at + prefix > end) return null;
    const length = prefix === 1 ? buf[at]! : prefix === 2 ? buf.readUInt16LE(at) : buf.readUInt32LE(at);
    const start = at + prefix;
    if (length > end - start) return null;
    at = start + length;
    return [start, at];
  };
  const checksum = field(1);
  const runtime = field(1);
  if (!checksum || !runtime || at + 8 > end) return 'length';
  const created = buf.readDoubleLE(at);
  at += 8;
  const engine = field(1);
  const name = field(2);
  if (!engine || !name || at + 2 > end) return 'length';
  const count = buf.readUInt16LE(at);
  at += 2;
  const dependencies: [number, number, number, number][] = [];
  for (let i = 0; i < count; i++) {
    const depName = field(2);
    const depChecksum = depName && field(1);
    if (!depName || !depChecksum) return 'length';
    dependencies.push([depName[0], depName[1], depChecksum[0], depChecksum[1]]);
  }
  if (at + 1 > end) return 'length';
  const text = buf[at++];
  if (text !== TEXT_LATIN1 && text !== TEXT_UTF16LE) return 'version';
  const js = field(4);
  if (!js || (text === TEXT_UTF16LE && (js[1] - js[0]) % 2 !== 0)) return 'length';
  const v8 = field(4);
  if (!v8) return 'length';
  if (at !== end) return 'trailing';
  if (buf.readUInt32LE(size - CRC_LENGTH) !== crc32(bytes.subarray(0, size - CRC_LENGTH))) return 'crc';
  return {
    bytes: buf,
    signed,
    keyCrc: buf.readUInt32LE(5),
    checksum,
    runtime,
    created,
    engine,
    name,
    dependencies,
    utf16: text === TEXT_UTF16LE,
    js,
    v8,
    end,
  };
}

const latin1 = (frame: ParsedFrame, [start, end]: readonly [number, number]) =>
  frame.bytes.toString('latin1', start, end);
const utf8 = (frame: ParsedFrame, [start, end]: readonly [number, number]) =>
  frame.bytes.toString('utf8', start, end);

function dependenciesOf(frame: ParsedFrame): Dependency[] {
  return frame.dependencies.map(([ns, ne, cs, ce]) => ({
    name: utf8(frame, [ns, ne]),
    checksum: latin1(frame, [cs, ce]),
  }));
}

/** Whether a signed frame verifies under one of `secrets` for `key`. */
function verifies(frame: ParsedFrame, secrets: readonly Uint8Array[], key: string): boolean {
  const tag = frame.bytes.subarray(frame.end, frame.end + HMAC_LENGTH);
  const body = frame.bytes.subarray(0, frame.end);
  let valid = false;
  for (const secret of secrets) {
    // Every secret is tried, so the time taken says nothing about which one matched.
    if (cryptoModule().timingSafeEqual(signature(secret, body, key), tag)) valid = true;
  }
  return valid;
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
  /**
   * The current checksum of a dependency the frame lists, or `undefined` when it cannot be read.
   * A frame with dependencies is refused (`dependency`) unless each still has its checksum, and
   * always when this is not given.
   */
  dependencyChecksum?: (name: string) => string | undefined;
}

/**
 * Decodes and checks one entry. Never throws on bad bytes: it reports why it refused them.
 * The returned V8 bytes are a view into `bytes`, not a copy (copying 45 KB costs ~12 µs).
 */
export function decodeFrame(bytes: Uint8Array, expect: DecodeExpectations): DecodeResult {
  const frame = parseFrame(bytes);
  if (typeof frame === 'string') return { ok: false, reason: frame };
  if (frame.keyCrc !== crc32(expect.key)) return { ok: false, reason: 'key' };
  const secrets = expect.secrets;
  if (secrets && secrets.length > 0) {
    if (!frame.signed) return { ok: false, reason: 'unsigned' };
    if (!verifies(frame, secrets, expect.key)) return { ok: false, reason: 'signature' };
  }
  if (latin1(frame, frame.checksum) !== expect.checksum) return { ok: false, reason: 'checksum' };
  const dependencies = frame.dependencies.length === 0 ? [] : dependenciesOf(frame);
  for (const dependency of dependencies) {
    if (expect.dependencyChecksum?.(dependency.name) !== dependency.checksum) {
      return { ok: false, reason: 'dependency' };
    }
  }
  const runtime = latin1(frame, frame.runtime);
  const js = frame.bytes.toString(frame.utf16 ? 'utf16le' : 'latin1', frame.js[0], frame.js[1]);
  const sameRuntime = runtime === (expect.runtime ?? runtimeTag());
  const hasV8 = frame.v8[1] > frame.v8[0];
  const v8 = sameRuntime && hasV8 ? bytes.subarray(frame.v8[0], frame.v8[1]) : undefined;
  return { ok: true, js, v8, runtime, v8Dropped: !sameRuntime && hasV8, dependencies };
}

/** What {@link inspectFrame} reads from an entry without knowing what it was stored for. */
export interface FrameInfo {
  /** Total size in bytes. */
  size: number;
  /** The format version in the header (only {@link FORMAT_VERSION} frames are read further). */
  version: number;
  signed: boolean;
  /** CRC32 of the key the frame was written for. */
  keyCrc: number;
  checksum: string;
  runtime: string;
  /** True when the V8 cache was made by a process like this one (same {@link runtimeTag}). */
  sameRuntime: boolean;
  created: Date;
  engine: string;
  name: string;
  dependencies: Dependency[];
  /** Bytes of JavaScript as stored (Latin-1 or UTF-16LE). */
  jsBytes: number;
  /** Bytes of V8 code cache; 0 when none. */
  v8Bytes: number;
}

/**
 * Reads an entry's header fields for operators (`bcc ls`, `bcc inspect`): structure and CRC are
 * checked, the signature is checked only when `secrets` are given (`signature` is then
 * `'valid'` or `'invalid'`), nothing is run. A frame that cannot be read gives its reason, and
 * the version byte when the magic is right (an entry of another format version).
 */
export function inspectFrame(
  bytes: Uint8Array,
  options: { key?: string; secrets?: readonly Uint8Array[] } = {},
):
  | { ok: true; info: FrameInfo; reason?: RejectReason }
  | { ok: false; reason: RejectReason; version?: number } {
  const frame = parseFrame(bytes);
  if (typeof frame === 'string') {
    const magic = bytes.length > 3 && bytes[0] === 0x62 && bytes[1] === 0x63 && bytes[2] === 0x63;
    return magic ? { ok: false, reason: frame, version: bytes[3]! } : { ok: false, reason: frame };
  }
  const runtime = latin1(frame, frame.runtime);
  const info: FrameInfo = {
    size: bytes.length,
    version: FORMAT_VERSION,
    signed: frame.signed,
    keyCrc: frame.keyCrc,
    checksum: latin1(frame, frame.checksum),
    runtime,
    sameRuntime: runtime === runtimeTag(),
    // A hostile frame may hold any float here; a Date out of range would throw when printed.
    created: new Date(Math.abs(frame.created) <= MAX_DATE_MS ? frame.created : 0),
    engine: latin1(frame, frame.engine),
    name: utf8(frame, frame.name),
    dependencies: dependenciesOf(frame),
    jsBytes: frame.js[1] - frame.js[0],
    v8Bytes: frame.v8[1] - frame.v8[0],
  };
  // The same checks a load makes, in the same order, as far as the caller can know them.
  let reason: RejectReason | undefined;
  if (options.key !== undefined && frame.keyCrc !== crc32(options.key)) reason = 'key';
  else if (options.secrets && options.secrets.length > 0) {
    if (!frame.signed) reason = 'unsigned';
    else if (options.key === undefined || !verifies(frame, options.secrets, options.key))
      reason = 'signature';
  }
  return reason ? { ok: true, info, reason } : { ok: true, info };
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
