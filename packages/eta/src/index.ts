export {
  type EtaBytecodeCache,
  type EtaCompileOptions,
  type EtaInstance,
  type EtaPreloadReport,
  EtaTemplateEnvironment,
  type EtaTemplateFunction,
  type UseBytecodeCacheOptions,
  useBytecodeCache,
} from './integration.js';
