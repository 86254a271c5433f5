/**
 * Every error bcc raises is a `BccError` with a stable `code`, so callers can branch on
 * `err.code` without `instanceof` (two copies of `@bcc/core` in one app must still agree).
 */
export type BccErrorCode =
  | 'ERR_BCC_CONFIG'
  | 'ERR_BCC_BACKEND'
  | 'ERR_BCC_UNSUPPORTED'
  | 'ERR_BCC_INSECURE_DIRECTORY'
  | 'ERR_BCC_REJECTED_ENTRY'
  | 'ERR_BCC_ADAPTER_NOT_INSTALLED'
  | 'ERR_BCC_ENTRY_TOO_LARGE';

/** Base class of every error bcc throws or reports. */
export class BccError extends Error {
  readonly code: BccErrorCode;
  constructor(code: BccErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A bad option, URL or argument; the message names the bad part. */
export class BccConfigError extends BccError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_BCC_CONFIG', message, options);
  }
}

/** The store failed (down, timeout, refused, I/O error). `cause` holds the client's error. */
export class BccBackendError extends BccError {
  /** The adapter that failed, e.g. `'redis'`. */
  readonly backend: string;
  /** What bcc was doing: `'load'`, `'dump'`, `'clear'`, `'loadMany'`. */
  readonly operation: string;
  constructor(backend: string, operation: string, message: string, options?: { cause?: unknown }) {
    super('ERR_BCC_BACKEND', message, options);
    this.backend = backend;
    this.operation = operation;
  }
}

/** The cache cannot do what was asked (e.g. synchronous loads on a network store). */
export class BccUnsupportedError extends BccError {
  constructor(message: string) {
    super('ERR_BCC_UNSUPPORTED', message);
  }
}

/** A cache directory that others could write to; writing there would let them run code in this process. */
export class BccInsecureDirectoryError extends BccError {
  readonly path: string;
  constructor(path: string, message: string) {
    super('ERR_BCC_INSECURE_DIRECTORY', message);
    this.path = path;
  }
}

/** An entry failed its signature check; reported through `onError`, never thrown at the renderer. */
export class BccRejectedEntryError extends BccError {
  readonly key: string;
  readonly reason: string;
  constructor(key: string, reason: string, message: string) {
    super('ERR_BCC_REJECTED_ENTRY', message);
    this.key = key;
    this.reason = reason;
  }
}

/** A URL scheme's adapter package is not installed. */
export class BccAdapterNotInstalledError extends BccError {
  readonly packageName: string;
  constructor(packageName: string, scheme: string, options?: { cause?: unknown }) {
    super(
      'ERR_BCC_ADAPTER_NOT_INSTALLED',
      `The "${scheme}" cache scheme needs ${packageName}: install ${packageName} (npm install ${packageName}).`,
      options,
    );
    this.packageName = packageName;
  }
}

/** An entry is larger than the store accepts; the write is skipped. */
export class BccEntryTooLargeError extends BccError {
  readonly size: number;
  readonly limit: number;
  constructor(size: number, limit: number, message: string) {
    super('ERR_BCC_ENTRY_TOO_LARGE', message);
    this.size = size;
    this.limit = limit;
  }
}

/** True for any bcc error, whichever copy of `@bcc/core` made it. */
export function isBccError(value: unknown): value is BccError {
  if (!(value instanceof Error)) return false;
  const code = (value as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('ERR_BCC_');
}
