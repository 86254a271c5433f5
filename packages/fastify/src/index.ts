export {
  type BccOptions,
  type BccViewOptions,
  type FastifyBcc,
  fastifyBcc,
  fastifyBcc as default,
  SUPPORTED_ENGINES,
} from './plugin.js';
