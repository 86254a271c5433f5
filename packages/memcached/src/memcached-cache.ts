import {
  BccBackendError,
  BccConfigError,
  BccEntryTooLargeError,
  type Bucket,
  BytecodeCache,
  type BytecodeCacheOptions,
} from '@bcc/core';
import memjs from 'memjs';
import { checkPrefix, entryKey, isVersion, namespaceKey, newVersion } from './keys.js';
import { guardReplySize, RESET_MESSAGE, resetBrokenConnections } from './memjs-guard.js';

/** How many servers the options name (a client you pass counts by its own server list). */
function serverCount(options: MemcachedBytecodeCacheOptions): number {
  if (options.client) {
    const servers = (options.client as { servers?: unknown }).servers;
    return Array.isArray(servers) ? servers.length : 1;
  }
  const { servers } = options;
  if (typeof servers === 'string') return servers.split(',').length;
  return Array.isArray(servers) ? servers.length : 1;
}

/** Our own deadline passed: the connection may hold a reply that will never complete. */
class MemcachedTimeoutError extends Error {}

/**
 * A failure of the connection (reset, refused, timed out), as opposed to memcached answering
 * with an error status (memjs says `MemJS GET: …` for those; the connection is fine).
 */
function isConnectionFailure(error: unknown): boolean {
  if (error instanceof MemcachedTimeoutError) return true;
  const message = error instanceof Error ? error.message : String(error);
  return !message.startsWith('MemJS ');
}

/**
 * The smallest client the cache works with, as in Jinja2's `MemcachedBytecodeCache`: memjs'
 * `Client` fits, and so does a thin wrapper around any other library. `get` resolves to the
 * stored bytes, to memjs' `{ value }`, or to `null`/`undefined` on a miss. `add`, when present,
 * lets processes that start together agree on the namespace version.
 */
export interface MinimalMemcachedClient {
  get(key: string): Promise<Uint8Array | { value: Uint8Array | null } | null | undefined>;
  set(key: string, value: Buffer, options: { expires?: number }): Promise<unknown>;
  add?(key: string, value: Buffer, options: { expires?: number }): Promise<unknown>;
  close?(): void;
}

/**
 * memjs options for the client the cache makes (see memjs' `Client.create`). Declared here so
 * the package's types do not need `@types/memjs`.
 */
export interface MemjsOptions {
  /** Seconds to wait for a reply (the cache sets its `timeout`). */
  timeout?: number;
  /** Seconds to wait for a connection (the cache sets its `timeout`). */
  conntimeout?: number;
  /** Attempts per request (the cache sets 1). */
  retries?: number;
  /** Seconds between attempts. */
  retry_delay?: number;
  /** Move a failed server's keys to the next server for `failoverTime` seconds (the cache sets false). */
  failover?: boolean;
  failoverTime?: number;
  keepAlive?: boolean;
  keepAliveDelay?: number;
  /** SASL credentials. */
  username?: string;
  password?: string;
  /** Where memjs logs; the cache routes it to `onError` unless you set one. */
  logger?: { log(...args: unknown[]): void };
}

/** Options of {@link MemcachedBytecodeCache}. */
export interface MemcachedBytecodeCacheOptions extends BytecodeCacheOptions {
  /** A client you made (memjs, or anything {@link MinimalMemcachedClient}-shaped). The cache never closes it. */
  client?: MinimalMemcachedClient;
  /** Servers for the client the cache makes: `'host:port,host:port'` or a list. Default `127.0.0.1:11211`. */
  servers?: string | readonly string[];
  /** memjs options for the client the cache makes; they override the cache's defaults. */
  options?: MemjsOptions;
  /** Prefix of every key (default `'bcc/'`); it also scopes `clear()`. */
  prefix?: string;
  /** Time to live of an entry in seconds. Default: none (memcached evicts by LRU). */
  ttl?: number;
  /**
   * The server's item size limit (`memcached -I`, default 1 MiB). Larger entries are not sent:
   * the write is skipped and reported through `onError` as a `BccEntryTooLargeError`.
   */
  maxItemSize?: number;
  /** Upper bound on every call in milliseconds (default 500): a dead server is a miss, not a hang. */
  timeout?: number;
  /**
   * How long a process trusts the namespace version it read, in milliseconds (default 2000).
   * After another process's `clear()`, this process keeps reading and writing the old
   * namespace for at most this long (plus one round trip). `0` checks it on every call, which
   * costs a second GET in the background of each call.
   */
  namespaceRefresh?: number;
}

