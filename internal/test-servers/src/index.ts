export { benchCode, compare, fmt, hitLatencyRow, perOp, startDelayProxy, warmUpRow } from './bench.js';
export { type MemcachedOptions, startMemcached } from './memcached.js';
export { ask, freePort, type TestServer, tempDir } from './process.js';
export { startProxy, type TestProxy } from './proxy.js';
export { startRedis, startRedisCluster, type TestRedisCluster } from './redis.js';
export { startS3rver, TEST_S3_BUCKET, TEST_S3_CREDENTIALS } from './s3rver.js';
