export { type WriteOutcome, writeFileAtomic, writeFileAtomicSync } from './atomic-write.js';
export {
  checkCacheDir,
  type DefaultDirOptions,
  defaultCacheDir,
  ensureDefaultCacheDir,
  ensureGivenDir,
  ensurePrivateDir,
} from './default-dir.js';
export { FileSystemBytecodeCache, type FileSystemBytecodeCacheOptions, STALE_TEMP_MS } from './fs-cache.js';
export { EntryPattern } from './pattern.js';
export { MAX_ENTRY_BYTES, readEntrySync } from './read-entry.js';
export { createFromUrl, type FileUrlContext } from './url.js';
