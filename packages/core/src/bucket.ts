import type { Readable, Writable } from 'node:stream';
import { sha256Hex } from './digest.js';
import { type Dependency, decodeFrame, encodeFrame, type RejectReason, runtimeTag } from './format.js';

/** One template's compiled code: its JavaScript and, optionally, V8's code cache for it. */
export interface BucketCode {
  /** The compiled JavaScript. A script whose completion value is the template (see `instantiate`). */
  readonly js: string;
  /** V8's code cache for exactly this `js`, made under the current runtime. */
  readonly v8?: Uint8Array | undefined;
  /**
   * Files the engine inlined into this code besides the template (Pug's `include`/`extends`),
   * with their checksums when compiled: the entry is valid only while each is unchanged.
   */
  readonly dependencies?: readonly Dependency[] | undefined;
}

/** The engine side of a cache entry. Its fingerprint is part of every key. */
export interface BucketEnvironment {
  /** Engine name, version and every option that changes the generated code. */
  readonly fingerprint: string;
  /** Engine and version for operators (`nunjucks@3.2.4`), written into each entry; never checked. */
  readonly engine?: string | undefined;
  /**
   * The current source of a dependency an entry lists (see {@link BucketCode.dependencies}), or
   * `undefined` when it is gone. Needed only by engines that record dependencies.
   */
  readDependency?(name: string): string | undefined;
  /**
   * The checksum (by `checksumOf`) of a dependency's source now, or `undefined` when it is gone.
   * Optional: when present it is used instead of {@link readDependency}, so an engine whose
   * dependencies are files can answer from `sourceFileChecksum`, which skips reading a file that
   * has not changed. `checksumOf` is the same function for every call of one cache.
   */
  dependencyChecksum?(name: string, checksumOf: (source: string) => string): string | undefined;
}

/**
 * The checksum (by `checksumOf`) of a dependency's source now, or `undefined` when it is gone:
 * the environment's `dependencyChecksum` when it has one, else its source read again and hashed.
 * What a stored entry's dependencies are checked against, on load and when a prepared template
 * is used again.
 */
export function dependencyChecksumNow(
  environment: BucketEnvironment,
  name: string,
  checksumOf: (source: string) => string,
): string | undefined {
  if (environment.dependencyChecksum) return environment.dependencyChecksum(name, checksumOf);
  const source = environment.readDependency?.(name);
  return source === undefined ? undefined : checksumOf(source);
}

/** What the last load did to a bucket. */
export type LoadOutcome =
  | { status: 'hit'; bytes: number; v8Dropped: boolean }
  | { status: 'miss' }
  | { status: 'rejected'; reason: RejectReason; bytes: number };

/** Options a cache passes to the buckets it makes. */
export interface BucketOptions {
  /** Secrets: the first signs, any verifies. Empty: entries are neither signed nor checked. */
  secrets?: readonly Uint8Array[];
  /** The template's name, for messages, `BCC_DEBUG` lines and `bcc ls` (the key is a hash). */
  name?: string;
  /** The cache's source checksum, applied to dependencies too. Default: SHA-256 hex. */
  checksumOf?: (source: string) => string;
}

/** A stream's byte limit: a longer stream is a rejected entry, not an out-of-memory crash. */
const MAX_STREAM_BYTES = 512 * 1024 * 1024;

type ByteSource = Readable | AsyncIterable<Uint8Array> | { readFile(): Promise<Uint8Array> };
type ByteSink = Writable | { write(data: Uint8Array): Promise<unknown> };

/**
 * One template's entry: its identity (`key`), the source checksum it must match, and its
 * compiled code. Buckets know the binary format and nothing about stores; caches move their
 * bytes (Jinja2's `Bucket`).
 *
 * ```ts
 * const bucket = new Bucket({ fingerprint: 'demo' }, 'key', 'checksum');
 * bucket.code = { js: '(() => 42)' };
 * const bytes = bucket.bytecodeToBytes();
 * const copy = new Bucket({ fingerprint: 'demo' }, 'key', 'checksum');
 * copy.bytecodeFromBytes(bytes); // copy.code.js === '(() => 42)'
 * ```
 */
export class Bucket {
  readonly environment: BucketEnvironment;
  readonly key: string;
  readonly checksum: string;
  /** The template's name, when the bucket was made for one (messages only). */
  readonly name: string | undefined;
  /** What the last `bytecodeFromBytes`/`loadBytecode` did; `null` before any load. */
  lastLoad: LoadOutcome | null = null;
  readonly #secrets: readonly Uint8Array[];
  readonly #checksumOf: ((source: string) => string) | undefined;
  #code: BucketCode | null = null;
  #encoded: Buffer | null = null;

