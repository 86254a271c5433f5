import { createHash } from 'node:crypto';
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
export const CODE_SHAPE_VERSION = 1;

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
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 24);
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

/**
 * An extension's identity: its name, its tags and the source of the functions that turn
 * template text into nodes (`parse`, `preprocess`). Two extensions with the same tags but
 * different parsers generate different code, so the parser's text is part of it.
 */
function extensionIdentity(extension: NunjucksExtension): string {
  const tags = Array.isArray(extension.tags) ? extension.tags.join(',') : '';
  return `${extension.__name ?? '?'}[${tags}]${functionHash(extension.parse)}/${functionHash(extension.preprocess)}`;
}

// `installJinjaCompat()` (and any other monkeypatch) replaces methods on Nunjucks' Parser and
// Compiler prototypes, which changes generated code for the whole process. Their method
// identities are snapshotted so the fingerprint follows such a patch without rehashing sources
// on every load.
let compilerSnapshot: unknown[] = [];
let compilerHash = '';

function collectCompilerMethods(): unknown[] {
  const methods: unknown[] = [];
  for (const proto of [nunjucksModule.parser.Parser.prototype, nunjucksModule.compiler.Compiler.prototype]) {
    for (const key of Object.getOwnPropertyNames(proto)) methods.push(proto[key]);
  }
  return methods;
}

function currentCompilerHash(): string {
  const methods = collectCompilerMethods();
  const same =
    methods.length === compilerSnapshot.length &&
    methods.every((method, i) => method === compilerSnapshot[i]);
  if (!same) {
    compilerSnapshot = methods;
    compilerHash = hashText(methods.map(functionHash).join(','));
  }
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

const memo = new WeakMap<object, { signature: string; fingerprint: string }>();

/**
 * The environment's fingerprint: Nunjucks' version and every option, extension, custom tag and
 * async filter that changes generated code. It is part of every cache key, so two differently
 * configured environments never share entries. Recomputed when the environment changes
 * (extensions and async filters may be added after `useBytecodeCache`).
 */
export function environmentFingerprint(env: object): string {
  const inputs = fingerprintInputs(env);
  const signature = JSON.stringify(inputs);
  const known = memo.get(env);
  if (known && known.signature === signature) return known.fingerprint;
  const fingerprint = `nunjucks@${nunjucksVersion}/${hashText(signature)}`;
  memo.set(env, { signature, fingerprint });
  return fingerprint;
}
