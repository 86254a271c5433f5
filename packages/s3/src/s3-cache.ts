import type { Readable } from 'node:stream';
import {
  DeleteObjectsCommand,
  type DeleteObjectsCommandOutput,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import {
  BccBackendError,
  BccConfigError,
  BccEntryTooLargeError,
  type Bucket,
  BytecodeCache,
  type BytecodeCacheOptions,
  isBccError,
  type StoredEntry,
} from '@bcc/core';

/** Options of {@link S3BytecodeCache}. */
export interface S3BytecodeCacheOptions extends BytecodeCacheOptions {
  /** A client you made. It is used as is and left open by `close()`. */
  client?: S3Client;
  /**
   * Configuration for a client the cache makes (and closes). bcc adds, unless set here:
   * `requestChecksumCalculation`/`responseChecksumValidation: 'WHEN_REQUIRED'` (entries carry
   * their own CRC32, and S3-compatible stores mishandle streamed checksums), `forcePathStyle`
   * when an `endpoint` is given, `region: 'us-east-1'` when an endpoint is given without one,
   * and an HTTP handler with the timeouts below.
   */
  clientConfig?: S3ClientConfig;
  /** The S3 bucket. */
  bucket: string;
  /**
   * Key prefix of this cache's objects (default `'bcc/'`). `clear()` deletes everything under
   * it, so end it with `/` and do not let one cache's prefix start another's.
   */
  prefix?: string;
  /** Milliseconds one HTTP attempt may take (default 2000). Applies to clients you pass, too. */
  requestTimeout?: number;
  /** Milliseconds to establish a connection, for a client the cache makes (default 1000). */
  connectionTimeout?: number;
  /**
   * Milliseconds a load or dump may take in all, retries included (default 5000), so a dead
   * or hanging server is a bounded miss. `clear()` is not bounded by it.
   */
  operationTimeout?: number;
  /** How many GETs `loadMany` runs at once (default 16). */
  concurrency?: number;
  /**
   * The largest entry a read accepts, in bytes (default 16 MiB; entries are a few hundred KB).
   * A larger object at a bcc key, planted or left by an older deploy, is not downloaded: its
   * announced length (or the bytes counted as they arrive) ends the read as one bounded miss,
   * reported as a `BccEntryTooLargeError`.
   */
  maxEntrySize?: number;
}

const DEFAULT_PREFIX = 'bcc/';
const DEFAULT_MAX_ENTRY_SIZE = 16 * 1024 * 1024;

/**
 * Stores entries as S3 objects `<prefix><key>` (AWS S3, or an S3-compatible store such as
 * MinIO, Ceph, R2 or s3rver through `clientConfig.endpoint`).
 *
 * ```ts
 * const cache = new S3BytecodeCache({ bucket: 'my-bucket', clientConfig: { region: 'eu-west-1' } });
 * ```
 *
 * A missing object (`NoSuchKey`/404) is a miss. A 403 is reported through `onError` (a role
 * without `s3:ListBucket` gets 403 instead of 404 for missing objects) and is a miss too.
 * S3 has no per-object expiry: use a lifecycle rule on the prefix for time-to-live.
 */
export class S3BytecodeCache extends BytecodeCache {
  readonly bucket: string;
  readonly prefix: string;
  readonly client: S3Client;
  /** The largest entry a read accepts, in bytes. */
  readonly maxEntrySize: number;
  readonly #ownsClient: boolean;
  readonly #requestTimeout: number;
  readonly #operationTimeout: number;
  readonly #concurrency: number;

  constructor(options: S3BytecodeCacheOptions) {
    super(options);
    const { bucket, prefix = DEFAULT_PREFIX } = options ?? ({} as S3BytecodeCacheOptions);
    if (typeof bucket !== 'string' || bucket === '') {
      throw new BccConfigError(
        'S3BytecodeCache needs a bucket name: new S3BytecodeCache({ bucket: "my-bucket" })',
      );
    }
    if (typeof prefix !== 'string' || prefix === '') {
      throw new BccConfigError(
        'prefix must be a non-empty string (default "bcc/"): clear() deletes every object under it, so an empty prefix would empty the whole bucket, other applications\' data included',
      );
    }
    if (options.client && typeof (options.client as { send?: unknown }).send !== 'function') {
      throw new BccConfigError('client must be an S3Client from @aws-sdk/client-s3 (it has no send method)');
    }
    this.bucket = bucket;
    this.prefix = prefix;
    this.#requestTimeout = positive('requestTimeout', options.requestTimeout, 2000);
    this.#operationTimeout = positive('operationTimeout', options.operationTimeout, 5000);
    this.#concurrency = positive('concurrency', options.concurrency, 16);
    this.maxEntrySize = positive(
      'maxEntrySize',
      options.maxEntrySize,
      DEFAULT_MAX_ENTRY_SIZE,
      Number.MAX_SAFE_INTEGER,
    );
    const connectionTimeout = positive('connectionTimeout', options.connectionTimeout, 1000);
    if (options.client && options.clientConfig) {
      throw new BccConfigError('give S3BytecodeCache either a client or a clientConfig, not both');
    }
    this.#ownsClient = !options.client;
    this.client =
      options.client ??
      new S3Client(
        clientConfigWithDefaults(options.clientConfig ?? {}, this.#requestTimeout, connectionTimeout),
      );
  }

  override get backendName(): string {
    return 's3';
  }

  /** `s3://bucket/prefix`. */
  override get storeName(): string {
    return `s3://${this.bucket}/${this.prefix}`;
  }

  /** The object key of an entry. */
  objectKey(key: string): string {
    return this.prefix + key;
  }

  async loadBytecode(bucket: Bucket): Promise<void> {
    await this.#read(bucket.key, (chunks) => bucket.loadBytecode(chunks));
  }

  /**
   * GETs `key`'s object and hands its body, bounded in time and size, to `consume`; a missing
   * object is `false` without calling it.
   */
  async #read(key: string, consume: (chunks: AsyncIterable<Uint8Array>) => Promise<void>): Promise<boolean> {
    const objectKey = this.objectKey(key);
    let body: Readable | undefined;
    try {
      const response = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: objectKey }),
        this.#bounded(),
      );
      body = response.Body as Readable | undefined;
      if (body && (response.ContentLength ?? 0) > this.maxEntrySize) {
        body.destroy();
        throw this.#tooLarge(objectKey, response.ContentLength!);
      }
    } catch (error) {
      if (isMissing(error)) return false;
      if (isBccError(error)) throw error;
      throw this.#describe(error, 'load', objectKey);
    }
    if (!body) return false;
    try {
      await consume(bounded(body, this.#requestTimeout, this.maxEntrySize));
      return true;
    } catch (error) {
      if ((error as Error).name === OVERSIZED)
        throw this.#tooLarge(objectKey, (error as { bytes: number }).bytes);
      throw this.#describe(error, 'load', objectKey);
    } finally {
      // An unread body holds its socket until the server gives up: always release it.
      if (!body.readableEnded) body.destroy();
    }
  }

  async dumpBytecode(bucket: Bucket): Promise<void> {
    const bytes = bucket.bytecodeToBytes();
    const key = this.objectKey(bucket.key);
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
          ContentLength: bytes.byteLength,
          ContentType: 'application/octet-stream',
        }),
        this.#bounded(),
      );
    } catch (error) {
      throw this.#describe(error, 'dump', key);
    }
  }

  /** Loads many entries with at most `concurrency` GETs in flight. */
  override async loadMany(buckets: readonly Bucket[]): Promise<void> {
    let next = 0;
    let failed = 0;
    let first: unknown;
    const worker = async () => {
      while (next < buckets.length) {
        const bucket = buckets[next++]!;
        try {
          await this.loadBytecode(bucket);
        } catch (error) {
          bucket.reset();
          failed++;
          first ??= error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#concurrency, buckets.length) }, worker));
    if (failed === 0) return;
    if (failed === 1) throw first;
    throw new BccBackendError(
      's3',
      'loadMany',
      `s3: ${failed} of ${buckets.length} loads failed; the first: ${(first as Error).message}`,
      {
        cause: first,
      },
    );
  }

  /**
   * Deletes every object under the prefix: ListObjectsV2 page by page, DeleteObjects per page
   * (at most 1000 keys, S3's limit), checking each response's per-key `Errors`. The client's
   * retries stay on here: some stores answer a transient 500 while deleting.
   */
  override async clear(): Promise<void> {
    for await (const page of this.#pages('clear')) {
      const keys = page.map((object) => object.Key);
      for (let i = 0; i < keys.length; i += 1000) await this.#deleteChunk(keys.slice(i, i + 1000));
    }
  }

  /** This cache's objects (ListObjectsV2 under the prefix), with size and last-modified time. */
  override async *listEntries(): AsyncIterable<StoredEntry> {
    for await (const page of this.#pages('list')) {
      for (const object of page) {
        const entry: StoredEntry = { key: object.Key.slice(this.prefix.length), size: object.Size ?? 0 };
        if (object.LastModified) entry.modified = object.LastModified;
        yield entry;
      }
    }
  }

  /** The object's bytes (at most `maxEntrySize`), or `undefined` when there is none. */
  override async readEntry(key: string): Promise<Uint8Array | undefined> {
    const chunks: Uint8Array[] = [];
    const found = await this.#read(key, async (source) => {
      for await (const chunk of source) chunks.push(chunk);
    });
    return found ? Buffer.concat(chunks) : undefined;
  }

  /** Deletes the object; `true` when it was there (S3's DELETE does not say, so a HEAD asks first). */
  override async deleteEntry(key: string): Promise<boolean> {
    const objectKey = this.objectKey(key);
    let existed: boolean;
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: objectKey }), this.#bounded());
      existed = true;
    } catch (error) {
      if (!isMissing(error)) throw this.#describe(error, 'clear', objectKey);
      existed = false;
    }
    if (existed) await this.#deleteChunk([objectKey]);
    return existed;
  }

  /**
   * The objects under the prefix, a ListObjectsV2 page at a time. Only keys under the prefix,
   * whatever the server listed: nothing here ever touches other applications' objects.
   */
  async *#pages(
    operation: 'clear' | 'list',
  ): AsyncGenerator<{ Key: string; Size?: number; LastModified?: Date }[]> {
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.prefix,
            ContinuationToken: token,
            MaxKeys: 1000,
          }),
          { requestTimeout: this.#requestTimeout },
        );
      } catch (error) {
        throw this.#describe(error, operation === 'clear' ? 'clear' : 'load', this.prefix);
      }
      yield (page.Contents ?? []).flatMap((o) =>
        o.Key?.startsWith(this.prefix) ? [{ ...o, Key: o.Key }] : [],
      );
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  #tooLarge(key: string, bytes: number): BccEntryTooLargeError {
    return new BccEntryTooLargeError(
      bytes,
      this.maxEntrySize,
      `s3: s3://${this.bucket}/${key} holds ${bytes} bytes or more, larger than maxEntrySize (${this.maxEntrySize}), so it is no entry of this cache; it was not downloaded (a miss). Delete it, or raise maxEntrySize`,
    );
  }

  /** Destroys the client if this cache made it. */
  override async close(): Promise<void> {
    if (this.#ownsClient) this.client.destroy();
  }

  async #deleteChunk(keys: string[]): Promise<void> {
    let result: DeleteObjectsCommandOutput;
    try {
      result = await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
        }),
        { requestTimeout: this.#requestTimeout },
      );
    } catch (error) {
      throw this.#describe(error, 'clear', this.prefix);
    }
    const errors = result.Errors ?? [];
    if (errors.length > 0) {
      const e = errors[0]!;
      throw new BccBackendError(
        's3',
        'clear',
        `s3 clear: ${errors.length} of ${keys.length} objects in s3://${this.bucket}/${this.prefix} were not deleted; e.g. ${e.Key}: ${e.Code} ${e.Message ?? ''}`.trim(),
        { cause: errors },
      );
    }
  }

  /** Per-call options: the attempt timeout, and a deadline over all retries. */
  #bounded() {
    return { requestTimeout: this.#requestTimeout, abortSignal: AbortSignal.timeout(this.#operationTimeout) };
  }

  #describe(error: unknown, operation: 'load' | 'dump' | 'clear', key: string): BccBackendError {
    const status = httpStatus(error);
    const name = (error as { name?: string } | null)?.name ?? 'Error';
    const message = error instanceof Error ? error.message : String(error);
    let hint = '';
    if (status === 403) {
      hint =
        operation === 'load'
          ? ': access denied. A role without s3:ListBucket gets 403 instead of 404 for missing objects; grant s3:ListBucket on the bucket, and s3:GetObject/PutObject on the prefix'
          : ': access denied; check the credentials and the bucket policy';
    } else if (name === 'NoSuchBucket') {
      hint = `: bucket "${this.bucket}" does not exist`;
    } else if (name === 'TimeoutError' || name === 'AbortError') {
      hint = ': no answer in time';
    }
    return new BccBackendError(
      's3',
      operation,
      `s3 ${operation} of s3://${this.bucket}/${key} failed${status ? ` (HTTP ${status})` : ''}${hint}: ${name}: ${message}`,
      { cause: error },
    );
  }
}

