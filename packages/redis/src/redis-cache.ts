import {
  BccConfigError,
  BccEntryTooLargeError,
  type Bucket,
  BytecodeCache,
  type BytecodeCacheOptions,
  type ErrorContext,
  type StoredEntry,
} from '@bcc/core';
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { escapeGlob } from './glob.js';
import { RespReader, type RespTarget, respTarget } from './resp-reader.js';
import { keySlot } from './slot.js';
import { withTimeout } from './timeout.js';

const { createRequire } = process.getBuiltinModule('node:module');

/**
 * ioredis, loaded when the cache first needs it (a write, `clear`, listing, `client`): a warm
 * process that only reads through {@link RespReader} never pays for importing it.
 */
let ioredis: typeof import('ioredis') | null = null;
function loadIoredis(): typeof import('ioredis') {
  ioredis ??= createRequire(import.meta.url)('ioredis') as typeof import('ioredis');
  return ioredis;
}

/** A single-node ioredis client or an ioredis Cluster. */
export type RedisClient = Redis | Cluster;

/**
 * What the cache calls on a client you pass, by shape: ioredis 5 and 6 `Redis` and `Cluster`
 * clients fit (both are tested), and so does anything with the same methods. Checked when the
 * cache is made.
 */
export interface RedisClientLike {
  getrangeBuffer(key: string, start: number, end: number): Promise<Buffer>;
  set(key: string, value: Buffer, ...options: never[]): Promise<unknown>;
  pipeline(): unknown;
  scan(cursor: string | number, ...options: never[]): Promise<[cursor: string, keys: string[]]>;
  unlink(...keys: string[]): Promise<number>;
  readonly status: string;
  readonly options: object;
}

/** Options of {@link RedisBytecodeCache}. */
export interface RedisBytecodeCacheOptions extends BytecodeCacheOptions {
  /**
   * A client you made (`new Redis(...)` or `new Cluster(...)`). The cache never closes it.
   * Give it a `commandTimeout` of its own; the cache also bounds every call by
   * {@link commandTimeout}, but a command it stopped waiting for may still sit in ioredis'
   * offline queue.
   */
  client?: RedisClient | RedisClientLike;
  /** Where to connect when no `client` is given, e.g. `redis://127.0.0.1:6379/0`. */
  url?: string;
  /** ioredis options for the client the cache makes; they override the cache's defaults. */
  options?: RedisOptions;
  /** Prefix of every key (default `'bcc/'`). `clear()` deletes the keys under it, so it must not be empty. */
  prefix?: string;
  /** Time to live of an entry in seconds (`SET … PX`). Default: no expiry. */
  ttl?: number;
  /**
   * Upper bound on every call, in milliseconds (default 500). A dead or stalled Redis is a miss
   * after at most this long, never a hung render.
   */
  commandTimeout?: number;
  /**
   * The largest entry a read accepts, in bytes (default 16 MiB; entries are a few hundred KB).
   * Reads ask Redis for at most this many bytes (`GETRANGE`), so a huge value at a bcc key,
   * planted or left by an older deploy, costs one bounded miss, reported as a
   * `BccEntryTooLargeError`, never a process busy receiving it.
   */
  maxEntrySize?: number;
  /**
   * Read entries over a connection of the cache's own instead of through ioredis (default
   * `true`), so a process whose templates are all cached never imports ioredis (40–55 ms of
   * start-up on Node 24). Used only for a client the cache makes from a plain `redis://` URL
   * (host, port, user, password, database) without `options`; TLS, `options` and clients you
   * pass always go through ioredis. `false` sends reads through ioredis too.
   */
  fastReads?: boolean;
}

const DEFAULT_COMMAND_TIMEOUT = 500;
const DEFAULT_MAX_ENTRY_SIZE = 16 * 1024 * 1024;
/** Node turns a timer of 2^31 ms or more into 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Ten years: Redis refuses an expiry whose absolute time overflows, so the bound is generous but finite. */
const MAX_TTL = 10 * 365 * 24 * 60 * 60;
/** Reads per pipeline chunk: bounds one batch's replies when a warm-up asks for thousands of entries. */
const MGET_CHUNK = 100;
const SCAN_COUNT = 500;

