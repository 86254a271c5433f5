export { CODE_SHAPE_VERSION, PugTemplateEnvironment } from './environment.js';
export {
  type PugBytecodeCache,
  type PugPreloadReport,
  type UseBytecodeCacheOptions,
  useBytecodeCache,
} from './integration.js';
export type { PugCompileOptions, PugModule, PugPlugin, PugTemplate } from './pug.js';
export { createPugRenderer, type PugRenderer, type PugRendererOptions } from './renderer.js';
