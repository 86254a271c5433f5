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
