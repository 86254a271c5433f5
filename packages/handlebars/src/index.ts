export { CODE_SHAPE_VERSION, effectiveOptions, HandlebarsTemplateEnvironment } from './environment.js';
export type { CompileOptions, HandlebarsInstance, TemplateDelegate } from './handlebars.js';
export {
  type HandlebarsBytecodeCache,
  type HandlebarsWarmReport,
  type UseBytecodeCacheOptions,
  useBytecodeCache,
} from './integration.js';
