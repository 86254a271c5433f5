/**
 * Configuration by URL: `createBytecodeCache('redis://cache:6379?prefix=app/')`, a list of
 * URLs for tiers, and `BCC_CACHE` in the environment for a whole configuration in one variable.
 *
 * Core knows no adapter code. It maps each scheme to the package that implements it, imports
 * that package on demand and calls its `createFromUrl(url, context)` export, so an app pays
 * only for the adapters its configuration names, and a missing one is a clear error.
 */
import { type BytecodeCache, type BytecodeCacheOptions, isBytecodeCache } from './cache.js';
import { DisabledBytecodeCache, isOffSpec } from './disabled.js';
import { BccAdapterNotInstalledError, BccConfigError, isBccError } from './errors.js';
import { MemoryBytecodeCache } from './memory.js';
import { TieredBytecodeCache } from './tiered.js';

const { createRequire } = process.getBuiltinModule('node:module');
const { join } = process.getBuiltinModule('node:path');
const { pathToFileURL } = process.getBuiltinModule('node:url');

/** A cache configuration: one URL, a list of URLs (tiers, fastest first), or a comma-separated string of them. */
export type CacheSpec = string | URL | readonly (string | URL)[];

/** What an adapter's `createFromUrl` receives besides the URL. */
export interface CacheUrlContext {
  /** `secret`, `ignoreErrors` and `onError` from the caller. Never read secrets from the URL. */
  readonly options: BytecodeCacheOptions;
  /**
   * Every `host[:port]` of the authority, in order. Usually one; memcached lists several
   * (`memcached://a:11211,b:11211`). `url` itself carries the first.
   */
  readonly hosts: readonly CacheUrlHost[];
  /** The query string, read with types; errors name the parameter. Unread parameters are an error. */
  readonly params: CacheUrlParams;
  /** True when the URL is a scheme and at most a query (`file:`, `memory:?maxBytes=1m`): no host, no path. */
  readonly bare: boolean;
  /** The URL with any password masked: the only form that may appear in messages and logs. */
  readonly redacted: string;
}

/** One `host[:port]` of a cache URL's authority. */
export interface CacheUrlHost {
  readonly host: string;
  readonly port: number | undefined;
}

/**
 * The export every adapter package provides for its schemes:
 * `export function createFromUrl(url: URL, context: CacheUrlContext): BytecodeCache`.
 */
export type CreateFromUrl = (url: URL, context: CacheUrlContext) => BytecodeCache | Promise<BytecodeCache>;

/** The packages that implement the built-in schemes (`memory:` is part of core). */
export const ADAPTER_PACKAGES: Readonly<Record<string, string>> = Object.freeze({
  'file:': '@bcc/fs',
  'redis:': '@bcc/redis',
  'rediss:': '@bcc/redis',
  'memcached:': '@bcc/memcached',
  's3:': '@bcc/s3',
});

