export { staticDependencies } from './dependencies.js';
export { isCompileError, NunjucksTemplateEnvironment, toLatin1Source } from './environment.js';
export {
  CODE_SHAPE_VERSION,
  environmentFingerprint,
  type FingerprintInputs,
  fingerprintInputs,
} from './fingerprint.js';
export { nunjucksVersion } from './internals.js';
export { useBytecodeCache } from './loader.js';
export type {
  NunjucksBytecodeCache,
  NunjucksCacheStats,
  PreloadOptions,
  TemplateLoadEvent,
  UseBytecodeCacheOptions,
} from './types.js';
export {
  listTemplates,
  type WarmOptions,
  type WarmProgress,
  type WarmReport,
  warmBytecodeCache,
} from './warm.js';
