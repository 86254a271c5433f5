import { BytecodeCache } from './cache.js';

/** The spellings of "no cache" in `BCC_CACHE` and `createBytecodeCache` (any case). */
const OFF = new Set(['none', 'off']);

/** True when a cache configuration says "no cache": `none` or `off`. */
export function isOffSpec(spec: unknown): boolean {
  return typeof spec === 'string' && OFF.has(spec.trim().toLowerCase());
}

/**
 * What `BCC_CACHE=none` (or `off`) makes: a cache that is not there. It never loads or stores
 * anything, and engine integrations that receive it leave the engine exactly as it was (the
 * same as not calling them), so one deployment switch turns bcc off without a code change.
 *
 * ```ts
 * const cache = await createBytecodeCacheFromEnv({ fallback: 'file:' }); // BCC_CACHE=off → disabled
 * useBytecodeCache(env, cache); // does nothing when the cache is disabled
 * ```
 */
export class DisabledBytecodeCache extends BytecodeCache {
  /** Marks the cache as off, for integrations (checked by shape: see {@link isDisabledCache}). */
  readonly disabled = true;

  constructor() {
    super({ breaker: false });
  }

  override get backendName(): string {
    return 'none';
  }

  async loadBytecode(): Promise<void> {}

  async dumpBytecode(): Promise<void> {}

  override loadBytecodeSync(): void {}

  override dumpBytecodeSync(): void {}

  override async clear(): Promise<void> {}
}

/** True for a cache that is turned off (`BCC_CACHE=none`), whichever copy of `@bcc/core` made it. */
export function isDisabledCache(cache: unknown): boolean {
  return typeof cache === 'object' && cache !== null && (cache as { disabled?: unknown }).disabled === true;
}
