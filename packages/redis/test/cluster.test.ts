import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startRedisCluster, type TestRedisCluster } from '@bcc/test-servers';
import { makeCode, runConformanceSuite, testEnvironment } from '@bcc/testkit';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keySlot, RedisBytecodeCache } from '../src/index.js';

// A three-master Redis Cluster, started once for this file (about 10 s), or
// BCC_TEST_REDIS_CLUSTER=host:port[,host:port…] for a cluster of your own.
let cluster: TestRedisCluster | undefined;
const exec = promisify(execFile);
let nodes: { host: string; port: number }[];
const clients: Cluster[] = [];

function connect(options: ConstructorParameters<typeof Cluster>[1] = {}): Cluster {
  const client = new Cluster(nodes, {
    ...options,
    redisOptions: { commandTimeout: 1000, ...options.redisOptions },
  });
  client.on('error', () => {});
  clients.push(client);
  return client;
}

let shared: Cluster;

beforeAll(async () => {
  const external = process.env.BCC_TEST_REDIS_CLUSTER;
  if (external) {
    nodes = external.split(',').map((hostPort) => {
      const [host, port] = hostPort.split(':');
      return { host: host!, port: Number(port) };
    });
  } else {
    cluster = await startRedisCluster();
    nodes = cluster.nodes;
  }
  shared = connect();
  await new Promise<void>((resolve, reject) => {
    shared.once('ready', resolve);
    shared.once('error', reject);
  });
}, 60_000);

afterAll(async () => {
  for (const client of clients) client.disconnect();
  await cluster?.stop();
});

runConformanceSuite(
  { describe, it, expect, beforeAll, afterAll },
  {
    name: 'redis cluster (3 masters)',
    create: ({ namespace, options }) =>
      new RedisBytecodeCache({ client: shared, prefix: `t/${namespace}/`, ...options }),
    features: { clear: true, isolation: true, sync: false },
  },
);

describe('Redis Cluster specifics', () => {
  const env = testEnvironment('redis-cluster');
  const run = Date.now().toString(36);

  it('computes the same key slot as the server, hash tags included', async () => {
    const keys = [
      '',
      'a',
      'bcc/0123abcd',
      'ünïcødé/模板',
      '{user1000}.following',
      'foo{}{bar}',
      'foo{{bar}}zap',
      '{}x',
      'a{b',
    ];
    for (const key of keys) {
      expect(keySlot(key), key).toBe(await shared.cluster('KEYSLOT', key));
    }
  });

  it('loadMany fetches entries spread over every master and fills each bucket with its own entry', async () => {
    const cache = new RedisBytecodeCache({ client: shared, prefix: `many-${run}/` });
    const names = Array.from({ length: 60 }, (_, i) => `p${i}.html`);
    for (const name of names.slice(0, 40)) {
      const bucket = cache.createBucket(env, name, null, 'src');
      bucket.code = makeCode(name, 500);
      await cache.setBucket(bucket);
    }
    const masters = new Set(
      names.map((n) => shared.slots[keySlot(cache.keyFor(cache.getCacheKey(n, null, env.fingerprint)))]?.[0]),
    );
    expect(masters.size).toBe(3);
    const buckets = names.map((n) => cache.createBucket(env, n, null, 'src'));
    await cache.loadBuckets(buckets);
    for (const [i, bucket] of buckets.entries()) {
      if (i < 40) expect(bucket.code?.js).toBe(makeCode(names[i]!, 500).js);
      else expect(bucket.code).toBeNull();
    }
    expect(cache.stats.errors).toBe(0);
  });

  it('clear() scans every master and honours the cluster keyPrefix', async () => {
    const prefixed = connect({ keyPrefix: `app-${run}:` });
    const cache = new RedisBytecodeCache({ client: prefixed, prefix: 'bcc/' });
    const other = new RedisBytecodeCache({ client: prefixed, prefix: 'bcc-other/' });
    for (let i = 0; i < 30; i++) {
      for (const c of [cache, other]) {
        const bucket = c.createBucket(env, `c${i}.html`, null, 'src');
        bucket.code = makeCode(`c${i}`, 200);
        await c.setBucket(bucket);
      }
    }
    const count = async (pattern: string) => {
      let total = 0;
      for (const node of nodes) {
        const direct = new Redis(node.port, node.host);
        const [, keys] = await direct.scan('0', 'MATCH', pattern, 'COUNT', 10_000);
        total += keys.length;
        await direct.quit();
      }
      return total;
    };
    expect(await count(`app-${run}:bcc/*`)).toBe(30);
    await cache.clear();
    expect(await count(`app-${run}:bcc/*`)).toBe(0);
    expect(await count(`app-${run}:bcc-other/*`)).toBe(30);
    expect(cache.stats.errors).toBe(0);
    await other.clear();
    expect(await count(`app-${run}:bcc-other/*`)).toBe(0);
  });

  // Last: it takes a master down for good.
  it('a master that dies: every call on its keys settles within the timeout, as a miss or a skipped write', async () => {
    if (!cluster) return; // never shut down a node of a cluster we did not start
    const errors: Error[] = [];
    const cache = new RedisBytecodeCache({
      client: shared,
      prefix: `dead-${run}/`,
      breaker: false,
      onError: (e) => errors.push(e),
    });
    const names = Array.from({ length: 30 }, (_, i) => `d${i}.html`);
    for (const name of names) {
      const bucket = cache.createBucket(env, name, null, 'src');
      bucket.code = makeCode(name, 300);
      await cache.setBucket(bucket);
    }
    const victim = nodes[0]!;
    const onVictim = names.filter(
      (n) =>
        shared.slots[keySlot(cache.keyFor(cache.getCacheKey(n, null, env.fingerprint)))]?.[0] ===
        `${victim.host}:${victim.port}`,
    );
    expect(onVictim.length).toBeGreaterThan(0);
    onVictim.splice(3);
    // redis-cli rather than an ioredis client, which would retry SHUTDOWN on the lost connection.
    await exec('redis-cli', ['-h', victim.host, '-p', String(victim.port), 'SHUTDOWN', 'NOSAVE']).catch(
      () => {},
    );

    const settles = <T>(promise: Promise<T>) =>
      Promise.race([
        promise,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('hung')), 5000)),
      ]);
    for (const name of onVictim) {
      expect((await settles(cache.getBucket(env, name, null, 'src'))).code).toBeNull();
      const bucket = cache.createBucket(env, name, null, 'src');
      bucket.code = makeCode(name, 300);
      await settles(cache.setBucket(bucket));
    }
    await settles(cache.loadBuckets(names.map((n) => cache.createBucket(env, n, null, 'src'))));
    await settles(cache.clear());
    expect(errors.length).toBeGreaterThanOrEqual(onVictim.length * 2);
    expect(errors.every((e) => (e as { code?: string }).code === 'ERR_BCC_BACKEND')).toBe(true);
  });
});
