import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { Bucket } from '@bcc/core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RedisBytecodeCache } from '../src/index.js';
import { respTarget } from '../src/resp-reader.js';

// Reads of a cache made from a plain redis:// URL go over a RESP connection of the cache's own
// (src/resp-reader.ts), so a warm process never imports ioredis. Checked against the real
// redis-server (same bytes as ioredis reads, AUTH, SELECT) and against loopback servers that
// misbehave on purpose (a huge reply, silence, a reply cut off, garbage).

const url = inject('redisUrl');
const closers: (() => unknown)[] = [];
let redis: Redis;

beforeAll(() => {
  redis = new Redis(url);
  closers.push(() => redis.quit());
});

afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

function cacheFor(options: ConstructorParameters<typeof RedisBytecodeCache>[0]) {
  const cache = new RedisBytecodeCache(options);
  closers.push(() => cache.close());
  return cache;
}

describe('reads without ioredis', () => {
  it('reads exactly the bytes ioredis reads, small, empty and large (many chunks)', async () => {
    const prefix = `fast/${Date.now()}/`;
    const cache = cacheFor({ url, prefix, maxEntrySize: 8 * 1024 * 1024 });
    const values: Record<string, Buffer> = {
      one: Buffer.from([0]),
      crlf: Buffer.from('\r\n$5\r\n*1\r\n-ERR not really\r\n'),
      mid: randomBytes(100_000),
      large: randomBytes(3 * 1024 * 1024),
    };
    for (const [key, value] of Object.entries(values)) await redis.set(prefix + key, value);
    // Pipelined: all asked before any reply is read.
    const read = await Promise.all(Object.keys(values).map((key) => cache.readEntry(key)));
    for (const [i, [key, value]] of Object.entries(values).entries()) {
      expect(Buffer.compare(Buffer.from(read[i]!), value), key).toBe(0);
      expect(Buffer.compare(await redis.getrangeBuffer(prefix + key, 0, -1), value)).toBe(0);
    }
    expect(await cache.readEntry('missing')).toBeUndefined();
  });

  it('bounds a read by maxEntrySize: a larger value is refused, not received', async () => {
    const prefix = `fast-bound/${Date.now()}/`;
    const errors: Error[] = [];
    const cache = cacheFor({ url, prefix, maxEntrySize: 1000, onError: (e) => errors.push(e) });
    const env = { fingerprint: 'bound' };
    const bucket = cache.createBucket(env, 'big.html', null, 'src');
    await redis.set(prefix + bucket.key, randomBytes(50_000));
    expect((await cache.readEntry(bucket.key))?.length).toBe(1001);
    const loaded = await cache.getBucket(env, 'big.html', null, 'src');
    expect(loaded.code).toBeNull();
    expect(errors.map((e) => e.name)).toContain('BccEntryTooLargeError');
  });

  it('authenticates (AUTH user password) and selects the database from the URL', async () => {
    const user = `bcc-reader-${process.pid}`;
    const password = 'p@ss word/with:colons';
    await redis.call('ACL', 'SETUSER', user, 'on', `>${password}`, '~*', '+@all');
    closers.push(() => redis.call('ACL', 'DELUSER', user));
    const base = new URL(url);
    const prefix = `fast-auth/${Date.now()}/`;
    const db5 = new Redis(`${url.replace(/\/\d*$/, '')}/5`);
    closers.push(() => db5.quit());
    await db5.set(`${prefix}k`, 'in db 5');
    await redis.set(`${prefix}k`, 'in db 0');

    const authed = new URL(base.href);
    authed.username = encodeURIComponent(user);
    authed.password = encodeURIComponent(password);
    authed.pathname = '/5';
    const cache = cacheFor({ url: authed.href, prefix });
    expect(Buffer.from((await cache.readEntry('k'))!).toString()).toBe('in db 5');

    authed.password = 'wrong';
    authed.pathname = '/0';
    const refused = cacheFor({ url: authed.href, prefix, commandTimeout: 2000 });
    const error = await refused.readEntry('k').then(
      () => null,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(/WRONGPASS|invalid username-password/);
    expect(error?.message).not.toContain('wrong');
  });

  it('leaves ioredis unloaded in a process that only reads', async () => {
    const prefix = `fast-proc/${Date.now()}/`;
    const writer = cacheFor({ url, prefix });
    const env = { fingerprint: 'proc' };
    const bucket = writer.createBucket(env, 'page.html', null, 'source');
    bucket.code = { js: '(function () { return 42; })' };
    await writer.setBucket(bucket);
    const dist = new URL('../dist/bcc-redis.js', import.meta.url).href;
    const out = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { createRequire } from 'node:module';
         const { RedisBytecodeCache } = await import(${JSON.stringify(dist)});
         const cache = new RedisBytecodeCache({ url: ${JSON.stringify(url)}, prefix: ${JSON.stringify(prefix)} });
         const bucket = await cache.getBucket({ fingerprint: 'proc' }, 'page.html', null, 'source');
         const ioredis = Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes('ioredis'));
         await cache.close();
         console.log(JSON.stringify({ js: bucket.code?.js ?? null, ioredis: ioredis.length, store: cache.storeName }));`,
      ],
      { encoding: 'utf8', timeout: 20_000 },
    );
    const report = JSON.parse(out) as { js: string | null; ioredis: number; store: string };
    expect(report.js).toBe('(function () { return 42; })');
    expect(report.ioredis).toBe(0);
    expect(report.store).toMatch(/^redis 127\.0\.0\.1:\d+\/0 \(prefix fast-proc\//);
  });

  it('goes through ioredis for TLS, ioredis options and fastReads: false', () => {
    expect(respTarget('rediss://127.0.0.1:6380')).toBeNull();
    expect(respTarget('redis://127.0.0.1:6379/x')).toBeNull();
    expect(respTarget('redis://127.0.0.1:6379/2')).toMatchObject({ port: 6379, db: 2 });
    expect(respTarget('redis://[::1]:7000')).toMatchObject({ host: '::1', port: 7000 });
    for (const options of [{ options: { lazyConnect: true } }, { fastReads: false }]) {
      const cache = cacheFor({ url, ...options });
      // The ioredis client exists from the start: nothing is read without it.
      expect(cache.client.status).not.toBe('end');
    }
  });
});

/**
 * A loopback server that answers each connection with `script(socket, connection)`; counts
 * connections, so a test sees the reader connect again after a failure.
 */
async function fakeRedis(script: (socket: Socket, connection: number) => void) {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    script(socket, ++connections);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return { url: `redis://127.0.0.1:${port}`, connections: () => connections, sockets };
}

/** Answers every GETRANGE with `value` (a well-behaved server). */
function answer(socket: Socket, value: Buffer) {
  socket.on('data', (data) => {
    const commands = data.toString('latin1').split('GETRANGE').length - 1;
    for (let i = 0; i < commands; i++) {
      socket.write(Buffer.concat([Buffer.from(`$${value.length}\r\n`), value, Buffer.from('\r\n')]));
    }
  });
}

const settle = (promise: Promise<unknown>) =>
  promise.then(
    (value) => ({ value, error: null as Error | null }),
    (error: Error) => ({ value: undefined, error }),
  );

describe('a misbehaving server', () => {
  it('a reply larger than asked for is refused from its header, and the next read connects again', async () => {
    const server = await fakeRedis((socket, n) => {
      if (n === 1) socket.once('data', () => socket.write('$99999999999\r\n'));
      else answer(socket, Buffer.from('fine'));
    });
    const cache = cacheFor({ url: server.url, maxEntrySize: 1000, breaker: false });
    const first = await settle(cache.readEntry('k'));
    expect(first.error?.message).toMatch(
      /unexpected a reply of 99999999999 bytes, more than the 1001 asked for/,
    );
    expect(Buffer.from((await cache.readEntry('k')) as Uint8Array).toString()).toBe('fine');
    expect(server.connections()).toBe(2);
  });

  it('silence is a timeout after commandTimeout, and the connection is dropped', async () => {
    // Reads what it is sent (so it sees the client go away) and never answers.
    const server = await fakeRedis((socket) => socket.resume());
    const cache = cacheFor({ url: server.url, commandTimeout: 150, breaker: false });
    const started = Date.now();
    const result = await settle(cache.readEntry('k'));
    expect(result.error?.message).toMatch(/timed out after 150 ms/);
    expect(Date.now() - started).toBeLessThan(2000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.sockets.size).toBe(0);
  });

  it('a reply cut off by a restart fails that read only; the next one connects again and hits', async () => {
    const server = await fakeRedis((socket, n) => {
      if (n === 1) socket.once('data', () => socket.end('$10\r\nabc'));
      else answer(socket, Buffer.from('0123456789'));
    });
    const cache = cacheFor({ url: server.url, breaker: false });
    const first = await settle(cache.readEntry('k'));
    expect(first.error?.message).toMatch(/connection to Redis closed/);
    expect(Buffer.from((await cache.readEntry('k')) as Uint8Array).toString()).toBe('0123456789');
  });

  it('garbage and replies nobody asked for drop the connection with a clear error', async () => {
    const server = await fakeRedis((socket, n) => {
      if (n === 1) socket.once('data', () => socket.write('!nonsense\r\n'));
      else if (n === 2) socket.once('data', () => socket.write('$2\r\nok\r\n$3\r\nwho\r\n'));
      else answer(socket, Buffer.from('ok'));
    });
    const cache = cacheFor({ url: server.url, breaker: false });
    expect((await settle(cache.readEntry('k'))).error?.message).toMatch(/unexpected a reply of type "!"/);
    // Two replies to one read: the first answers it, the second belongs to no command, so the
    // connection is dropped rather than kept out of step; the next read connects again.
    expect(Buffer.from((await cache.readEntry('k')) as Uint8Array).toString()).toBe('ok');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.connections()).toBe(2);
    expect(Buffer.from((await cache.readEntry('k')) as Uint8Array).toString()).toBe('ok');
    expect(server.connections()).toBe(3);
  });

  it('a reply dripping in byte by byte, and two replies in one packet, are read correctly', async () => {
    const value = randomBytes(3000);
    const server = await fakeRedis((socket) => {
      let asked = 0;
      socket.on('data', (data) => {
        asked += data.toString('latin1').split('GETRANGE').length - 1;
        if (asked < 3) return;
        const reply = Buffer.concat([Buffer.from(`$${value.length}\r\n`), value, Buffer.from('\r\n')]);
        // The first reply a byte at a time; the other two together in one write.
        let i = 0;
        const drip = () => {
          if (i < reply.length) {
            socket.write(reply.subarray(i, i + 1));
            i++;
            setImmediate(drip);
          } else {
            socket.write(Buffer.concat([reply, Buffer.from('$-1\r\n')]));
          }
        };
        drip();
      });
    });
    const cache = cacheFor({ url: server.url, commandTimeout: 20_000, breaker: false });
    const [a, b, c] = await Promise.all([cache.readEntry('a'), cache.readEntry('b'), cache.readEntry('c')]);
    expect(Buffer.compare(Buffer.from(a as Uint8Array), value)).toBe(0);
    expect(Buffer.compare(Buffer.from(b as Uint8Array), value)).toBe(0);
    expect(c).toBeUndefined();
  });
});

describe('replies split anywhere', () => {
  it('reads 200 pipelined replies of mixed sizes, cut into random pieces, in order', async () => {
    // A seeded generator: the same cuts every run, and a failure can be replayed.
    let seed = 0x2545f491;
    const random = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 2 ** 32;
    };
    const values = Array.from({ length: 200 }, (_, i) => {
      if (i % 17 === 0) return null; // a missing key
      const size = i % 9 === 0 ? Math.floor(random() * 300_000) : Math.floor(random() * 3000);
      return Buffer.from(Array.from({ length: size }, () => Math.floor(random() * 256)));
    });
    const stream = Buffer.concat(
      values.map((value) =>
        value === null
          ? Buffer.from('$-1\r\n')
          : Buffer.concat([Buffer.from(`$${value.length}\r\n`), value, Buffer.from('\r\n')]),
      ),
    );
    const server = await fakeRedis((socket) => {
      let asked = 0;
      socket.on('data', (data) => {
        asked += data.toString('latin1').split('GETRANGE').length - 1;
        if (asked < values.length) return;
        // Every reply cut at random places, pieces of 1 byte to 70 KB, written one by one.
        let at = 0;
        const next = () => {
          if (at >= stream.length) return;
          const size = 1 + Math.floor(random() ** 3 * 70_000);
          socket.write(stream.subarray(at, at + size));
          at += size;
          setImmediate(next);
        };
        next();
      });
    });
    const cache = cacheFor({ url: server.url, commandTimeout: 30_000, breaker: false });
    const read = await Promise.all(values.map((_, i) => cache.readEntry(`k${i}`)));
    for (const [i, value] of values.entries()) {
      if (value === null || value.length === 0) expect(read[i], `reply ${i}`).toBeUndefined();
      else expect(Buffer.compare(Buffer.from(read[i] as Uint8Array), value), `reply ${i}`).toBe(0);
    }
  });
});

describe('the bucket a fast read fills', () => {
  it('is the same entry ioredis reads', async () => {
    const prefix = `fast-bucket/${Date.now()}/`;
    const fast = cacheFor({ url, prefix });
    const slow = cacheFor({ url, prefix, fastReads: false });
    const env = { fingerprint: 'same' };
    const bucket = fast.createBucket(env, 'a.html', null, 'src');
    bucket.code = { js: '(function () { return "ü"; })', v8: Uint8Array.of(1, 2, 3) };
    await fast.setBucket(bucket);
    const viaFast = await fast.getBucket(env, 'a.html', null, 'src');
    const viaSlow = await slow.getBucket(env, 'a.html', null, 'src');
    expect(viaFast.code?.js).toBe(bucket.code.js);
    expect(viaFast.code?.js).toBe(viaSlow.code?.js);
    expect(viaFast).toBeInstanceOf(Bucket);
  });
});