/** Options of {@link createBytecodeCache}. */
export interface CreateBytecodeCacheOptions extends BytecodeCacheOptions {
  /**
   * More schemes: `'mystore:'` → a package name exporting `createFromUrl`, or the factory
   * itself. Overrides the built-in mapping for the same scheme.
   */
  schemes?: Readonly<Record<string, string | CreateFromUrl>>;
  /**
   * Imports an adapter package by name. Default: `import()` from `@bcc/core`, then from the
   * current directory's `node_modules`. Bundlers and tests can pass their own.
   */
  importAdapter?: (packageName: string) => Promise<unknown>;
  /** Options of the tiered cache made for a list of URLs. */
  concurrency?: number;
  /** Where `BCC_SECRET` is read when `secret` is not given. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Makes a cache from a URL, or a tiered cache from a list of URLs (fastest first).
 *
 * ```ts
 * const cache = await createBytecodeCache('memory:?maxBytes=32m,file:,redis://cache:6379?prefix=app/', {
 *   secret: process.env.BCC_SECRET,
 * });
 * ```
 *
 * Schemes: `memory:` (`?maxBytes=`), `file:` (`file:///var/cache/bcc?pattern=`; `file:` alone
 * is the private default directory), `redis://`/`rediss://` (`?prefix=&ttl=`),
 * `memcached://host1:11211,host2:11211` (`?prefix=&ttl=`), `s3://bucket/prefix`
 * (`?region=&endpoint=&forcePathStyle=`). See docs/configuration.md.
 *
 * `none` or `off` (any case) makes a {@link DisabledBytecodeCache}: bcc turned off, and engine
 * integrations given it leave the engine as it was.
 *
 * Without `options.secret`, the secret comes from `BCC_SECRET` (and `BCC_SECRET_PREVIOUS`, still
 * accepted while keys rotate); never from the URL.
 *
 * Throws `BccConfigError` naming the bad part for a malformed URL, an unknown scheme or a bad
 * parameter, and `BccAdapterNotInstalledError` (`install @bcc/redis`) for a missing adapter.
 * Passwords never appear in messages.
 */
export async function createBytecodeCache(
  spec: CacheSpec,
  options: CreateBytecodeCacheOptions = {},
): Promise<BytecodeCache> {
  const { schemes: extraSchemes, importAdapter, concurrency, env = process.env, ...given } = options;
  // `none` / `off`: bcc turned off by configuration, not an error.
  if (isOffSpec(spec)) return new DisabledBytecodeCache();
  const envSecret = given.secret === undefined ? secretFromEnv(env) : undefined;
  const cacheOptions = envSecret ? { ...given, secret: envSecret } : given;
  const schemes = schemeTable(extraSchemes);
  const entries = splitSpec(spec, schemes);
  if (entries.length === 0)
    throw new BccConfigError('the cache configuration is empty; give at least one URL, e.g. "memory:"');
  const made: BytecodeCache[] = [];
  try {
    for (const entry of entries) {
      made.push(await createOne(entry, schemes, cacheOptions, importAdapter ?? defaultImporter));
    }
  } catch (error) {
    await Promise.allSettled(made.map((cache) => cache.close()));
    throw error;
  }
  if (made.length === 1) return made[0]!;
  return new TieredBytecodeCache(
    made,
    concurrency === undefined ? cacheOptions : { ...cacheOptions, concurrency },
  );
}

/**
 * The signing secrets an environment names: `BCC_SECRET` signs and verifies; `BCC_SECRET_PREVIOUS`
 * only verifies, so entries signed before a key rotation stay valid until they are rewritten.
 */
export function secretFromEnv(env: Readonly<Record<string, string | undefined>>): string[] | undefined {
  const current = secretVariable(env, 'BCC_SECRET');
  const previous = secretVariable(env, 'BCC_SECRET_PREVIOUS');
  if (current === undefined) {
    if (previous !== undefined)
      throw new BccConfigError(
        'BCC_SECRET_PREVIOUS is set but BCC_SECRET is not: set BCC_SECRET to the new secret',
      );
    return undefined;
  }
  return previous === undefined ? [current] : [current, previous];
}

/**
 * A secret variable's value, trimmed as `secret` options are. Unset is "no secret"; set but
 * empty or blank is a mistake (a template that expanded to nothing), never "unsigned".
 */
function secretVariable(env: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  const value = env[name];
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') {
    throw new BccConfigError(
      `${name} is set but empty: set it to the signing secret, or unset it to run unsigned (only with a store nobody else can write)`,
    );
  }
  return trimmed;
}

/** Options of {@link createBytecodeCacheFromEnv}. */
export interface CreateBytecodeCacheFromEnvOptions extends CreateBytecodeCacheOptions {
  /** The environment to read. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** The variable holding the configuration. Default `BCC_CACHE`. */
  variable?: string;
  /** Used when the variable is unset or empty. Without it, an unset variable is a `BccConfigError`. */
  fallback?: CacheSpec;
}

/**
 * Makes the cache a twelve-factor app's environment describes: `BCC_CACHE` holds the URLs
 * (`"memory:,file:,redis://cache:6379"`), `BCC_SECRET` the signing secret (unless
 * `options.secret` is given). Secrets are never read from the URLs themselves.
 *
 * ```ts
 * const cache = await createBytecodeCacheFromEnv({ fallback: 'memory:' });
 * ```
 */
export async function createBytecodeCacheFromEnv(
  options: CreateBytecodeCacheFromEnvOptions = {},
): Promise<BytecodeCache> {
  const { env = process.env, variable = 'BCC_CACHE', fallback, ...rest } = options;
  const value = env[variable]?.trim();
  const spec = value ? value : fallback;
  if (spec === undefined) {
    throw new BccConfigError(
      `${variable} is not set: set it to the cache URLs, fastest first (e.g. ${variable}="memory:,file:"), or pass a fallback`,
    );
  }
  try {
    return await createBytecodeCache(spec, { ...rest, env });
  } catch (error) {
    if (value && isBccError(error) && error.code === 'ERR_BCC_CONFIG') {
      // V8 formats `stack` lazily from the message: read it before changing the message.
      const stack = error.stack;
      error.message = `${variable}: ${error.message}`;
      if (stack) error.stack = stack.replace(/^(\w+): /, `$1: ${variable}: `);
    }
    throw error;
  }
}