const isCluster = (client: RedisClient): client is Cluster =>
  (client as { isCluster?: boolean }).isCluster === true;

/**
 * Stores entries in Redis or a Redis Cluster through ioredis: binary values read with a bound (`GETRANGE`),
 * `SET … PX` for the time to live, pipelined batches for `loadMany` (grouped by node in a
 * cluster), and `clear()` by `SCAN` + `UNLINK` under the prefix on every master.
 *
 * ```ts
 * import { RedisBytecodeCache } from '@bcc/redis';
 * const cache = new RedisBytecodeCache({ url: 'redis://127.0.0.1:6379', prefix: 'app/', ttl: 86400 });
 * ```
 */
export class RedisBytecodeCache extends BytecodeCache {
  readonly prefix: string;
  /** Time to live in seconds, or `undefined` for none. */
  readonly ttl: number | undefined;
  readonly commandTimeout: number;
  /** The largest entry a read accepts, in bytes. */
  readonly maxEntrySize: number;
  readonly #ownsClient: boolean;
  #client: RedisClient | null = null;
  /** The made client's URL and ioredis options, for making it when first needed. */
  readonly #connection: { url: string | undefined; options: RedisOptions | undefined };
  /** The read path without ioredis, for a plain `redis://` target (see `fastReads`). */
  readonly #reader: RespReader | null = null;
  readonly #target: RespTarget | null = null;
  readonly #ttlMs: number | undefined;
  /** Resolves once the client we made has connected or failed its first attempt. */
  #startup: Promise<void> | null = null;
  #connectOnFirstUse = false;
  /** Why the made client is not connected, for the errors of refused commands. */
  #lastConnectionError: Error | null = null;

  constructor(options: RedisBytecodeCacheOptions = {}) {
    // A cluster master that dies says nothing about the other masters' slots: a cache-wide
    // breaker would turn every key into a miss. Clusters get no breaker unless one is asked for.
    const cluster = options.client !== undefined && isCluster(options.client as RedisClient);
    super({ ...options, breaker: options.breaker ?? (cluster ? false : undefined) });
    const prefix = options.prefix ?? 'bcc/';
    if (typeof prefix !== 'string' || prefix.length === 0) {
      throw new BccConfigError(
        'prefix must be a non-empty string: clear() deletes every key under it, so an empty prefix would empty the database',
      );
    }
    if (
      options.ttl !== undefined &&
      !(Number.isFinite(options.ttl) && options.ttl > 0 && options.ttl <= MAX_TTL)
    ) {
      throw new BccConfigError(
        `ttl must be a number of seconds above 0 and at most ${MAX_TTL}, got ${String(options.ttl)}`,
      );
    }
    const commandTimeout = options.commandTimeout ?? DEFAULT_COMMAND_TIMEOUT;
    if (!(Number.isFinite(commandTimeout) && commandTimeout >= 1 && commandTimeout <= MAX_TIMER_MS)) {
      throw new BccConfigError(
        `commandTimeout must be a number of milliseconds from 1 to ${MAX_TIMER_MS} (Node's timer limit), got ${String(commandTimeout)}`,
      );
    }
    const maxEntrySize = options.maxEntrySize ?? DEFAULT_MAX_ENTRY_SIZE;
    if (!(Number.isSafeInteger(maxEntrySize) && maxEntrySize > 0)) {
      throw new BccConfigError(
        `maxEntrySize must be a positive whole number of bytes, got ${String(options.maxEntrySize)}`,
      );
    }
    if (options.client) {
      const missing = ['getrangeBuffer', 'set', 'pipeline', 'scan'].filter(
        (method) => typeof (options.client as unknown as Record<string, unknown>)[method] !== 'function',
      );
      if (missing.length > 0) {
        throw new BccConfigError(
          `client must be an ioredis Redis or Cluster client; it lacks ${missing.join(', ')}`,
        );
      }
    }
    if (options.client && (options.url || options.options)) {
      throw new BccConfigError('pass either client, or url/options to make one, not both');
    }
    this.prefix = prefix;
    this.ttl = options.ttl;
    this.#ttlMs = options.ttl === undefined ? undefined : Math.max(1, Math.round(options.ttl * 1000));
    this.commandTimeout = commandTimeout;
    this.maxEntrySize = maxEntrySize;
    this.#connection = { url: options.url, options: options.options };
    if (options.client) {
      // ioredis 5 and 6 share every method the cache calls; the type says 6 for brevity.
      this.#client = options.client as RedisClient;
      this.#ownsClient = false;
      return;
    }
    this.#ownsClient = true;
    const target =
      options.options === undefined && options.fastReads !== false ? respTarget(options.url) : null;
    if (target) {
      this.#target = target;
      this.#reader = new RespReader(target, { maxBulk: maxEntrySize + 1 });
      this.#reader.warmUp();
    } else {
      this.#client = this.#makeClient(options.url, options.options);
    }
  }

