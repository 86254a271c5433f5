export {
  type EtaBytecodeCache,
  type EtaCompileOptions,
  type EtaInstance,
  EtaTemplateEnvironment,
  type EtaTemplateFunction,
  type UseBytecodeCacheOptions,
  useBytecodeCache,
} from './integration.js';
