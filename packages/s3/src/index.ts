export { createFromUrl } from './from-url.js';
export { S3BytecodeCache, type S3BytecodeCacheOptions } from './s3-cache.js';
