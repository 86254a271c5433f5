import type { Script as VmScript } from 'node:vm';
import type { BucketCode } from './bucket.js';

const { Script } = process.getBuiltinModule('node:vm');

/** What V8 did with the code cache offered to it. */
export type CodeCacheState = 'accepted' | 'rejected' | 'absent';

/** The result of {@link instantiate}. */
export interface Instantiated<T> {
  /** The completion value of the script: what the cached JavaScript evaluates to. */
  readonly value: T;
  /** The compiled script, kept so a code cache can be taken after the first use. */
  readonly script: VmScript;
  /** `'accepted'`: V8 used the cached data; `'rejected'`: V8 refused it; `'absent'`: none was given. */
  readonly codeCache: CodeCacheState;
  /**
   * Whether a new V8 code cache is worth storing: none was given, or V8 rejected it.
   */
  readonly needsCodeCache: boolean;
  /**
   * V8's code cache for the script. Take it after the template has rendered once: V8 compiles
   * inner functions lazily, so a cache taken right after compiling holds almost nothing.
   */
  createCodeCache(): Uint8Array;
}

/** Options of {@link instantiate}. */
export interface InstantiateOptions {
  /** The name V8 shows in stack traces. */
  filename?: string;
}

/**
 * Turns cached code into the value its JavaScript evaluates to, through `vm.Script`, handing
 * V8 its code cache when there is one. The JavaScript must be a script whose completion value
 * is the result, e.g. `(function () { ... })`.
 *
 * `code.v8` reaches this function only when the entry's runtime tag matched this process
 * (the Bucket drops it otherwise), so V8 never sees a cache from another Node or V8 build.
 */
export function instantiate<T = unknown>(
  code: BucketCode,
  options: InstantiateOptions = {},
): Instantiated<T> {
  const cachedData = code.v8 && code.v8.length > 0 ? code.v8 : undefined;
  const script = new Script(code.js, {
    filename: options.filename ?? 'bcc-template.js',
    ...(cachedData ? { cachedData } : {}),
  });
  const codeCache: CodeCacheState = cachedData
    ? script.cachedDataRejected
      ? 'rejected'
      : 'accepted'
    : 'absent';
  const value = script.runInThisContext({ displayErrors: true }) as T;
  return {
    value,
    script,
    codeCache,
    needsCodeCache: codeCache !== 'accepted',
    createCodeCache: () => script.createCachedData(),
  };
}
