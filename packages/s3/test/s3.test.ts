import { type AddressInfo, createServer, type Socket } from 'node:net';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { type BytecodeCache, createBytecodeCache } from '@bcc/core';
import { TEST_S3_CREDENTIALS } from '@bcc/test-servers';
import { makeCode, runFaultSuite, testEnvironment } from '@bcc/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFromUrl, S3BytecodeCache } from '../src/index.js';
import { external, type S3Fixture, startS3 } from './server.js';

const env = testEnvironment('s3-test');
let s3: S3Fixture;

beforeAll(async () => {
  s3 = await startS3();
});
afterAll(async () => {
  await s3?.stop();
});

async function store(cache: BytecodeCache, name: string, seed = name, bytes = 600) {
  const bucket = cache.createBucket(env, name, null, 'src');
  bucket.code = makeCode(seed, bytes);
  await cache.setBucket(bucket);
  return bucket;
}
const load = (cache: BytecodeCache, name: string) => cache.getBucket(env, name, null, 'src');

/** Counts the commands a client sends, by name, and the most in flight at once. */
function watch(client: S3Client) {
  const sent: Record<string, number> = {};
  const inFlight = { now: 0, max: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? '?';
      sent[name] = (sent[name] ?? 0) + 1;
      inFlight.max = Math.max(inFlight.max, ++inFlight.now);
      try {
        return await next(args);
      } finally {
        inFlight.now--;
      }
    },
    { step: 'initialize', name: 'bccWatch' },
  );
  return { sent, inFlight };
}

async function countObjects(client: S3Client, prefix: string): Promise<number> {
  let count = 0;
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix, ContinuationToken: token }),
    );
    count += page.KeyCount ?? 0;
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return count;
}

