import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  startMemcached,
  startRedis,
  startS3rver,
  TEST_S3_BUCKET,
  TEST_S3_CREDENTIALS,
  type TestServer,
} from '@bcc/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectBundleLifecycle, type FreshProcessResult, fixtures } from './helpers.js';

// The same byte-for-byte check as processes.test.ts, through real network stores: asynchronous
// caches, so the callback API, and the synchronous API after preload().
const run = promisify(execFile);
const script = join(fixtures.templatesDir, '..', 'render.mjs');

type RunResult = FreshProcessResult;

const childEnv = {
  ...process.env,
  AWS_ACCESS_KEY_ID: TEST_S3_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: TEST_S3_CREDENTIALS.secretAccessKey,
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

async function renderInFreshProcess(config: object): Promise<RunResult> {
  const { stdout } = await run(process.execPath, [script, JSON.stringify(config)], {
    encoding: 'utf8',
    env: childEnv,
  });
  return JSON.parse(stdout) as RunResult;
}

const servers: TestServer[] = [];
const stores: Record<string, object> = {};

beforeAll(async () => {
  const externalRedis = process.env.BCC_TEST_REDIS_URL;
  if (externalRedis) stores.redis = { cache: 'redis', url: externalRedis };
  else {
    const redis = await startRedis();
    servers.push(redis);
    stores.redis = { cache: 'redis', url: redis.url };
  }
  const memcachedServers = process.env.BCC_TEST_MEMCACHED;
  if (memcachedServers) stores.memcached = { cache: 'memcached', servers: memcachedServers };
  else {
    const memcached = await startMemcached();
    servers.push(memcached);
    stores.memcached = { cache: 'memcached', servers: `${memcached.host}:${memcached.port}` };
  }
  // A tiered cache (memory in front of Redis) and S3, both through createBytecodeCache URLs.
  const redisUrl = (stores.redis as { url: string }).url;
  stores.tiered = { cache: 'url', url: `memory:,${redisUrl}?prefix=bcc-nunjucks-tiered/${process.pid}/` };
  let s3Endpoint = process.env.BCC_TEST_S3_ENDPOINT;
  if (!s3Endpoint) {
    const s3 = await startS3rver();
    servers.push(s3);
    s3Endpoint = s3.url;
  }
  stores.s3 = {
    cache: 'url',
    url: `s3://${TEST_S3_BUCKET}/bcc-nunjucks/${process.pid}/?endpoint=${encodeURIComponent(s3Endpoint)}&forcePathStyle=true&region=us-east-1`,
  };
}, 60_000);

afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
});

describe.each([
  ['redis', 'async', false],
  ['redis', 'sync', true],
  ['memcached', 'async', false],
  ['tiered', 'async', false],
  ['s3', 'async', false],
])('fresh processes through %s, %s API (preload: %s)', (store, api, preload) => {
  const prefix = `bcc-nunjucks-test/${process.pid}/${store}-${api}/`;
  let plain: RunResult;

  it('renders byte for byte as plain Nunjucks on a cold cache', async () => {
    plain = await renderInFreshProcess({ api });
    const cold = await renderInFreshProcess({ ...stores[store], prefix, api, preload });
    expect(cold.outputs).toEqual(plain.outputs);
    expect(cold.stats!.compiled).toBeGreaterThan(0);
    expect(cold.stats!.codeCachesStored).toBe(cold.stats!.compiled);
  });

  it('renders byte for byte on a warm cache, every template from the store with its V8 code cache', async () => {
    const warm = await renderInFreshProcess({ ...stores[store], prefix, api, preload });
    expect(warm.outputs).toEqual(plain.outputs);
    expect(warm.stats).toMatchObject({ compiled: 0, cache: 0, codeCachesStored: 0 });
    expect(warm.stats!.cacheV8).toBeGreaterThan(0);
  });
});

// A working-set bundle from Redis: one read instead of one per template, across real processes.
describe('fresh processes through redis with a working-set bundle', () => {
  it('is written by the first process, given V8 code by the second, and read at once by the third', async () => {
    const prefix = `bcc-nunjucks-test/${process.pid}/redis-bundle/`;
    const plain = await renderInFreshProcess({ api: 'async' });
    await expectBundleLifecycle(
      renderInFreshProcess,
      { ...stores.redis, prefix, api: 'async', bundle: 'site' },
      plain,
    );
  });
});
