export { isCompileError, NunjucksTemplateEnvironment, toLatin1Source } from './environment.js';
export {
  CODE_SHAPE_VERSION,
  environmentFingerprint,
  type FingerprintInputs,
  fingerprintInputs,
} from './fingerprint.js';
export { nunjucksVersion } from './internals.js';
export {
  type NunjucksBytecodeCache,
  type NunjucksCacheStats,
  staticDependencies,
  type TemplateLoadEvent,
  type UseBytecodeCacheOptions,
  useBytecodeCache,
} from './loader.js';
export {
  listTemplates,
  type WarmOptions,
  type WarmProgress,
  type WarmReport,
  warmBytecodeCache,
} from './warm.js';