const MIB = 1024 * 1024;
/** memcached stores a header, the key and a CAS value with each item (measured: 22–71 bytes). */
const ITEM_OVERHEAD = 96;
/** Node turns a timer of 2^31 ms or more into 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Ten years: an expiry past that overflows memcached's 32-bit time before long. */
const MAX_TTL = 10 * 365 * 24 * 60 * 60;
/** memcached reads an expiry above 30 days as a Unix timestamp, not a duration. */
const MAX_RELATIVE_EXPIRY = 60 * 60 * 24 * 30;

/**
 * Stores entries in memcached through memjs (or any client with `get`/`set`). memcached cannot
 * list keys, so `clear()` moves the cache to a new namespace version: every entry key carries
 * the version, and entries of the old one become unreachable and age out.
 *
 * ```ts
 * import { MemcachedBytecodeCache } from '@bcc/memcached';
 * const cache = new MemcachedBytecodeCache({ servers: '127.0.0.1:11211', prefix: 'app/', ttl: 86400 });
 * ```
 */
export class MemcachedBytecodeCache extends BytecodeCache {
  readonly client: MinimalMemcachedClient;
  readonly prefix: string;
  readonly ttl: number | undefined;
  readonly maxItemSize: number;
  readonly timeout: number;
  readonly namespaceRefresh: number;
  /** Times the client's connections were reset after a timeout or a dead connection. */
  recoveries = 0;
  /** Replies refused because they announced more bytes than any entry can have. */
  oversizedReplies = 0;
  /** The size the last refused reply announced. */
  lastOversizedReply = 0;
  readonly #ownsClient: boolean;
  #version: string | null = null;
  #versionReadAt = 0;
  #versionFetch: Promise<string> | null = null;
  /** Bumped by clear(): a version read before it must not replace the one it wrote. */
  #generation = 0;
  /** memjs log lines not yet matched by a failed call (see #makeClient). */
  #logLines: string[] = [];
  #logFlush: NodeJS.Immediate | null = null;

  constructor(options: MemcachedBytecodeCacheOptions = {}) {
    // One dead server of several says nothing about the others: a cache-wide breaker would
    // turn every key into a miss. Several servers get no breaker unless one is asked for.
    super({ ...options, breaker: options.breaker ?? (serverCount(options) > 1 ? false : undefined) });
    const prefix = options.prefix ?? 'bcc/';
    checkPrefix(prefix);
    if (
      options.ttl !== undefined &&
      !(Number.isFinite(options.ttl) && options.ttl > 0 && options.ttl <= MAX_TTL)
    ) {
      throw new BccConfigError(
        `ttl must be a number of seconds from 1 to ${MAX_TTL} (memcached stores expiry as a 32-bit time), got ${String(options.ttl)}`,
      );
    }
    const maxItemSize = options.maxItemSize ?? MIB;
    if (!(Number.isSafeInteger(maxItemSize) && maxItemSize > ITEM_OVERHEAD)) {
      throw new BccConfigError(
        `maxItemSize must be an integer number of bytes, got ${String(options.maxItemSize)}`,
      );
    }
    const timeout = options.timeout ?? 500;
    if (!(Number.isFinite(timeout) && timeout >= 1 && timeout <= MAX_TIMER_MS)) {
      throw new BccConfigError(
        `timeout must be a number of milliseconds from 1 to ${MAX_TIMER_MS} (Node's timer limit), got ${String(options.timeout)}`,
      );
    }
    if (options.servers !== undefined) {
      const list = typeof options.servers === 'string' ? options.servers.split(',') : options.servers;
      if (
        !Array.isArray(list) ||
        list.length === 0 ||
        list.some((s) => typeof s !== 'string' || s.trim() === '')
      ) {
        throw new BccConfigError(
          `servers must name at least one server ('host:port' or a list of them), got ${JSON.stringify(options.servers)}`,
        );
      }
    }
    const namespaceRefresh = options.namespaceRefresh ?? 2000;
    if (!(Number.isFinite(namespaceRefresh) && namespaceRefresh >= 0 && namespaceRefresh <= MAX_TIMER_MS)) {
      throw new BccConfigError(
        `namespaceRefresh must be a number of milliseconds >= 0, got ${String(namespaceRefresh)}`,
      );
    }
    if (options.client && (options.servers || options.options)) {
      throw new BccConfigError('pass either client, or servers/options to make one, not both');
    }
    if (
      options.client &&
      (typeof options.client.get !== 'function' || typeof options.client.set !== 'function')
    ) {
      throw new BccConfigError('client must have get(key) and set(key, value, { expires }) methods');
    }
    this.prefix = prefix;
    this.ttl = options.ttl;
    this.maxItemSize = maxItemSize;
    this.timeout = timeout;
    this.namespaceRefresh = namespaceRefresh;
    this.#ownsClient = !options.client;
    this.client = options.client ?? this.#makeClient(options.servers, options.options);
    // A GET reply holds 4 bytes of flags and the value, which is at most one item. Only on a
    // client the cache made: a client you pass may serve other code that stores larger values.
    if (this.#ownsClient) {
      guardReplySize(this.client, maxItemSize + 4, (bytes) => {
        this.oversizedReplies++;
        this.lastOversizedReply = bytes;
      });
    }
  }

