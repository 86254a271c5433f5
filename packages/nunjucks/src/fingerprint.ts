import { sha256Hex } from '@bcc/core';
import {
  type NunjucksEnvironment,
  type NunjucksExtension,
  nunjucksModule,
  nunjucksVersion,
} from './internals.js';

/**
 * Bump when the JavaScript bcc stores for a template changes shape (the wrapper around
 * Nunjucks' output), so entries written by an older `@bcc/nunjucks` are never instantiated.
 */
export const CODE_SHAPE_VERSION = 2;

/**
 * Everything that changes the JavaScript Nunjucks generates for a template, as plain data.
 * `autoescape` is read by the compiled code at render time, so it does not change the code;
 * it is in the fingerprint anyway because the contract promises that differently configured
 * environments never share entries, and it costs nothing.
 */
export interface FingerprintInputs {
  nunjucks: string;
  shape: number;
  autoescape: unknown;
  throwOnUndefined: boolean;
  trimBlocks: boolean;
  lstripBlocks: boolean;
  tags: Record<string, string | undefined> | null;
  asyncFilters: string[];
  extensions: string[];
  compiler: string;
}

const sourceHashes = new WeakMap<Function, string>();

function hashText(text: string): string {
  return sha256Hex(text).slice(0, 24);
}

function functionHash(fn: unknown): string {
  if (typeof fn !== 'function') return '-';
  let hash = sourceHashes.get(fn);
  if (hash === undefined) {
    hash = hashText(Function.prototype.toString.call(fn));
    sourceHashes.set(fn, hash);
  }
  return hash;
}

/** Properties that are part of every extension, hashed on their own above. */
const EXTENSION_BASICS = new Set(['__name', 'tags', 'parse', 'preprocess', 'cacheKey']);

/**
 * An extension instance's observable state: its own enumerable properties (constructor
 * arguments kept as `this.options`, flags, lookup tables), as stable text. Functions count by
 * their source; deep or cyclic values are cut off rather than walked forever.
 */
function extensionState(extension: NunjucksExtension): string {
  const seen = new WeakSet<object>();
  const show = (value: unknown, depth: number): string => {
    if (typeof value === 'function') return `fn:${functionHash(value)}`;
    if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? String(value);
    if (depth > 4 || seen.has(value)) return '…';
    seen.add(value);
    if (Array.isArray(value)) return `[${value.map((v) => show(v, depth + 1)).join(',')}]`;
    if (value instanceof RegExp || value instanceof Date) return String(value);
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${k}:${show((value as Record<string, unknown>)[k], depth + 1)}`).join(',')}}`;
  };
  const own = Object.keys(extension)
    .filter((key) => !EXTENSION_BASICS.has(key))
    .sort();
  return own.map((key) => `${key}=${show((extension as Record<string, unknown>)[key], 0)}`).join(';');
}

/** Extension names already warned about: an identity bcc cannot see, once per process. */
const warnedExtensions = new Set<string>();

/**
 * An extension's identity: its name, its tags, the source of the functions that turn template
 * text into nodes (`parse`, `preprocess`), and either its `cacheKey` (a string, or a method
 * returning one: the author's word for everything else that changes its output) or, without
 * one, its observable state (own properties, see {@link extensionState}).
 *
 * What no fingerprint can see is state held in a closure: a `parse` made per instance inside
 * the constructor may read constructor arguments nobody kept. Such an extension without a
 * `cacheKey` gets one warning (`BCC_EXTENSION_IDENTITY`) saying so; its entries are shared
 * between instances whose visible parts match.
 */
function extensionIdentity(extension: NunjucksExtension): string {
  const tags = Array.isArray(extension.tags) ? extension.tags.join(',') : '';
  const declared = typeof extension.cacheKey === 'function' ? extension.cacheKey() : extension.cacheKey;
  if (declared === undefined && Object.hasOwn(extension, 'parse')) warnClosureState(extension);
  // A declared cacheKey replaces the guess from own properties: a per-process value there (a
  // timestamp, a client) would otherwise keep processes from sharing entries.
  const state = declared === undefined ? `{${extensionState(extension)}}` : `#${String(declared)}`;
  return `${extension.__name ?? '?'}[${tags}]${functionHash(extension.parse)}/${functionHash(extension.preprocess)}${state}`;
}