describe('S3BytecodeCache', () => {
  it('stores each entry as one object <prefix><key> holding the frame', async () => {
    const cache = s3.cache({ prefix: 'layout/' });
    const bucket = await store(cache, 'page.html');
    expect(await countObjects(cache.client, 'layout/')).toBe(1);
    expect(cache.objectKey(bucket.key)).toBe(`layout/${bucket.key}`);
    expect(cache.stats.bytesWritten).toBe(bucket.bytecodeToBytes().length);
  });

  it('clear() pages through more than 1,000 objects and deletes them in chunks of at most 1,000', async () => {
    const cache = s3.cache({ prefix: 'big/' });
    const neighbour = s3.cache({ prefix: 'big-neighbour/' });
    const kept = await store(neighbour, 'kept.html');
    const total = 1_050;
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < total) {
          const i = next++;
          const bucket = cache.createBucket(env, `t${i}.html`, null, 'src');
          bucket.code = { js: `(function(){ return ${i}; })` };
          await cache.dumpBytecode(bucket);
        }
      }),
    );
    expect(await countObjects(cache.client, 'big/')).toBe(total);

    const { sent } = watch(cache.client);
    await cache.clear();
    expect(await countObjects(cache.client, 'big/')).toBe(0);
    expect(sent.ListObjectsV2Command).toBeGreaterThanOrEqual(2);
    expect(sent.DeleteObjectsCommand).toBeGreaterThanOrEqual(2);
    expect((await load(neighbour, 'kept.html')).code?.js).toBe(kept.code!.js);
    await cache.clear(); // nothing left: a no-op, not an error
  }, 120_000);

  it('loadMany keeps at most `concurrency` GETs in flight and fills hits only', async () => {
    const cache = s3.cache({ prefix: 'many/', concurrency: 3 });
    for (let i = 0; i < 12; i += 3) await store(cache, `m${i}.html`);
    const { inFlight } = watch(cache.client);
    const buckets = Array.from({ length: 12 }, (_, i) => cache.createBucket(env, `m${i}.html`, null, 'src'));
    await cache.loadBuckets(buckets);
    expect(buckets.map((b) => b.code !== null)).toEqual(Array.from({ length: 12 }, (_, i) => i % 3 === 0));
    expect(inFlight.max).toBeLessThanOrEqual(3);
    expect(inFlight.max).toBeGreaterThan(1);
  });

  it('releases the connection after every load: hits, misses and corrupt objects through a single socket', async () => {
    const cache = s3.cache({
      prefix: 'sockets/',
      clientConfig: {
        endpoint: s3.endpoint,
        region: 'us-east-1',
        credentials: { ...TEST_S3_CREDENTIALS },
        requestHandler: { httpAgent: { maxSockets: 1 }, requestTimeout: 2000, throwOnRequestTimeout: true },
      },
      operationTimeout: 3000,
    });
    const errors: Error[] = [];
    const watcher = new S3BytecodeCache({
      bucket: s3.bucket,
      client: cache.client,
      prefix: 'sockets/',
      onError: (e) => errors.push(e),
    });
    const good = await store(cache, 'good.html', 'good', 50_000);
    const corrupt = cache.createBucket(env, 'corrupt.html', null, 'src');
    await cache.client.send(
      new PutObjectCommand({
        Bucket: s3.bucket,
        Key: cache.objectKey(corrupt.key),
        Body: Buffer.alloc(40_000, 7),
      }),
    );
    for (let round = 0; round < 5; round++) {
      expect((await load(watcher, 'good.html')).code?.js).toBe(good.code!.js);
      expect((await load(watcher, 'absent.html')).code).toBeNull();
      expect((await load(watcher, 'corrupt.html')).code).toBeNull();
    }
    // A leaked body would hold the only socket: the next request would time out and be reported.
    expect(errors).toEqual([]);
    expect(watcher.stats.rejected.magic).toBe(5);
  });

  it('a 403 (refused credentials) is a miss reported through onError, never a hit', async () => {
    const errors: Error[] = [];
    const writer = s3.cache({ prefix: 'denied/' });
    await store(writer, 'page.html');
    const denied = s3.cache({
      prefix: 'denied/',
      breaker: false,
      clientConfig: {
        endpoint: s3.endpoint,
        region: 'us-east-1',
        // s3rver does not check SigV4 signatures, only that the access key exists.
        credentials: { accessKeyId: 'NOT-A-KNOWN-KEY', secretAccessKey: 'not-the-secret' },
      },
      onError: (e) => errors.push(e),
    });
    expect((await load(denied, 'page.html')).code).toBeNull();
    expect((await load(denied, 'absent.html')).code).toBeNull();
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatchObject({ code: 'ERR_BCC_BACKEND', backend: 's3', operation: 'load' });
    expect(errors[0]!.message).toMatch(/HTTP 403.*s3:ListBucket/);
    expect(errors[0]!.message).not.toContain('not-the-secret');
  });

  it('a missing bucket is reported (not taken for a miss of every key)', async () => {
    const errors: Error[] = [];
    const cache = s3.cache({ bucket: 'no-such-bucket-here', onError: (e) => errors.push(e) });
    expect((await load(cache, 'page.html')).code).toBeNull();
    expect(errors[0]?.message).toMatch(/bucket "no-such-bucket-here" does not exist/);
  });

  it('a body that stalls after the headers: a miss after requestTimeout, not the whole-operation deadline', async () => {
    // A loopback HTTP server that answers GetObject with headers and 10 of 1,000 promised bytes.
    const sockets = new Set<Socket>();
    const stalling = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.once('data', () => {
        socket.write(
          'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\n',
        );
        socket.write(Buffer.from('bcc\x01\x00stall'));
      });
    });
    await new Promise<void>((resolve) => stalling.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(stalling.address() as AddressInfo).port}`;
    try {
      const errors: Error[] = [];
      const cache = new S3BytecodeCache({
        bucket: 'stall',
        clientConfig: { endpoint, credentials: { ...TEST_S3_CREDENTIALS }, maxAttempts: 1 },
        requestTimeout: 200,
        operationTimeout: 10_000,
        onError: (e) => errors.push(e),
      });
      // Without the idle timer this load waits for operationTimeout (10 s), past this test's timeout.
      expect((await load(cache, 'page.html')).code).toBeNull();
      expect(errors).toHaveLength(1);
      expect(String((errors[0]!.cause as Error | undefined)?.message ?? errors[0]!.message)).toMatch(
        /stalled|time/i,
      );
      await cache.close();
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => stalling.close(resolve));
    }
  }, 5_000);

  it('a server that accepts connections but never answers: a miss after the timeouts, reported', async () => {
    // A loopback TCP server that reads requests and never replies: a hung S3 endpoint.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      const errors: Error[] = [];
      const own = new S3BytecodeCache({
        bucket: 'hung',
        clientConfig: { endpoint, credentials: { ...TEST_S3_CREDENTIALS }, maxAttempts: 1 },
        requestTimeout: 300,
        onError: (e) => errors.push(e),
      });
      // A client made elsewhere, with no timeouts of its own: the per-call deadline still applies.
      const foreignClient = new S3Client({
        endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { ...TEST_S3_CREDENTIALS },
      });
      const foreign = new S3BytecodeCache({
        bucket: 'hung',
        client: foreignClient,
        operationTimeout: 400,
        onError: (e) => errors.push(e),
      });
      expect((await load(own, 'page.html')).code).toBeNull();
      expect((await load(foreign, 'page.html')).code).toBeNull();
      expect(errors).toHaveLength(2);
      expect(errors[0]!.message).toMatch(/no answer in time/);
      expect(errors[1]!.message).toMatch(/no answer in time/);
      await own.close();
      foreignClient.destroy();
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

// Needs a server of our own to kill: skipped against BCC_TEST_S3_ENDPOINT. s3rver keeps its
// objects on disk and S3 is plain HTTP, so the first call after start() must already hit.
if (!external) {
  runFaultSuite(
    { describe, it, expect, beforeAll, afterAll },
    {
      name: 's3',
      server: { kill: () => s3.server!.kill(), start: () => s3.server!.start() },
      create: ({ namespace, options }) =>
        s3.cache({ prefix: `faults/${namespace}/`, operationTimeout: 3000, ...options }),
      backend: 's3',
      features: { resumesAtOnce: true, durable: true },
    },
  );
}

describe('createFromUrl (s3: URLs through createBytecodeCache)', () => {
  const schemes = { 's3:': createFromUrl };

  it('takes the bucket from the host and the prefix from the path, and talks to the endpoint', async () => {
    const previous = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID ??= TEST_S3_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY ??= TEST_S3_CREDENTIALS.secretAccessKey;
    try {
      const cache = (await createBytecodeCache(
        `s3://${s3.bucket}/from-url/app/?endpoint=${encodeURIComponent(s3.endpoint)}&region=us-east-1&requestTimeout=1500`,
        { schemes, secret: 'k' },
      )) as S3BytecodeCache;
      expect(cache).toBeInstanceOf(S3BytecodeCache);
      expect([cache.bucket, cache.prefix]).toEqual([s3.bucket, 'from-url/app/']);
      expect(await cache.client.config.forcePathStyle).toBe(true);
      const written = await store(cache, 'page.html');
      expect(written.signed).toBe(true);
      expect((await load(cache, 'page.html')).code?.js).toBe(written.code!.js);
      expect(await countObjects(cache.client, 'from-url/app/')).toBe(1);
      await cache.close();
    } finally {
      if (previous.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      if (previous.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
    }
  });

  it('defaults the prefix to bcc/ and honours forcePathStyle=false', async () => {
    const cache = (await createBytecodeCache('s3://my-bucket?region=eu-west-1&forcePathStyle=false', {
      schemes,
    })) as S3BytecodeCache;
    expect(cache.prefix).toBe('bcc/');
    expect(await cache.client.config.region()).toBe('eu-west-1');
    expect(await cache.client.config.forcePathStyle).toBe(false);
    await cache.close();
  });

  it.each([
    ['s3://AKIA:hunter2@bucket/p', /s3: URLs take no credentials/],
    ['s3://bucket:9000/p', /without a port/],
    ['s3://bucket/p?endpoint=ftp://x', /option "endpoint" .* must be an http:\/\/ or https:\/\/ URL/],
    ['s3://bucket/p?forcePathStyle=maybe', /option "forcePathStyle" .* must be true or false, got "maybe"/],
    ['s3://bucket/p?requestTimeout=0', /option "requestTimeout" .* whole number of milliseconds/],
    [
      's3://bucket/p?regoin=eu-west-1',
      /unknown option "regoin" .*\(known: region, endpoint, forcePathStyle, requestTimeout\)/,
    ],
  ])('%s is a BccConfigError naming the bad part', async (spec, message) => {
    const error = await createBytecodeCache(spec, { schemes }).catch((e: unknown) => e as Error);
    expect(error).toMatchObject({ code: 'ERR_BCC_CONFIG' });
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('hunter2');
  });
});

