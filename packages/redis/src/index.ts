export { createFromUrl } from './from-url.js';
export {
  RedisBytecodeCache,
  type RedisBytecodeCacheOptions,
  type RedisClient,
  type RedisClientLike,
} from './redis-cache.js';
export { keySlot } from './slot.js';