/**
 * The URL with its password (and any query parameter that looks like a secret) masked.
 * Works on malformed URLs too, so error messages can always quote what they got.
 */
export function redactCacheUrl(input: string | URL): string {
  const text = String(input);
  let out = text.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)/i, (_all, head: string, authority: string) => {
    const at = authority.lastIndexOf('@');
    if (at < 0) return head + authority;
    const userinfo = authority.slice(0, at);
    const colon = userinfo.indexOf(':');
    const masked = colon < 0 ? '***' : `${userinfo.slice(0, colon)}:***`;
    return `${head}${masked}${authority.slice(at)}`;
  });
  out = out.replace(/([?&])([^=&#]*)=([^&#]*)/g, (all, sep: string, name: string) =>
    SECRET_PARAM.test(decodeSafe(name)) ? `${sep}${name}=***` : all,
  );
  return out;
}

const SECRET_PARAM = /pass|secret|token|credential|auth|^key$|apikey|access.?key/i;

/**
 * Typed reader of a cache URL's query string. Each getter marks its parameter as used;
 * {@link createBytecodeCache} rejects parameters nobody read, so a typo (`?tll=60`) is an
 * error instead of a silently ignored option.
 */
export class CacheUrlParams {
  readonly #search: URLSearchParams;
  readonly #where: string;
  readonly #used = new Set<string>();

  /** `where` names the URL in messages (use a redacted form). */
  constructor(search: URLSearchParams, where: string) {
    this.#search = search;
    this.#where = where;
  }

  /** True when the parameter is present (and marks it used). */
  has(name: string): boolean {
    this.#used.add(name);
    return this.#search.has(name);
  }

  /** The parameter's value, or `undefined` when absent. Given twice is an error. */
  string(name: string): string | undefined {
    this.#used.add(name);
    const values = this.#search.getAll(name);
    if (values.length > 1)
      throw new BccConfigError(`option "${name}" is given ${values.length} times in ${this.#where}`);
    return values[0];
  }

  /** A whole number within `[min, max]` (default `[0, MAX_SAFE_INTEGER]`). `unit` is named in the message. */
  integer(name: string, limits: { min?: number; max?: number; unit?: string } = {}): number | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const { min = 0, max = Number.MAX_SAFE_INTEGER, unit } = limits;
    const value = /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw this.#bad(name, raw, `a whole number${unit ? ` of ${unit}` : ''} from ${min} to ${max}`);
    }
    return value;
  }

  /** A byte count: `1048576`, `512k`, `64m`, `1g` (binary units; an optional `b`/`ib`). At least 1. */
  bytes(name: string): number | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const match = /^(\d+)\s*(?:([kmg])(?:i?b)?|b)?$/i.exec(raw.trim());
    const scale = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(match?.[2] ?? '').toLowerCase()] ?? 1;
    const value = match ? Number(match[1]) * scale : Number.NaN;
    if (!Number.isSafeInteger(value) || value < 1) {
      throw this.#bad(name, raw, 'a positive byte count such as 1048576, 512k or 64m');
    }
    return value;
  }

  /** `true`/`false`/`1`/`0`/`yes`/`no`; present without a value (`?forcePathStyle`) is `true`. */
  boolean(name: string): boolean | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const normalized = raw.trim().toLowerCase();
    if (['', 'true', '1', 'yes', 'on'].includes(normalized)) return true;
    if (['false', '0', 'no', 'off'].includes(normalized)) return false;
    throw this.#bad(name, raw, 'true or false');
  }

  /** Names the adapter asked for: the options its scheme knows. */
  known(): string[] {
    return [...this.#used];
  }

  /** Parameter names present but never read. */
  unused(): string[] {
    return [...new Set(this.#search.keys())].filter((name) => !this.#used.has(name));
  }

  #bad(name: string, raw: string, expected: string): BccConfigError {
    const shown = SECRET_PARAM.test(name) ? '***' : JSON.stringify(raw);
    return new BccConfigError(`option "${name}" in ${this.#where} must be ${expected}, got ${shown}`);
  }
}

/** `memory:` — core's own scheme. */
export const createMemoryFromUrl: CreateFromUrl = (_url, context) => {
  if (!context.bare) {
    throw new BccConfigError(
      `${context.redacted}: memory: takes no host or path, only ?maxBytes= (e.g. memory:?maxBytes=64m)`,
    );
  }
  const maxBytes = context.params.bytes('maxBytes');
  return new MemoryBytecodeCache(maxBytes === undefined ? context.options : { ...context.options, maxBytes });
};

// ---------------------------------------------------------------------------------------------

type SchemeTable = Map<string, string | CreateFromUrl>;

function schemeTable(extra: Readonly<Record<string, string | CreateFromUrl>> | undefined): SchemeTable {
  const table: SchemeTable = new Map(Object.entries(ADAPTER_PACKAGES));
  table.set('memory:', createMemoryFromUrl);
  for (const [name, target] of Object.entries(extra ?? {})) {
    const scheme = (name.endsWith(':') ? name : `${name}:`).toLowerCase();
    if (!/^[a-z][a-z0-9+.-]*:$/.test(scheme)) throw new BccConfigError(`"${name}" is not a valid URL scheme`);
    table.set(scheme, target);
  }
  return table;
}

const SCHEME = /^([a-z][a-z0-9+.-]*):/i;

/**
 * Splits a configuration into one string per cache. A comma starts a new URL only when a
 * scheme follows it (`x://`, or a known scheme such as `file:`), because memcached URLs use
 * commas between hosts: `memory:,memcached://a:11211,b:11211`.
 */
function splitSpec(spec: CacheSpec, schemes: SchemeTable): string[] {
  if (spec instanceof URL) return [spec.href];
  if (typeof spec !== 'string') {
    if (!Array.isArray(spec))
      throw new BccConfigError('the cache configuration must be a URL string, a URL or a list of them');
    return spec.flatMap((item, i) => {
      if (item instanceof URL) return [item.href];
      if (typeof item !== 'string')
        throw new BccConfigError(`entry ${i} of the cache configuration is not a URL string`);
      return splitSpec(item, schemes);
    });
  }
  const parts: string[] = [];
  let current = '';
  for (const piece of spec.split(',')) {
    const trimmed = piece.trimStart();
    const scheme = SCHEME.exec(trimmed)?.[1]?.toLowerCase();
    const startsUrl =
      scheme !== undefined &&
      (trimmed.slice(scheme.length + 1).startsWith('//') ||
        (schemes.has(`${scheme}:`) && !/^\d/.test(trimmed.slice(scheme.length + 1))));
    if (parts.length === 0 && current === '') current = piece;
    else if (startsUrl || trimmed === '' || current.trim() === '') {
      parts.push(current);
      current = piece;
    } else current += `,${piece}`;
  }
  parts.push(current);
  return parts.map((part, i) => {
    const trimmed = part.trim();
    if (trimmed === '') {
      throw new BccConfigError(
        `entry ${i + 1} of the cache configuration "${redactCacheUrl(spec)}" is empty`,
      );
    }
    return trimmed;
  });
}

interface ParsedEntry {
  url: URL;
  scheme: string;
  hosts: CacheUrlHost[];
  bare: boolean;
  redacted: string;
}

/** Parses one cache URL, with messages that name the bad part and never show a password. */
function parseEntry(input: string, schemes: SchemeTable): ParsedEntry {
  const redacted = redactCacheUrl(input);
  const schemeMatch = SCHEME.exec(input);
  if (!schemeMatch) {
    throw new BccConfigError(
      `cache URL "${redacted}" has no scheme: start it with one of ${[...schemes.keys()].sort().join(' ')} (e.g. redis://host:6379)`,
    );
  }
  const scheme = `${schemeMatch[1]!.toLowerCase()}:`;
  if (!schemes.has(scheme)) {
    throw new BccConfigError(
      `unknown cache scheme "${scheme}" in "${redacted}"; known schemes: ${[...schemes.keys()].sort().join(' ')}`,
    );
  }
  const rest = input.slice(scheme.length);
  const bare = rest === '' || rest.startsWith('?');
  if (!bare && !rest.startsWith('/')) {
    throw new BccConfigError(
      `malformed cache URL "${redacted}": after "${scheme}" comes "//host", "/path", a "?query" or nothing (e.g. ${scheme === 'file:' ? 'file:///var/cache/bcc' : `${scheme}//host`})`,
    );
  }
  let normalized = input;
  const hosts: CacheUrlHost[] = [];
  const authorityMatch = /^\/\/([^/?#]*)/.exec(rest);
  if (authorityMatch) {
    const authority = authorityMatch[1]!;
    const at = authority.lastIndexOf('@');
    const userinfo = at >= 0 ? authority.slice(0, at + 1) : '';
    const hostList = authority.slice(at + 1);
    if (hostList !== '') {
      for (const hostPort of hostList.split(',')) hosts.push(parseHost(hostPort, redacted));
    }
    // WHATWG URLs hold one host: parse the first, hand the adapter the full list.
    if (hosts.length > 1) {
      const first = hostList.split(',')[0]!;
      normalized = `${scheme}//${userinfo}${first}${rest.slice(2 + authority.length)}`;
    }
  }
  let url: URL;
  try {
    url = new URL(normalized);
  } catch {
    // No cause: Node's "Invalid URL" error carries the whole input, password included, as `input`.
    throw new BccConfigError(`malformed cache URL "${redacted}": not a valid URL`);
  }
  refuseControlCharacters(url, redacted);
  return { url, scheme, hosts, bare, redacted };
}

function parseHost(hostPort: string, redacted: string): CacheUrlHost {
  const text = hostPort.trim();
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(text);
  const [host, port] = bracketed ? [bracketed[1]!, bracketed[2]] : splitOnce(text, ':');
  if (host === '') throw new BccConfigError(`empty host in "${redacted}"`);
  if (!bracketed && /[\s/\\@<>^|[\]%]/.test(host))
    throw new BccConfigError(`host "${host}" in "${redacted}" is not a valid host name`);
  if (port === undefined || port === '') return { host, port: undefined };
  const value = /^\d{1,5}$/.test(port) ? Number(port) : Number.NaN;
  if (!(value >= 1 && value <= 65535)) {
    throw new BccConfigError(
      `port "${port}" of host "${host}" in "${redacted}" must be a number from 1 to 65535`,
    );
  }
  return { host, port: value };
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const i = text.indexOf(separator);
  return i < 0 ? [text, undefined] : [text.slice(0, i), text.slice(i + 1)];
}

async function createOne(
  input: string,
  schemes: SchemeTable,
  options: BytecodeCacheOptions,
  importAdapter: (packageName: string) => Promise<unknown>,
): Promise<BytecodeCache> {
  const { url, scheme, hosts, bare, redacted } = parseEntry(input, schemes);
  const params = new CacheUrlParams(url.searchParams, redacted);
  for (const name of url.searchParams.keys()) {
    if (/^(secret|hmac|signing.?key)$/i.test(name)) {
      throw new BccConfigError(
        `"${name}" in ${redacted}: secrets are never read from cache URLs; pass options.secret or set BCC_SECRET`,
      );
    }
  }
  const target = schemes.get(scheme)!;
  const factory = typeof target === 'string' ? await loadFactory(target, scheme, importAdapter) : target;
  let cache: BytecodeCache;
  try {
    cache = await factory(url, { options, hosts, params, bare, redacted });
  } catch (error) {
    throw scrubbed(error, input);
  }
  if (!isBytecodeCache(cache)) {
    throw new BccConfigError(`the "${scheme}" adapter's createFromUrl did not return a bcc cache`);
  }
  const unused = params.unused();
  if (unused.length > 0) {
    await cache.close().catch(() => {});
    const known = params.known();
    throw new BccConfigError(
      `unknown option${unused.length > 1 ? 's' : ''} ${unused.map((n) => `"${n}"`).join(', ')} in ${redacted}${known.length > 0 ? ` (known: ${known.join(', ')})` : ''}`,
    );
  }
  return cache;
}

async function loadFactory(
  packageName: string,
  scheme: string,
  importAdapter: (packageName: string) => Promise<unknown>,
): Promise<CreateFromUrl> {
  let module: unknown;
  try {
    module = await importAdapter(packageName);
  } catch (error) {
    if (isModuleNotFound(error, packageName))
      throw new BccAdapterNotInstalledError(packageName, scheme, { cause: error });
    throw new BccConfigError(
      `${packageName} (for "${scheme}" cache URLs) failed to load: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  const factory = (module as { createFromUrl?: unknown } | null)?.createFromUrl;
  if (typeof factory !== 'function') {
    throw new BccConfigError(
      `${packageName} does not export createFromUrl, so it cannot make caches from "${scheme}" URLs; update ${packageName} to a version that does`,
    );
  }
  return factory as CreateFromUrl;
}

function isModuleNotFound(error: unknown, packageName: string): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    error instanceof Error &&
    error.message.includes(`'${packageName}'`)
  );
}

/**
 * `import()` from here, then from the app's directory. The second try matters when core is
 * linked from elsewhere (a monorepo, `npm link`): Node resolves from core's real path, where
 * the app's adapters are not visible.
 */
async function defaultImporter(packageName: string): Promise<unknown> {
  try {
    return await import(packageName);
  } catch (error) {
    if (!isModuleNotFound(error, packageName)) throw error;
    const entry = resolveImport(packageName, [cwdBase()]);
    if (entry === undefined) throw error;
    return import(entry);
  }
}

/**
 * The file URL that `import(packageName)` would load for code at one of `bases` (file paths or
 * `file:` URLs), tried in order, or `undefined` when none has it. For packages the app installed
 * next to itself rather than next to bcc: adapters, engine integrations, engines.
 */
export function resolveImport(packageName: string, bases: readonly string[]): string | undefined {
  for (const base of bases) {
    try {
      const require = createRequire(base);
      const manifestPath = require.resolve(`${packageName}/package.json`);
      const manifest = require(manifestPath) as {
        exports?: unknown;
        main?: string;
      };
      const root = (manifest.exports as Record<string, unknown> | undefined)?.['.'] ?? manifest.exports;
      const target =
        typeof root === 'string'
          ? root
          : ((root as Record<string, unknown> | undefined)?.import ??
            (root as Record<string, unknown> | undefined)?.default);
      const relative = typeof target === 'string' ? target : (manifest.main ?? 'index.js');
      return pathToFileURL(join(manifestPath, '..', relative)).href;
    } catch {}
  }
  return undefined;
}

/** Where the current directory's packages resolve from (an app run from its root). */
export const cwdBase = (): string => join(process.cwd(), 'bcc-resolve.js');

/**
 * Refuses control characters (a NUL, a newline) in the decoded parts of a URL: Node, the
 * clients and the stores refuse them later, on every call, with errors that name none of it.
 */
function refuseControlCharacters(url: URL, redacted: string): void {
  const parts: [string, string][] = [
    ['path', url.pathname],
    ['user name', url.username],
    ['password', url.password],
    ...[...url.searchParams].map(([name, value]): [string, string] => [
      `parameter "${name}"`,
      `${name}=${value}`,
    ]),
  ];
  for (const [part, raw] of parts) {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
    if (/[\u0000-\u001f\u007f]/.test(decodeSafe(raw))) {
      throw new BccConfigError(
        `the ${part} of cache URL "${redacted}" holds a control character (such as %00); remove it`,
      );
    }
  }
}

/**
 * The error with the URL's password removed from its message (and its cause's): the URL as
 * given becomes its redacted form, and the password itself is masked where it stands as a
 * whole word. Not every occurrence of its characters: a password "a" must not turn
 * "redis" into "redi***".
 */
function scrubbed(error: unknown, input: string): unknown {
  const secrets = passwordsIn(input);
  if (secrets.length === 0) return error;
  const redacted = redactCacheUrl(input);
  const words = secrets.map(
    (secret) => new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegExp(secret)}(?![\\p{L}\\p{N}])`, 'gu'),
  );
  const mask = (text: string) => {
    let out = text.split(input).join(redacted);
    for (const word of words) out = out.replace(word, '***');
    return out;
  };
  const scrub = (value: unknown) => {
    if (!(value instanceof Error)) return;
    value.message = mask(value.message);
    if (value.stack) value.stack = mask(value.stack);
  };
  scrub(error);
  scrub((error as { cause?: unknown } | null)?.cause);
  return error;
}

function passwordsIn(input: string): string[] {
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(input)?.[1] ?? '';
  const at = authority.lastIndexOf('@');
  const found: string[] = [];
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    const colon = userinfo.indexOf(':');
    const password = colon < 0 ? userinfo : userinfo.slice(colon + 1);
    if (password) found.push(password, decodeSafe(password));
  }
  for (const match of input.matchAll(/[?&]([^=&#]*)=([^&#]*)/g)) {
    if (SECRET_PARAM.test(decodeSafe(match[1]!)) && match[2]) found.push(match[2], decodeSafe(match[2]));
  }
  return [...new Set(found)].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function decodeSafe(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}