describe('what a hostile or careless configuration cannot do', () => {
  it('an empty prefix is refused: clear() must never empty the whole bucket', async () => {
    const other = s3.cache({ prefix: 'other-app/' });
    await store(other, 'theirs.html');
    expect(() => s3.cache({ prefix: '' })).toThrow(/empty prefix would empty the whole bucket/);
    await expect(
      createBytecodeCache(`s3://${s3.bucket}/?endpoint=${encodeURIComponent(s3.endpoint)}`),
    ).resolves.toBeDefined();
    expect(await countObjects(other.client, 'other-app/')).toBe(1);
  });

  it('an object far larger than any entry at a bcc key is a bounded miss, not a download', async () => {
    const errors: Error[] = [];
    const cache = s3.cache({ prefix: 'huge/', maxEntrySize: 64 * 1024, onError: (e) => errors.push(e) });
    const small = await store(cache, 'small.html');
    const big = cache.createBucket(env, 'big.html', null, 'src');
    await cache.client.send(
      new PutObjectCommand({
        Bucket: s3.bucket,
        Key: cache.objectKey(big.key),
        Body: Buffer.alloc(8 * 1024 * 1024, 1),
      }),
    );
    expect((await load(cache, 'big.html')).code).toBeNull();
    expect((await load(cache, 'small.html')).code?.js).toBe(small.code!.js);
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual(['ERR_BCC_ENTRY_TOO_LARGE']);
    expect(errors[0]!.message).toMatch(/8388608 bytes or more, larger than maxEntrySize \(65536\)/);
  });

  it.each([
    [{ requestTimeout: 2 ** 31 }, /requestTimeout must be a whole number from 1 to 2147483647/],
    [{ operationTimeout: 0 }, /operationTimeout must be/],
    [{ maxEntrySize: -1 }, /maxEntrySize must be/],
    [{ client: {} as S3Client, clientConfig: undefined }, /client must be an S3Client/],
  ])('%j is a BccConfigError', (options, message) => {
    expect(() => s3.cache(options as never)).toThrow(message);
  });
});
