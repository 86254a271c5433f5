import type { BytecodeCache, BytecodeCacheOptions } from '@bcc/core';

/** The test runner's functions the suite needs (vitest's have this shape). */
export interface TestApi {
  describe(name: string, body: () => void): void;
  it(name: string, body: () => Promise<void> | void, timeout?: number): void;
  // biome-ignore lint/suspicious/noExplicitAny: the runner's expect is generic and typed by the runner
  expect: (actual: unknown) => any;
  beforeAll?(body: () => Promise<void> | void, timeout?: number): void;
  afterAll?(body: () => Promise<void> | void, timeout?: number): void;
}

/** What the factory is asked for. */
export interface CreateContext {
  /**
   * A string unique to this call. Caches made with different namespaces must not see or
   * clear each other's entries: map it to a key prefix, a directory or a file pattern.
   * Two calls with the same namespace must share entries.
   */
  namespace: string;
  /** Options the suite needs on the cache: `secret`, `ignoreErrors`, `onError`. */
  options: BytecodeCacheOptions;
}

/** Switches for groups a store cannot do. Everything defaults to `true`. */
export interface ConformanceFeatures {
  /** `clear()` removes this cache's entries. */
  clear?: boolean;
  /** `clear()` of one namespace leaves other namespaces' entries alone. */
  isolation?: boolean;
  /** `getBucketSync`/`setBucketSync` work. Default: detected from `loadBytecodeSync`. */
  sync?: boolean;
  /** Largest entry the store is expected to hold, in bytes (default 600 KB, under memcached's 1 MiB). */
  largeEntryBytes?: number;
}

/** An adapter under test. */
export interface ConformanceTarget {
  /** Shown in the test names. */
  name: string;
  /** Makes a fresh cache. */
  create(context: CreateContext): BytecodeCache | Promise<BytecodeCache>;
  /**
   * Optional: makes a cache whose backend does not answer (a closed port, a dead host), to
   * check `ignoreErrors`. It should fail fast (a short timeout).
   */
  createUnreachable?(context: CreateContext): BytecodeCache | Promise<BytecodeCache>;
  features?: ConformanceFeatures;
  /** Per-test timeout in ms (default 20 s). */
  timeout?: number;
}

/** The real server behind an adapter under fault test. */
export interface FaultServer {
  /** Kills the server as a crash would (SIGKILL), keeping its address. */
  kill(): Promise<void>;
  /** Starts it again on the same address and resolves once it answers. */
  start(): Promise<void>;
}

/** Switches for what differs between stores in the fault suite. */
export interface FaultFeatures {
  /** `clear()` rejects with a `BccBackendError` when the server is down and `ignoreErrors` is false. Default `true`. */
  clear?: boolean;
  /**
   * The store keeps no connection state (HTTP): the very first call after `start()` must work,
   * with no error reported. Default `false`: hits must come back within a bounded retry loop.
   */
  resumesAtOnce?: boolean;
  /** Entries written before the kill are still there after `start()` (the server persists them). Default `false`. */
  durable?: boolean;
}

/** An adapter under fault test: a cache factory and the real server it talks to. */
export interface FaultTarget {
  /** Shown in the test names. */
  name: string;
  /** The server the caches from `create` talk to; the suite kills and starts it. */
  server: FaultServer;
  /** Makes a fresh cache talking to `server` (same contract as {@link ConformanceTarget.create}). */
  create(context: CreateContext): BytecodeCache | Promise<BytecodeCache>;
  /** The `backend` the suite expects on every `BccBackendError` (default: the cache's `backendName`). */
  backend?: string;
  /**
   * Optional: makes a cache for a server at `127.0.0.1:port` that accepts connections and never
   * answers (the suite runs that server). Its calls must end as a miss and a skipped write within
   * the adapter's own timeout, never hang. Give it a short timeout (e.g. 300 ms).
   */
  createSilent?(context: {
    port: number;
    options: BytecodeCacheOptions;
  }): BytecodeCache | Promise<BytecodeCache>;
  features?: FaultFeatures;
  /**
   * How long a call may stay pending before it counts as hung, in ms (default 5 s). A hang
   * detector, not a speed check: set it well above your adapter's own timeouts.
   */
  hangTimeout?: number;
  /** How long hits may take to come back after `start()`, in ms (default 10 s). */
  resumeTimeout?: number;
  /** Per-test timeout in ms (default 40 s). */
  timeout?: number;
}
