import { BccConfigError } from '@bcc/core';

/**
 * What a key may look like to become part of a file name: no path separators, no leading dot
 * (dot-names are reserved for temp files), short enough for any filesystem's 255-byte name
 * limit once the pattern and the temp suffix are added. The default keys are 64 hex digits.
 */
const KEY_RE = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,149}$/;

/**
 * The keys `BytecodeCache.getCacheKey` makes: SHA-256 in hex. When a cache keeps those keys,
 * `clear()` only takes files whose key part has exactly this shape, so caches whose patterns
 * prefix each other (`a_%s` and `a_b_%s`) in one directory never clear each other's entries.
 */
const DEFAULT_KEY_RE = /^[0-9a-f]{64}$/;

/**
 * A temp file is `.<entry file name>.<pid>.<random>.tmp`. It starts with a dot, which no key
 * may start with, so it never matches the entry pattern (the proof: a temp name starts with the
 * pattern's prefix only when that prefix is all dots, and then the part where the key would be
 * starts with a dot). So reads and `clear()` never mistake a writer's unfinished file for an entry.
 */
const TEMP_RE = /^\.(.+)\.(\d+)\.([0-9a-f]+)\.tmp$/;

/**
 * The file names of one cache: `pattern` with `%s` replaced by the entry key (Jinja2's
 * `FileSystemBytecodeCache` pattern). It decides which files in the directory belong to this
 * cache, so `clear()` of one cache never removes another's entries or unrelated files.
 */
export class EntryPattern {
  readonly pattern: string;
  readonly #prefix: string;
  readonly #suffix: string;
  readonly #keyShape: RegExp;

  /**
   * Throws `BccConfigError` unless `pattern` holds exactly one `%s` and no path separator.
   * `defaultKeys`: the keys are `getCacheKey`'s SHA-256 hex, so entry files are matched by that
   * exact shape; otherwise any file-name-safe key matches.
   */
  constructor(pattern: string, options: { defaultKeys?: boolean } = {}) {
    if (typeof pattern !== 'string') {
      throw new BccConfigError(`pattern must be a string such as '__bcc_%s.cache', got ${typeof pattern}`);
    }
    const parts = pattern.split('%s');
    if (parts.length !== 2) {
      throw new BccConfigError(
        `pattern must contain exactly one %s (where the entry key goes), got ${JSON.stringify(pattern)}; e.g. '__bcc_%s.cache'`,
      );
    }
    if (/[/\\\0]/.test(pattern)) {
      throw new BccConfigError(
        `pattern is a file name, not a path: ${JSON.stringify(pattern)} contains a path separator; put the directory in the 'directory' option`,
      );
    }
    const [prefix, suffix] = parts as [string, string];
    if (prefix === '' && suffix === '') {
      // With nothing around the key, every file in the directory would look like an entry
      // and clear() would delete files that are not ours.
      throw new BccConfigError(
        `pattern '%s' alone matches every file in the directory; add fixed text around it, e.g. '__bcc_%s.cache'`,
      );
    }
    this.pattern = pattern;
    this.#prefix = prefix;
    this.#suffix = suffix;
    this.#keyShape = (options.defaultKeys ?? true) ? DEFAULT_KEY_RE : KEY_RE;
  }

  /** The entry file name of `key`. Throws `BccConfigError` for a key that is not file-name safe. */
  fileName(key: string): string {
    if (!KEY_RE.test(key)) {
      throw new BccConfigError(
        `cache key ${JSON.stringify(key)} cannot be a file name: use letters, digits, '_', '-' and '.' (not first), at most 150 characters`,
      );
    }
    return this.#prefix + key + this.#suffix;
  }

  /** True when `name` is an entry file of this pattern. */
  matchesEntry(name: string): boolean {
    const prefix = this.#prefix;
    const suffix = this.#suffix;
    if (name.length <= prefix.length + suffix.length) return false;
    if (!name.startsWith(prefix) || !name.endsWith(suffix)) return false;
    return this.#keyShape.test(name.slice(prefix.length, name.length - suffix.length));
  }

  /** The key of an entry file name, or `undefined` when `name` is not one of this pattern's entries. */
  keyOf(name: string): string | undefined {
    if (!this.matchesEntry(name)) return undefined;
    return name.slice(this.#prefix.length, name.length - this.#suffix.length);
  }

  /** A fresh temp file name for writing `entryName`; unique per process and call. */
  tempName(entryName: string, unique: string): string {
    return `.${entryName}.${process.pid}.${unique}.tmp`;
  }

  /** True when `name` is a temp file made for one of this pattern's entries. */
  matchesTemp(name: string): boolean {
    const match = TEMP_RE.exec(name);
    return match !== null && this.matchesEntry(match[1]!);
  }
}
