import { BccConfigError, type BytecodeCacheOptions } from '@bcc/core';
import { FileSystemBytecodeCache } from './fs-cache.js';

const { fileURLToPath } = process.getBuiltinModule('node:url');

/**
 * The part of core's `CacheUrlContext` this adapter reads (declared here by shape, so this
 * package builds against any core that passes a context of that shape).
 */
export interface FileUrlContext {
  readonly options: BytecodeCacheOptions;
  readonly params: { string(name: string): string | undefined };
  readonly bare: boolean;
  readonly redacted: string;
}

/**
 * The `file:` scheme of `createBytecodeCache` (core imports this on demand):
 *
 * - `file:` — the private default directory, `<os.tmpdir()>/_bcc-cache-<uid>`;
 * - `file:///var/cache/bcc` — that directory (created 0700 if missing);
 * - `?pattern=app_%s.cache` — the entry file pattern.
 *
 * A host other than `localhost` is refused: a cache on another machine's share is not what a
 * `file:` URL on POSIX means.
 */
export function createFromUrl(url: URL, context: FileUrlContext): FileSystemBytecodeCache {
  const pattern = context.params.string('pattern');
  let directory: string | undefined;
  if (!context.bare) {
    if (url.hostname !== '' && url.hostname !== 'localhost') {
      throw new BccConfigError(
        `${context.redacted}: file: URLs name a local directory (file:///var/cache/bcc), not host "${url.hostname}"`,
      );
    }
    try {
      directory = fileURLToPath(url.hostname === 'localhost' ? new URL(`file://${url.pathname}`) : url);
    } catch (error) {
      throw new BccConfigError(
        `${context.redacted}: not a usable directory path (${(error as Error).message})`,
        {
          cause: error,
        },
      );
    }
  }
  return new FileSystemBytecodeCache({
    ...context.options,
    ...(directory === undefined ? {} : { directory }),
    ...(pattern === undefined ? {} : { pattern }),
  });
}
