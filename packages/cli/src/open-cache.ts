import {
  type BytecodeCache,
  createBytecodeCache,
  cwdBase,
  isDisabledCache,
  normalizeSecrets,
  redactCacheUrl,
  resolveImport,
  secretFromEnv,
  type TieredBytecodeCache,
} from '@bcc/core';
import { UsageError } from './errors.js';

/**
 * Adapters (`@bcc/fs`, `@bcc/redis`, …) as the app in the current directory has them, else as
 * installed next to this command (a global install).
 */
async function importAdapter(name: string): Promise<unknown> {
  // Not found either way: core turns the failed import into "install <name>".
  return import(resolveImport(name, [cwdBase(), import.meta.url]) ?? name);
}

/** A cache the command works on, with the stores behind it (the tiers of a tiered cache). */
export interface OpenedCache {
  readonly cache: BytecodeCache;
  /** The spec, password masked, for messages. */
  readonly shown: string;
  readonly stores: readonly BytecodeCache[];
  /** `BCC_SECRET` (and `BCC_SECRET_PREVIOUS`): signatures are checked when set. */
  readonly secrets: readonly Uint8Array[];
}

/**
 * Opens the cache from `--cache` or `BCC_CACHE` (same syntax), with the secret from
 * `BCC_SECRET`. Never prints a password: messages quote the spec masked.
 */
export async function openCache(
  spec: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<OpenedCache> {
  const given = spec?.trim() || env.BCC_CACHE?.trim();
  if (!given) {
    throw new UsageError(
      'no cache given: pass --cache <url> (e.g. --cache file:///var/cache/bcc) or set BCC_CACHE',
    );
  }
  // An operator wants to hear about a failing store, not a quiet miss.
  const cache = await createBytecodeCache(given, { env, ignoreErrors: false, breaker: false, importAdapter });
  if (isDisabledCache(cache)) {
    throw new UsageError(`the cache is "${given}", which turns bcc off: there is nothing to work on`);
  }
  const secret = secretFromEnv(env);
  // By shape, not instanceof: the adapters may have brought their own copy of @bcc/core.
  const tiers = (cache as Partial<TieredBytecodeCache>).tiers;
  const stores = Array.isArray(tiers) ? [...tiers] : [cache];
  const shown = given
    .split(',')
    .map((part) => redactCacheUrl(part.trim()))
    .join(',');
  return { cache, shown, stores, secrets: normalizeSecrets(secret) };
}