const OVERSIZED = 'OversizedBodyError';

/**
 * The body's chunks, failing when none arrives for `ms`, or when more than `maxBytes` arrive
 * (a server that announced no length, or a wrong one). The SDK's request timeout ends with the
 * headers, so a server that stalls mid-body (s3rver does when an object is overwritten while it
 * is read) would otherwise hold a load until the whole-operation deadline.
 */
async function* bounded(body: Readable, ms: number, maxBytes: number): AsyncGenerator<Uint8Array> {
  const timer = setTimeout(() => {
    const error = new Error(`the response body stalled for ${ms} ms`);
    error.name = 'TimeoutError';
    body.destroy(error);
  }, ms);
  let received = 0;
  try {
    for await (const chunk of body) {
      timer.refresh();
      received += (chunk as Uint8Array).byteLength;
      if (received > maxBytes) {
        body.destroy();
        throw Object.assign(new Error(`more than ${maxBytes} bytes`), { name: OVERSIZED, bytes: received });
      }
      yield chunk as Uint8Array;
    }
  } finally {
    clearTimeout(timer);
  }
}

function clientConfigWithDefaults(
  config: S3ClientConfig,
  requestTimeout: number,
  connectionTimeout: number,
): S3ClientConfig {
  const compatible = config.endpoint !== undefined;
  return {
    ...(compatible ? { forcePathStyle: true, region: 'us-east-1' } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { requestTimeout, connectionTimeout, throwOnRequestTimeout: true },
    ...config,
  };
}

function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

/** `NoSuchKey`, or a 404 that is not about the bucket itself: a miss, not an error. */
function isMissing(error: unknown): boolean {
  const name = (error as { name?: string } | null)?.name;
  if (name === 'NoSuchKey') return true;
  return httpStatus(error) === 404 && name !== 'NoSuchBucket';
}

/** Node turns a timer of 2^31 ms or more into 1 ms: the default bound of every option here. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function positive(name: string, value: number | undefined, fallback: number, max = MAX_TIMER_MS): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0 || value > max) {
    throw new BccConfigError(`${name} must be a whole number from 1 to ${max}, got ${String(value)}`);
  }
  return value;
}
