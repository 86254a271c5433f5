export { createFromUrl } from './from-url.js';
export {
  MemcachedBytecodeCache,
  type MemcachedBytecodeCacheOptions,
  type MemjsOptions,
  type MinimalMemcachedClient,
} from './memcached-cache.js';