  override get backendName(): string {
    return 'memcached';
  }

  /** `memcached host:port,…` (never the SASL password). */
  override get storeName(): string {
    const servers = (this.client as { servers?: { host?: string; port?: number }[] }).servers;
    const list = Array.isArray(servers) ? servers.map((s) => `${s.host}:${s.port}`).join(',') : 'client';
    return `memcached ${list} (prefix ${this.prefix})`;
  }

  /** The memcached key an entry is stored under right now (it changes with every `clear()`). */
  async keyFor(bucketKey: string): Promise<string> {
    return entryKey(this.prefix, await this.#currentVersion(), bucketKey);
  }

  // One deadline for the whole load: the namespace version and the entry share `timeout`.
  async loadBytecode(bucket: Bucket): Promise<void> {
    const deadline = performance.now() + this.timeout;
    const version = await this.#within(this.#currentVersion(), 'namespace GET', deadline);
    const refusedBefore = this.oversizedReplies;
    let reply: unknown;
    try {
      reply = await this.#call(this.client.get(entryKey(this.prefix, version, bucket.key)), 'GET', deadline);
    } catch (error) {
      // The guard dropped a reply larger than any entry: the entry is the problem, not the server.
      if (this.oversizedReplies !== refusedBefore) throw this.#oversized(bucket.key, error);
      throw error;
    }
    const bytes = bytesOf(reply);
    if (bytes) bucket.bytecodeFromBytes(bytes);
  }

  #oversized(key: string, cause: unknown): BccEntryTooLargeError {
    const error = new BccEntryTooLargeError(
      this.lastOversizedReply,
      this.maxItemSize,
      `memcached: the value at entry ${key} announced ${this.lastOversizedReply} bytes, more than maxItemSize (${this.maxItemSize}), so it is no entry of this cache; it was not read (a miss). Delete it, or raise maxItemSize`,
    );
    (error as { cause?: unknown }).cause = cause;
    return error;
  }

  async dumpBytecode(bucket: Bucket): Promise<void> {
    const bytes = bucket.bytecodeToBytes();
    const value = Buffer.isBuffer(bytes)
      ? bytes
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const deadline = performance.now() + this.timeout;
    const version = await this.#within(this.#currentVersion(), 'namespace GET', deadline);
    const key = entryKey(this.prefix, version, bucket.key);
    const size = value.length + Buffer.byteLength(key) + ITEM_OVERHEAD;
    if (size > this.maxItemSize) throw this.#tooLarge(value.length, bucket.key);
    try {
      await this.#call(this.client.set(key, value, { expires: this.#expiry() }), 'SET', deadline);
    } catch (error) {
      // The server's limit may be lower than maxItemSize says.
      if (error instanceof Error && /too large/i.test(error.message))
        throw this.#tooLarge(value.length, bucket.key);
      throw error;
    }
  }