function warnClosureState(extension: NunjucksExtension): void {
  const name = extension.__name ?? extension.constructor?.name ?? 'an extension';
  if (warnedExtensions.has(name)) return;
  warnedExtensions.add(name);
  process.emitWarning(
    `bcc: the Nunjucks extension "${name}" makes its parse() per instance, so state it keeps in a closure is invisible to bcc's cache keys; instances that differ only there would share compiled templates. Give the extension a cacheKey (a string or a method) naming its options.`,
    { code: 'BCC_EXTENSION_IDENTITY' },
  );
}

// `installJinjaCompat()` replaces methods on Nunjucks' Parser and Compiler prototypes, which
// changes generated code for the whole process. The fingerprint covers the source of the methods
// such a patch replaces or adds. Only those: hashing every method of both prototypes cost ~1 ms
// per process start, and a fresh process is what bcc is for. Other monkeypatches of Nunjucks'
// compiler are not detected; give such an environment its own cache prefix.
const watchedMethods = (): unknown[] => {
  const parser = nunjucksModule.parser.Parser.prototype;
  const compiler = nunjucksModule.compiler.Compiler.prototype;
  return [
    parser.parseAggregate,
    parser.parsePrimary,
    compiler.assertType,
    compiler.compileSlice,
    compiler.compile,
  ];
};
let watchedSnapshot: unknown[] = [];
let compilerHash = '';

function currentCompilerHash(): string {
  const watched = watchedMethods();
  if (compilerHash !== '' && watched.every((method, i) => method === watchedSnapshot[i])) return compilerHash;
  watchedSnapshot = watched;
  compilerHash = hashText(watched.map(functionHash).join(','));
  return compilerHash;
}

/** The inputs of {@link environmentFingerprint}, for debugging ("why do these two not share?"). */
export function fingerprintInputs(environment: object): FingerprintInputs {
  const env = environment as NunjucksEnvironment;
  const opts = env.opts ?? {};
  return {
    nunjucks: nunjucksVersion,
    shape: CODE_SHAPE_VERSION,
    autoescape: opts.autoescape ?? true,
    throwOnUndefined: !!opts.throwOnUndefined,
    trimBlocks: !!opts.trimBlocks,
    lstripBlocks: !!opts.lstripBlocks,
    tags: opts.tags ? { ...opts.tags } : null,
    asyncFilters: [...(env.asyncFilters ?? [])],
    extensions: (env.extensionsList ?? []).map(extensionIdentity),
    compiler: currentCompilerHash(),
  };
}

interface Memo {
  opts: object;
  optsSignature: string;
  asyncFilters: readonly string[];
  asyncFilterCount: number;
  extensions: readonly NunjucksExtension[];
  extensionCount: number;
  compiler: string;
  fingerprint: string;
}

const memo = new WeakMap<object, Memo>();

function optsSignature(env: NunjucksEnvironment): string {
  const opts = env.opts ?? {};
  return `${String(opts.autoescape)}|${!!opts.throwOnUndefined}|${!!opts.trimBlocks}|${!!opts.lstripBlocks}|${opts.tags ? JSON.stringify(opts.tags) : ''}`;
}

/**
 * The environment's fingerprint: Nunjucks' version and every option, extension, custom tag and
 * async filter that changes generated code. It is part of every cache key, so two differently
 * configured environments never share entries. Recomputed when the environment changes
 * (extensions and async filters may be added after `useBytecodeCache`); otherwise a few
 * identity checks, since it is read on every template load.
 */
export function environmentFingerprint(environment: object): string {
  const env = environment as NunjucksEnvironment;
  const known = memo.get(env);
  const signature = optsSignature(env);
  const compiler = currentCompilerHash();
  if (
    known &&
    known.opts === env.opts &&
    known.optsSignature === signature &&
    known.asyncFilters === env.asyncFilters &&
    known.asyncFilterCount === (env.asyncFilters?.length ?? 0) &&
    known.extensions === env.extensionsList &&
    known.extensionCount === (env.extensionsList?.length ?? 0) &&
    known.compiler === compiler
  ) {
    return known.fingerprint;
  }
  const fingerprint = `nunjucks@${nunjucksVersion}/${hashText(JSON.stringify(fingerprintInputs(env)))}`;
  memo.set(env, {
    opts: env.opts,
    optsSignature: signature,
    asyncFilters: env.asyncFilters,
    asyncFilterCount: env.asyncFilters?.length ?? 0,
    extensions: env.extensionsList,
    extensionCount: env.extensionsList?.length ?? 0,
    compiler,
    fingerprint,
  });
  return fingerprint;
}
