export { CircuitBreaker, type CircuitBreakerOptions } from './breaker.js';
export {
  Bucket,
  type BucketCode,
  type BucketEnvironment,
  type BucketOptions,
  type LoadOutcome,
} from './bucket.js';
export {
  BytecodeCache,
  type BytecodeCacheOptions,
  type ErrorContext,
  isBytecodeCache,
  type StoredEntry,
} from './cache.js';
export {
  type CompiledCode,
  type LoadedFrom,
  type LoadedTemplate,
  type LoadTemplateOptions,
  loadTemplate,
  loadTemplateSync,
  type TemplateEnvironment,
  type TemplateSource,
} from './compile.js';
export { crc32, sha256Hex } from './digest.js';
export { DisabledBytecodeCache, isDisabledCache } from './disabled.js';
export {
  assertInstallable,
  canRunSync,
  type EngineCacheHandle,
  type EngineIntegrationOptions,
  EngineSession,
  type EngineStats,
  type EngineTemplate,
  engineTemplate,
  fingerprintText,
  inertEngineHandle,
  type PreloadReport,
  SyncEngineLoader,
} from './engine.js';
export {
  BccAdapterNotInstalledError,
  BccBackendError,
  BccConfigError,
  BccEntryTooLargeError,
  BccError,
  type BccErrorCode,
  BccInsecureDirectoryError,
  BccRejectedEntryError,
  BccUnsupportedError,
  isBccError,
} from './errors.js';
export {
  type DecodeExpectations,
  type DecodeResult,
  type Dependency,
  decodeFrame,
  encodeFrame,
  FLAG_SIGNED,
  FORMAT_VERSION,
  type FrameContents,
  type FrameInfo,
  inspectFrame,
  MAGIC,
  normalizeSecrets,
  type RejectReason,
  runtimeTag,
  type SecretInput,
} from './format.js';
export { MemoryBytecodeCache, type MemoryBytecodeCacheOptions } from './memory.js';
export { checkPruneBounds, type PruneBounds, type PruneReport, pruneEntries } from './prune.js';
export { type CodeCacheState, type Instantiated, type InstantiateOptions, instantiate } from './runtime.js';
export {
  fileStamp,
  readSourceFile,
  type StampedChecksum,
  sourceFileChecksum,
  stampedSourceChecksum,
} from './source-file.js';
export type { CacheStats } from './stats.js';
export { TieredBytecodeCache, type TieredBytecodeCacheOptions } from './tiered.js';
export {
  type CompileTraceContext,
  type LoadTraceContext,
  type StoreTraceContext,
  type TraceContextBase,
  traceChannels,
} from './trace.js';
export {
  ADAPTER_PACKAGES,
  type CacheSpec,
  type CacheUrlContext,
  type CacheUrlHost,
  CacheUrlParams,
  type CreateBytecodeCacheFromEnvOptions,
  type CreateBytecodeCacheOptions,
  type CreateFromUrl,
  createBytecodeCache,
  createBytecodeCacheFromEnv,
  createMemoryFromUrl,
  cwdBase,
  redactCacheUrl,
  resolveImport,
  secretFromEnv,
} from './url.js';
export {
  type BundleMember,
  bundleNameOf,
  MAX_BUNDLE_MEMBERS,
  WorkingSetBundle,
  type WorkingSetBundleOptions,
} from './working-set.js';