  constructor(environment: BucketEnvironment, key: string, checksum: string, options: BucketOptions = {}) {
    this.environment = environment;
    this.key = key;
    this.checksum = checksum;
    this.#secrets = options.secrets ?? [];
    this.name = options.name;
    this.#checksumOf = options.checksumOf;
  }

  /** The compiled code, or `null` when the bucket is empty (a miss). */
  get code(): BucketCode | null {
    return this.#code;
  }

  set code(code: BucketCode | null) {
    if (code !== null && typeof code?.js !== 'string') {
      throw new TypeError('bucket.code must be null or { js: string; v8?: Uint8Array; dependencies?: [] }');
    }
    this.#code = code;
    this.#encoded = null;
  }

  /** True when the bucket signs and verifies its entries. */
  get signed(): boolean {
    return this.#secrets.length > 0;
  }

  /** Empties the bucket. */
  reset(): void {
    this.code = null;
  }

  /**
   * Fills the bucket from one stored entry. A bad entry (wrong magic, version, checksum or
   * signature, truncated, trailing bytes, bad CRC) leaves the bucket empty and never throws.
   * An entry made under another runtime keeps its JavaScript and drops its V8 cache.
   */
  bytecodeFromBytes(bytes: Uint8Array): void {
    const result = decodeFrame(bytes, {
      checksum: this.checksum,
      key: this.key,
      secrets: this.#secrets,
      dependencyChecksum: (name) => this.#dependencyChecksum(name),
    });
    if (!result.ok) {
      this.reset();
      this.lastLoad = { status: 'rejected', reason: result.reason, bytes: bytes.length };
      return;
    }
    const dependencies = result.dependencies.length > 0 ? { dependencies: result.dependencies } : {};
    this.code = result.v8
      ? { js: result.js, v8: result.v8, ...dependencies }
      : { js: result.js, ...dependencies };
    // The stored bytes are already the encoding of this code when nothing was dropped.
    if (!result.v8Dropped) this.#encoded = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    this.lastLoad = { status: 'hit', bytes: bytes.length, v8Dropped: result.v8Dropped };
  }

  /**
   * The bucket as one binary frame (see `format.ts`). Throws `TypeError` on an empty bucket,
   * as Jinja2 does: writing nothing is a bug in the caller, not a cache miss.
   */
  bytecodeToBytes(): Uint8Array {
    const code = this.#code;
    if (code === null) throw new TypeError(`cannot write an empty bucket (key ${this.key})`);
    this.#encoded ??= encodeFrame(
      {
        checksum: this.checksum,
        runtime: runtimeTag(),
        js: code.js,
        v8: code.v8,
        name: this.name,
        engine: this.environment.engine,
        dependencies: code.dependencies,
      },
      { key: this.key, secret: this.#secrets[0] },
    );
    return this.#encoded;
  }

  /** The checksum of a dependency's source now, by the same rule as the template's. */
  #dependencyChecksum(name: string): string | undefined {
    return dependencyChecksumNow(this.environment, name, this.#checksumOf ?? sha256Hex);
  }

  /** Reads one entry from a stream, async iterable or file handle; bad bytes empty the bucket. */
  async loadBytecode(source: ByteSource): Promise<void> {
    if ('readFile' in source && typeof source.readFile === 'function') {
      this.bytecodeFromBytes(await source.readFile());
      return;
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    for await (const chunk of source as AsyncIterable<Uint8Array | string>) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
      total += bytes.length;
      if (total > MAX_STREAM_BYTES) {
        (source as Partial<Readable>).destroy?.();
        this.reset();
        this.lastLoad = { status: 'rejected', reason: 'length', bytes: total };
        return;
      }
      chunks.push(bytes);
    }
    this.bytecodeFromBytes(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total));
  }

  /** Writes the entry to a writable stream or file handle. Throws `TypeError` on an empty bucket. */
  async writeBytecode(sink: ByteSink): Promise<void> {
    const bytes = this.bytecodeToBytes();
    if ('writable' in sink || 'once' in sink) {
      const stream = sink as Writable;
      await new Promise<void>((resolve, reject) => {
        stream.write(bytes, (error) => (error ? reject(error) : resolve()));
      });
      return;
    }
    await (sink as { write(data: Uint8Array): Promise<unknown> }).write(bytes);
  }
}