  /** Entries over the item size are a skipped write reported through `onError`, never an exception. */
  override async setBucket(bucket: Bucket): Promise<boolean> {
    try {
      return await super.setBucket(bucket);
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'ERR_BCC_ENTRY_TOO_LARGE') throw error;
      return false;
    }
  }

  /**
   * Fills many buckets with concurrent GETs: memjs writes each request at once on the server's
   * connection, so they travel pipelined and cost about one round trip per server.
   */
  override async loadMany(buckets: readonly Bucket[]): Promise<void> {
    if (buckets.length === 0) return;
    const deadline = performance.now() + this.timeout;
    const version = await this.#within(this.#currentVersion(), 'namespace GET', deadline);
    const sockets = corkSockets(this.client);
    let gets: Promise<unknown>[];
    try {
      gets = buckets.map((bucket) => this.client.get(entryKey(this.prefix, version, bucket.key)));
    } finally {
      for (const socket of sockets) socket.uncork();
    }
    const replies = await this.#call(Promise.allSettled(gets), 'GET (batch)', deadline);
    // A connection that failed under some of them is reset like any failed call.
    if (replies.some((r) => r.status === 'rejected' && isConnectionFailure(r.reason))) {
      this.#recover('a batched GET failed');
    }
    // Fill what arrived (one dead server must not cost the other servers' hits), then report
    // the first failure.
    let failure: { reason: unknown } | undefined;
    for (const [i, reply] of replies.entries()) {
      if (reply.status === 'rejected') failure ??= reply;
      else {
        const bytes = bytesOf(reply.value);
        if (bytes) buckets[i]!.bytecodeFromBytes(bytes);
      }
    }
    if (failure) throw failure.reason;
  }

  /**
   * Moves this cache to a new namespace version. memcached cannot list keys, so old entries
   * are not deleted: they become unreachable and leave by LRU or their time to live. Other
   * processes follow within `namespaceRefresh` milliseconds.
   */
  override async clear(): Promise<void> {
    const version = newVersion();
    const generation = ++this.#generation;
    try {
      await this.#call(
        this.client.set(namespaceKey(this.prefix), Buffer.from(version), { expires: 0 }),
        'SET',
      );
      this.#adopt(version, generation);
    } catch (error) {
      this.handleError(error, { operation: 'clear' });
    }
  }

  /** Closes the client if the cache made it; a client you passed in stays open. */
  override async close(): Promise<void> {
    if (this.#ownsClient) this.client.close?.();
  }

  #makeClient(servers: string | readonly string[] | undefined, options: MemjsOptions | undefined) {
    const list = typeof servers === 'string' ? servers : (servers ?? ['127.0.0.1:11211']).join(',');
    return memjs.Client.create<Buffer, Buffer | null>(list, {
      timeout: this.timeout / 1000,
      conntimeout: this.timeout / 1000,
      // One attempt: a retry doubles the wait for a dead server, and the next render retries anyway.
      retries: 1,
      // Keys of a dead server miss instead of moving to another server and back.
      failover: false,
      keepAlive: true,
      // memjs logs every failure to the console before failing the call. The failed call is
      // reported through onError already; a line no call answers for is reported on its own.
      logger: { log: (...parts: unknown[]) => this.#log(parts.map(String).join(' ')) },
      ...options,
    });
  }

  #log(line: string): void {
    // Calls failed by our own reset were already reported as the failure that caused it.
    if (line.includes(RESET_MESSAGE)) return;
    this.#logLines.push(line);
    // A failed call rejects in the same tick as the line is logged, before this runs.
    this.#logFlush ??= setImmediate(() => {
      this.#logFlush = null;
      const lines = this.#logLines.splice(0);
      for (const text of lines) {
        this.stats.errors++;
        const operation = /\bSET\b/.test(text) ? 'dump' : 'load';
        this.report(
          new BccBackendError('memcached', operation, `memcached: ${text}`, { cause: new Error(text) }),
          {
            operation,
          },
        );
      }
    });
  }

  /**
   * Bounds a call by the operation's deadline (default: `timeout` from now): memjs can leave a
   * request pending forever once the server has closed the socket. A timeout or a failed
   * connection resets the client's connections, so the next call starts clean (memjs alone
   * never recovers from a connection that died mid-reply). A failed call answers for the memjs
   * log line written just before it.
   */
  #call<T>(reply: Promise<T>, what: string, deadline = performance.now() + this.timeout): Promise<T> {
    return this.#within(reply, what, deadline).catch((error: unknown) => {
      this.#logLines.length = 0;
      if (isConnectionFailure(error)) this.#recover(error instanceof Error ? error.message : String(error));
      throw error;
    });
  }

  /** Rejects with a timeout error when `value` has not settled by `deadline`. */
  #within<T>(value: Promise<T> | T, what: string, deadline: number): Promise<T> {
    if (!(value instanceof Promise)) return Promise.resolve(value);
    const left = Math.max(1, Math.ceil(deadline - performance.now()));
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new MemcachedTimeoutError(`memcached ${what} timed out after ${this.timeout} ms`)),
        left,
      );
      value.then(
        (result) => {
          clearTimeout(timer);
          resolve(result);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  /** Drops the client's connections and what memjs kept of them; the next call reconnects. */
  #recover(reason: string): void {
    this.recoveries += resetBrokenConnections(this.client, reason);
  }

  #expiry(): number {
    if (this.ttl === undefined) return 0;
    const seconds = Math.max(1, Math.round(this.ttl));
    return seconds > MAX_RELATIVE_EXPIRY ? Math.floor(Date.now() / 1000) + seconds : seconds;
  }

  #tooLarge(size: number, key: string): BccEntryTooLargeError {
    return new BccEntryTooLargeError(
      size,
      this.maxItemSize,
      `memcached: entry ${key} is ${size} bytes, over the item size limit of ${this.maxItemSize} bytes; the write was skipped (raise memcached -I and maxItemSize, or use another store for large templates)`,
    );
  }

  /**
   * The namespace version, read at most every `namespaceRefresh` ms. A stale version is used
   * while a fresh one is fetched; if fetching fails the last known one stays in use, so the
   * death of the server holding the namespace key does not turn every other server's entries
   * into misses.
   */
  #currentVersion(): Promise<string> | string {
    const version = this.#version;
    if (version === null) return this.#fetchVersion();
    if (performance.now() - this.#versionReadAt >= this.namespaceRefresh && !this.#versionFetch) {
      this.#fetchVersion().catch((error: unknown) => {
        this.stats.errors++;
        this.report(
          new BccBackendError(
            'memcached',
            'background',
            `memcached: could not refresh the namespace version (${error instanceof Error ? error.message : String(error)}); still using ${version}`,
            { cause: error },
          ),
          { operation: 'background' },
        );
      });
    }
    return version;
  }

  #fetchVersion(): Promise<string> {
    this.#versionFetch ??= this.#readOrCreateVersion().finally(() => {
      this.#versionFetch = null;
    });
    return this.#versionFetch;
  }

  async #readOrCreateVersion(): Promise<string> {
    const generation = this.#generation;
    const key = namespaceKey(this.prefix);
    const stored = bytesOf(await this.#call(this.client.get(key), 'GET'));
    const text = stored ? Buffer.from(stored).toString('latin1') : '';
    if (isVersion(text)) return this.#adopt(text, generation);
    // No version yet (a new cache, or memcached lost it): start a fresh namespace. Entries of
    // a lost version turn into misses, never into another namespace's entries.
    const version = newVersion();
    if (this.client.add && !stored) {
      const added = await this.#call(this.client.add(key, Buffer.from(version), { expires: 0 }), 'ADD');
      if (added !== false) return this.#adopt(version, generation);
      // Another process got there first: use its version.
      const theirs = bytesOf(await this.#call(this.client.get(key), 'GET'));
      const theirText = theirs ? Buffer.from(theirs).toString('latin1') : '';
      if (isVersion(theirText)) return this.#adopt(theirText, generation);
    }
    await this.#call(this.client.set(key, Buffer.from(version), { expires: 0 }), 'SET');
    return this.#adopt(version, generation);
  }

  /** Uses `version` unless a clear() started since it was read; returns the version in use. */
  #adopt(version: string, generation: number): string {
    if (generation !== this.#generation && this.#version !== null) return this.#version;
    this.#version = version;
    this.#versionReadAt = performance.now();
    return version;
  }
}