  /**
   * The ioredis client (yours, or the one the cache made). A cache that reads without ioredis
   * (`fastReads`) makes it on first use: reading this property imports ioredis.
   */
  get client(): RedisClient {
    this.#client ??= this.#makeClient(this.#connection.url, this.#connection.options);
    return this.#client;
  }

  override get backendName(): string {
    return 'redis';
  }

  /** `redis host:port/db` or `redis cluster`, with the prefix (never the password). */
  override get storeName(): string {
    const target = this.#target;
    if (target) return `redis ${target.host}:${target.port}/${target.db ?? 0} (prefix ${this.prefix})`;
    const client = this.client;
    if (isCluster(client)) return `redis cluster (prefix ${this.prefix})`;
    const { host, port, db } = client.options;
    return `redis ${host}:${port}/${db ?? 0} (prefix ${this.prefix})`;
  }

  /** The Redis key of an entry, before ioredis' own `keyPrefix`. */
  keyFor(bucketKey: string): string {
    return this.prefix + bucketKey;
  }

  // GETRANGE 0..maxEntrySize instead of GET: one more byte than the limit tells an oversized
  // value apart without receiving it. A missing key reads as an empty string: a miss.
  async loadBytecode(bucket: Bucket): Promise<void> {
    if (this.#reader) {
      this.#fill(bucket, await this.#read(this.#reader, this.keyFor(bucket.key)));
      return;
    }
    const bytes = await this.#call(
      () => this.client.getrangeBuffer(this.keyFor(bucket.key), 0, this.maxEntrySize),
      'GET',
    );
    this.#fill(bucket, bytes);
  }

  #fill(bucket: Bucket, bytes: Buffer | null): void {
    if (!bytes || bytes.length === 0) return;
    if (bytes.length > this.maxEntrySize) {
      throw new BccEntryTooLargeError(
        bytes.length,
        this.maxEntrySize,
        `redis: the value at ${this.keyFor(bucket.key)} is larger than maxEntrySize (${this.maxEntrySize} bytes), so it is no entry of this cache; it was not read (a miss). Delete it, or raise maxEntrySize`,
      );
    }
    bucket.bytecodeFromBytes(bytes);
  }

  async dumpBytecode(bucket: Bucket): Promise<void> {
    const bytes = bucket.bytecodeToBytes();
    const value = Buffer.isBuffer(bytes)
      ? bytes
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const key = this.keyFor(bucket.key);
    const ttlMs = this.#ttlMs;
    await this.#call(
      () => (ttlMs === undefined ? this.client.set(key, value) : this.client.set(key, value, 'PX', ttlMs)),
      'SET',
    );
  }

  /**
   * Fills many buckets: pipelined reads in chunks on a single node; in a cluster, one pipeline
   * per master (a multi-key command may only name keys of one slot).
   */
  override async loadMany(buckets: readonly Bucket[]): Promise<void> {
    if (buckets.length === 0) return;
    const keys = buckets.map((b) => this.keyFor(b.key));
    const reader = this.#reader;
    const fetched = reader
      ? await this.#fetchWithReader(reader, keys)
      : await this.#call(() => {
          const client = this.client;
          return isCluster(client) ? this.#fetchFromCluster(client, keys) : this.#fetchFromNode(client, keys);
        }, 'GET (batch)');
    // Buckets are filled only here, after the bounded call: a late reply never changes a
    // bucket after loadMany has returned, and one failed chunk or node keeps the others' hits.
    for (const [i, bytes] of fetched.values.entries()) {
      try {
        this.#fill(buckets[i]!, bytes);
      } catch (error) {
        fetched.fail(error);
      }
    }
    if (fetched.failed) throw fetched.failure;
  }

  /**
   * Deletes every key under the prefix with `SCAN MATCH` + `UNLINK`, on every master of a
   * cluster. ioredis applies its `keyPrefix` option to commands' keys but not to `SCAN`
   * patterns, so the pattern carries it and it is stripped again before `UNLINK`. Errors follow
   * `ignoreErrors`, like loads and writes.
   */
  override async clear(): Promise<void> {
    try {
      const { pattern, nodes, inCluster } = await this.#nodes();
      await Promise.all(nodes.map((node) => this.#clearNode(node, pattern, inCluster)));
    } catch (error) {
      this.handleError(error, { operation: 'clear' });
    }
  }

  /** Closes the client if the cache made it; a client you passed in stays open. */
  override async close(): Promise<void> {
    if (!this.#ownsClient) return;
    this.#reader?.reset();
    const client = this.#client;
    if (client === null) return;
    if (client.status === 'end') return;
    if (client.status === 'wait') {
      // lazyConnect and never used: there is no connection to quit.
      client.disconnect();
      return;
    }
    try {
      await withTimeout(client.quit(), this.commandTimeout, 'redis QUIT');
    } catch {
      // A dead server cannot answer QUIT; dropping the connection is all that is left to do.
    }
    client.disconnect();
  }

  /** Rewords ioredis' offline refusal before it is reported (here, off the hot path of a hit). */
  protected override handleError(error: unknown, context: ErrorContext): void {
    super.handleError(this.#explainOffline(error), context);
  }

  /**
   * ioredis refuses commands while disconnected with "Stream isn't writeable and
   * enableOfflineQueue options is false", which says nothing about why: name the connection's
   * last error (refused, unknown host, wrong password) instead.
   */
  #explainOffline(error: unknown): unknown {
    if (!(error instanceof Error && error.message.includes('enableOfflineQueue options is false')))
      return error;
    const last = this.#lastConnectionError;
    return new Error(
      `not connected to Redis${last ? ` (${last.message})` : ''}; it reconnects in the background, the command was not sent`,
      { cause: last ?? error },
    );
  }

  /** One read through the reader, bounded by `commandTimeout`; a timeout drops its connection. */
  #read(reader: RespReader, key: string): Promise<Buffer | null> {
    // Dropping the connection rejects every read in flight on it (with the same error): a stalled
    // server never collects commands, and a late reply is never taken for another's.
    return withTimeout(
      reader.getrange(key, 0, this.maxEntrySize),
      this.commandTimeout,
      'redis GET',
      (error) => reader.reset(error),
    );
  }

  /** `loadMany` through the reader: the reads are pipelined on its connection. */
  async #fetchWithReader(reader: RespReader, keys: readonly string[]): Promise<Fetched> {
    const fetched = new Fetched(keys.length);
    await Promise.all(
      keys.map((key, i) =>
        this.#read(reader, key).then((bytes) => void (fetched.values[i] = bytes), fetched.fail),
      ),
    );
    return fetched;
  }

  #makeClient(url: string | undefined, options: RedisOptions | undefined): Redis {
    const { Redis } = loadIoredis();
    const defaults: RedisOptions = {
      commandTimeout: this.commandTimeout,
      connectTimeout: Math.max(1000, this.commandTimeout * 2),
      // While disconnected, fail at once instead of queueing: a dead Redis must be a fast miss,
      // not `commandTimeout` of waiting per template.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // Reconnect quickly and keep trying: hits resume within a second of Redis coming back.
      retryStrategy: (times: number) => Math.min(50 * 2 ** times, 1000),
    };
    const merged = { ...defaults, ...options };
    const client = url ? new Redis(url, merged) : new Redis(merged);
    // Failed calls are reported through onError; connection errors repeat on every reconnect
    // attempt and would only flood it (and ioredis prints unhandled ones to the console).
    client.on('error', (error: Error) => {
      this.#lastConnectionError = error;
    });
    client.on('ready', () => {
      this.#lastConnectionError = null;
    });
    if (merged.lazyConnect) this.#connectOnFirstUse = true;
    else this.#startup = this.#firstConnection(client);
    return client;
  }

  /**
   * Settles when the made client is ready, has failed its first attempt, or after
   * `commandTimeout`: the first calls wait for a connection instead of being refused by the
   * disabled offline queue, and never wait longer than any call may take.
   */
  #firstConnection(client: Redis): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        client.off('ready', done);
        client.off('error', done);
        client.off('end', done);
        this.#startup = null;
        resolve();
      };
      const timer = setTimeout(done, this.commandTimeout);
      timer.unref();
      client.once('ready', done);
      client.once('error', done);
      client.once('end', done);
    });
  }

  /**
   * Sends a command once the made client's first connection attempt has settled, bounded by
   * `commandTimeout` (a client the cache made bounds its commands itself).
   */
  #call<T>(send: () => Promise<T>, what: string): Promise<T> {
    // A client made on first use starts connecting here, so the wait below covers it.
    if (this.#ownsClient) void this.client;
    if (this.#connectOnFirstUse) {
      // `lazyConnect: true` in options: connect now, as ioredis would on the first command.
      this.#connectOnFirstUse = false;
      const client = this.client as Redis;
      this.#startup = this.#firstConnection(client);
      client.connect().catch(() => {});
    }
    if (this.#startup) return this.#startup.then(() => this.#call(send, what));
    if (this.#ownsClient) return send();
    return withTimeout(send(), this.commandTimeout, `redis ${what}`);
  }

  async #fetchFromNode(client: Redis, keys: readonly string[]): Promise<Fetched> {
    const fetched = new Fetched(keys.length);
    const chunks: Promise<void>[] = [];
    for (let start = 0; start < keys.length; start += MGET_CHUNK) {
      const pipeline = client.pipeline();
      for (const key of keys.slice(start, start + MGET_CHUNK))
        pipeline.getrangeBuffer(key, 0, this.maxEntrySize);
      chunks.push(pipeline.exec().then((results) => fetched.take(results, (j) => start + j), fetched.fail));
    }
    await Promise.all(chunks);
    return fetched;
  }

  async #fetchFromCluster(cluster: Cluster, keys: readonly string[]): Promise<Fetched> {
    const fetched = new Fetched(keys.length);
    const keyPrefix = keyPrefixOf(cluster);
    const byNode = new Map<string, number[]>();
    const work: Promise<void>[] = [];
    for (const [i, key] of keys.entries()) {
      const master = cluster.slots[keySlot(keyPrefix + key)]?.[0];
      if (master === undefined) {
        // Slots not known yet (the cluster is still connecting): a GET routed by ioredis.
        work.push(
          cluster
            .getrangeBuffer(key, 0, this.maxEntrySize)
            .then((bytes) => void (fetched.values[i] = bytes), fetched.fail),
        );
        continue;
      }
      const group = byNode.get(master);
      if (group) group.push(i);
      else byNode.set(master, [i]);
    }
    for (const group of byNode.values()) {
      const pipeline = cluster.pipeline();
      for (const i of group) pipeline.getrangeBuffer(keys[i]!, 0, this.maxEntrySize);
      work.push(pipeline.exec().then((results) => fetched.take(results, (j) => group[j]!), fetched.fail));
    }
    await Promise.all(work);
    return fetched;
  }

  /**
   * The keys under `pattern` on one node, a `SCAN` page at a time, without the node's own
   * `keyPrefix` (ioredis adds it again to the commands that use them).
   */
  async *#scan(node: Redis, pattern: string): AsyncGenerator<string[]> {
    const nodePrefix = keyPrefixOf(node);
    let cursor = '0';
    do {
      const [next, keys] = await this.#call(
        () => node.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT),
        'SCAN',
      );
      cursor = next;
      if (keys.length === 0) continue;
      yield keys.map((k) => (nodePrefix && k.startsWith(nodePrefix) ? k.slice(nodePrefix.length) : k));
    } while (cursor !== '0');
  }

  /** The scan pattern of this cache's keys and the masters to scan. */
  async #nodes(): Promise<{ pattern: string; nodes: Redis[]; inCluster: boolean }> {
    const client = this.client;
    if (this.#startup) await this.#startup;
    const pattern = `${escapeGlob(keyPrefixOf(client) + this.prefix)}*`;
    const nodes = isCluster(client) ? client.nodes('master') : [client];
    if (nodes.length === 0)
      throw new Error('no Redis Cluster master is known yet (is the cluster reachable?)');
    return { pattern, nodes, inCluster: isCluster(client) };
  }

  async #clearNode(node: Redis, pattern: string, inCluster: boolean): Promise<void> {
    for await (const names of this.#scan(node, pattern)) {
      if (inCluster) {
        // Keys of different slots cannot share one UNLINK in a cluster (CROSSSLOT).
        const pipeline = node.pipeline();
        for (const name of names) pipeline.unlink(name);
        const results = await this.#call(() => pipeline.exec(), 'UNLINK');
        const failed = results?.find(([error]) => error);
        if (failed) throw failed[0];
      } else {
        await this.#call(() => node.unlink(...names), 'UNLINK');
      }
    }
  }

  /** Every key under the prefix (`SCAN`, every master), with its size (`STRLEN`). Redis keeps no write time. */
  override async *listEntries(): AsyncIterable<StoredEntry> {
    const { pattern, nodes } = await this.#nodes();
    for (const node of nodes) {
      for await (const names of this.#scan(node, pattern)) {
        const pipeline = node.pipeline();
        for (const name of names) pipeline.strlen(name);
        const results = (await this.#call(() => pipeline.exec(), 'STRLEN')) ?? [];
        for (const [i, name] of names.entries()) {
          const [error, size] = results[i] ?? [null, 0];
          if (error) throw error;
          // Gone since the scan, or not ours to read under this cache's prefix.
          if (!name.startsWith(this.prefix) || size === 0) continue;
          yield { key: name.slice(this.prefix.length), size: Number(size) };
        }
      }
    }
  }

  /** The value under the entry's key, at most `maxEntrySize` + 1 bytes of it. */
  override async readEntry(key: string): Promise<Uint8Array | undefined> {
    const bytes = this.#reader
      ? await this.#read(this.#reader, this.keyFor(key))
      : await this.#call(() => this.client.getrangeBuffer(this.keyFor(key), 0, this.maxEntrySize), 'GET');
    return bytes && bytes.length > 0 ? bytes : undefined;
  }

  override async deleteEntry(key: string): Promise<boolean> {
    return (await this.#call(() => this.client.unlink(this.keyFor(key)), 'UNLINK')) > 0;
  }
}

/** Replies of a batch read, in the order of its keys, and its first failure. */
class Fetched {
  readonly values: (Buffer | null)[];
  failed = false;
  failure: unknown;
  constructor(size: number) {
    this.values = new Array<Buffer | null>(size).fill(null);
  }
  /** Takes a pipeline's replies; reply `j` is the value of key `indexOf(j)`. */
  take(results: [Error | null, unknown][] | null, indexOf: (j: number) => number): void {
    for (const [j, [error, bytes]] of (results ?? []).entries()) {
      if (error) this.fail(error);
      else this.values[indexOf(j)] = bytes as Buffer | null;
    }
  }
  readonly fail = (error: unknown): void => {
    if (this.failed) return;
    this.failed = true;
    this.failure = error;
  };
}

function keyPrefixOf(client: RedisClient): string {
  const prefix = client.options.keyPrefix;
  return typeof prefix === 'string' ? prefix : '';
}
