export { createFromUrl } from './from-url.js';
export { RedisBytecodeCache, type RedisBytecodeCacheOptions, type RedisClient } from './redis-cache.js';
export { keySlot } from './slot.js';