/**
 * Corks the connected sockets of a memjs client, so a batch of requests leaves in one write per
 * server instead of one write (and one syscall) per request: 100 GETs of 1 KB took 0.70 ms
 * instead of 1.04 ms here. Reaches into memjs' `servers[i]._socket`; any other client, or a
 * memjs whose internals moved, is simply not corked.
 */
function corkSockets(client: unknown): { uncork(): void }[] {
  const servers = (client as { servers?: unknown }).servers;
  if (!Array.isArray(servers)) return [];
  const corked: { uncork(): void }[] = [];
  for (const server of servers) {
    const socket = (server as { _socket?: { cork?: () => void; uncork?: () => void } } | null)?._socket;
    if (typeof socket?.cork === 'function' && typeof socket.uncork === 'function') {
      socket.cork();
      corked.push(socket as { uncork(): void });
    }
  }
  return corked;
}

function bytesOf(reply: unknown): Uint8Array | null {
  if (reply === null || reply === undefined) return null;
  if (reply instanceof Uint8Array) return reply;
  if (typeof reply === 'object' && 'value' in reply) {
    const value = (reply as { value: unknown }).value;
    if (value === null || value === undefined) return null;
    if (value instanceof Uint8Array) return value;
  }
  throw new TypeError(
    'the memcached client returned something other than bytes: bcc entries are binary, configure the client to return Buffers',
  );
}
