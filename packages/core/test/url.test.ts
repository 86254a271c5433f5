// createBytecodeCache(url) with core's own memory: scheme and adapters given as factories. The
// real adapter packages (file:, redis:, memcached:, s3:) are parsed in examples/tiered-config,
// which depends on them; core cannot without a dependency cycle.
import { describe, expect, it } from 'vitest';
import type { BytecodeCache } from '../src/cache.js';
import { isDisabledCache } from '../src/disabled.js';
import { MemoryBytecodeCache } from '../src/memory.js';
import { TieredBytecodeCache } from '../src/tiered.js';
import {
  type CacheUrlContext,
  type CreateFromUrl,
  createBytecodeCache,
  createBytecodeCacheFromEnv,
  redactCacheUrl,
} from '../src/url.js';

const env = { fingerprint: 'url-test' };

/** A factory that records what it was given and reads the options a network adapter would. */
function recording() {
  const calls: { url: URL; context: CacheUrlContext }[] = [];
  const factory: CreateFromUrl = (url, context) => {
    calls.push({ url, context });
    context.params.string('prefix');
    context.params.integer('ttl', { unit: 'seconds' });
    return new MemoryBytecodeCache(context.options);
  };
  return { calls, factory };
}

async function configError(spec: Parameters<typeof createBytecodeCache>[0], options = {}) {
  const error = await createBytecodeCache(spec, options).then(
    (cache) => {
      throw new Error(`expected an error, got ${cache.backendName}`);
    },
    (e: unknown) => e as Error & { code: string },
  );
  return error;
}

describe('createBytecodeCache: memory:', () => {
  it('makes a memory cache, with maxBytes in bytes or binary units', async () => {
    const plain = (await createBytecodeCache('memory:')) as MemoryBytecodeCache;
    expect(plain).toBeInstanceOf(MemoryBytecodeCache);
    expect(plain.maxBytes).toBe(64 * 1024 * 1024);
    expect(((await createBytecodeCache('memory:?maxBytes=4096')) as MemoryBytecodeCache).maxBytes).toBe(4096);
    expect(((await createBytecodeCache('MEMORY:?maxBytes=32m')) as MemoryBytecodeCache).maxBytes).toBe(
      32 * 1024 ** 2,
    );
    expect(((await createBytecodeCache('memory:?maxBytes=512KiB')) as MemoryBytecodeCache).maxBytes).toBe(
      512 * 1024,
    );
  });

  it.each([
    [
      'memory:?maxBytes=lots',
      /option "maxBytes" in memory:\?maxBytes=lots must be a positive byte count.*got "lots"/,
    ],
    ['memory:?maxBytes=0', /"maxBytes".*got "0"/],
    ['memory:?maxBytes=1.5m', /"maxBytes".*got "1.5m"/],
    ['memory:?maxBytes=1&maxBytes=2', /"maxBytes" is given 2 times/],
    ['memory:?maxbytes=1', /unknown option "maxbytes" in memory:\?maxbytes=1 \(known: maxBytes\)/],
    ['memory://somewhere', /memory: takes no host or path/],
    ['memory:oops', /malformed cache URL "memory:oops"/],
  ])('%s is a BccConfigError naming the bad part', async (spec, message) => {
    const error = await configError(spec);
    expect(error.code).toBe('ERR_BCC_CONFIG');
    expect(error.message).toMatch(message);
  });
});

describe('createBytecodeCache: lists and tiers', () => {
  it('a comma-separated string makes a tiered cache, fastest first', async () => {
    const { calls, factory } = recording();
    const cache = await createBytecodeCache('memory:?maxBytes=1m, store://one?prefix=a/ ,store://two', {
      schemes: { store: factory },
    });
    expect(cache).toBeInstanceOf(TieredBytecodeCache);
    const tiers = (cache as TieredBytecodeCache).tiers;
    expect(tiers).toHaveLength(3);
    expect((tiers[0] as MemoryBytecodeCache).maxBytes).toBe(1024 * 1024);
    expect(calls.map((c) => c.url.hostname)).toEqual(['one', 'two']);
    expect(calls[0]!.context.params.string('prefix')).toBe('a/');
  });

  it('an array makes the same, and a one-element list is just that cache', async () => {
    const cache = await createBytecodeCache(['memory:', new URL('memory:?maxBytes=2048')]);
    expect((cache as TieredBytecodeCache).tiers.map((t) => (t as MemoryBytecodeCache).maxBytes)).toEqual([
      64 * 1024 * 1024,
      2048,
    ]);
    expect(await createBytecodeCache(['memory:'])).toBeInstanceOf(MemoryBytecodeCache);
  });

  it('keeps the commas between memcached hosts inside one URL', async () => {
    const { calls, factory } = recording();
    const cache = await createBytecodeCache(
      'memory:,memcached://a.example:11211,b.example:11212,[::1]?prefix=x/,memory:',
      {
        schemes: { 'memcached:': factory },
      },
    );
    expect((cache as TieredBytecodeCache).tiers).toHaveLength(3);
    expect(calls).toHaveLength(1);
    const { url, context } = calls[0]!;
    expect(context.hosts).toEqual([
      { host: 'a.example', port: 11211 },
      { host: 'b.example', port: 11212 },
      { host: '::1', port: undefined },
    ]);
    expect(url.hostname).toBe('a.example');
    expect(url.searchParams.get('prefix')).toBe('x/');
  });

  it('passes secret, ignoreErrors and onError to every tier and to the tiered cache', async () => {
    const { calls, factory } = recording();
    const onError = () => {};
    const cache = await createBytecodeCache('memory:,store://x', {
      schemes: { store: factory },
      secret: 'k',
      ignoreErrors: false,
      onError,
    });
    expect(calls[0]!.context.options).toEqual({ secret: 'k', ignoreErrors: false, onError });
    expect(cache.createBucket(env, 'a', null, 's').signed).toBe(true);
    await expect(cache.getBucket(env, 'a', null, 's')).resolves.toMatchObject({ code: null });
  });

  it('tells the factory whether the URL was bare (file: alone means the default directory)', async () => {
    const { calls, factory } = recording();
    await createBytecodeCache('file:,file:?prefix=p,file:///var/cache/bcc,file:/tmp/x', {
      schemes: { file: factory },
    });
    expect(calls.map((c) => [c.context.bare, c.url.pathname])).toEqual([
      [true, '/'],
      [true, '/'],
      [false, '/var/cache/bcc'],
      [false, '/tmp/x'],
    ]);
  });

  it('closes the caches it already made when a later URL is bad', async () => {
    const closed: string[] = [];
    const factory: CreateFromUrl = (url) => {
      const cache = new MemoryBytecodeCache();
      cache.close = async () => {
        closed.push(url.hostname);
      };
      return cache;
    };
    const error = await configError('store://a,store://b,nope://c', { schemes: { store: factory } });
    expect(error.message).toMatch(/unknown cache scheme "nope:"/);
    expect(closed).toEqual(['a', 'b']);
  });
});

describe('createBytecodeCache: errors', () => {
  it.each([
    ['localhost:6379', /no scheme|unknown cache scheme "localhost:"/],
    ['cache.example.com', /cache URL "cache.example.com" has no scheme: start it with one of .*redis:/],
    [
      'mongodb://db/x',
      /unknown cache scheme "mongodb:" in "mongodb:\/\/db\/x"; known schemes: file: memcached: memory: redis: rediss: s3:/,
    ],
    ['redis:host', /malformed cache URL "redis:host": after "redis:" comes "\/\/host"/],
    ['redis://h:99999', /port "99999" of host "h" .* must be a number from 1 to 65535/],
    ['memcached://a:11211,b:x1', /port "x1" of host "b"/],
    ['redis://ca^che:6379', /host "ca\^che" in "redis:\/\/ca\^che:6379" is not a valid host name/],
    ['memcached://a:11211,,b', /entry 2 .* is empty/],
    ['', /entry 1 of the cache configuration "" is empty|empty/],
    ['memory:,,memory:', /entry 2 .* is empty/],
  ])('%j', async (spec, message) => {
    const error = await configError(spec);
    expect(error.code).toBe('ERR_BCC_CONFIG');
    expect(error.message).toMatch(message);
  });

  it('refuses secrets in URLs', async () => {
    const error = await configError('memory:?secret=abc');
    expect(error.message).toMatch(
      /secrets are never read from cache URLs; pass options.secret or set BCC_SECRET/,
    );
    expect(error.message).not.toContain('abc');
  });

  it('never shows a password: not for a bad port, an unknown option, nor in an adapter’s own error', async () => {
    const { factory } = recording();
    const schemes = {
      store: factory,
      leaky: ((url: URL) => {
        throw new Error(`cannot connect to ${url.href} (password ${decodeURIComponent(url.password)})`);
      }) as CreateFromUrl,
    };
    const cases = [
      'store://admin:hunter2@h:99999',
      'store://admin:hunter2@h:6379?tll=5',
      'store://:hunter2@h:6379?ttl=soon',
      'store://hunter2@h:6379?ttl=-1',
      'leaky://admin:hun%74er2@h:6379',
      'store://h?password=hunter2&tll=1',
      'store://admin:hunter2@h:6379?ttl=1&ttl=2',
      'store://admin:hunter2@bad host:1',
      'store://admin:hunter2@h^x:1',
    ];
    for (const spec of cases) {
      const error = await configError(spec, { schemes });
      expect(error.message, spec).not.toContain('hunter2');
      expect(error.stack ?? '', spec).not.toContain('hunter2');
      expect(String((error.cause as Error | undefined)?.message ?? ''), spec).not.toContain('hunter2');
      expect(JSON.stringify(error.cause ?? null), spec).not.toContain('hunter2');
    }
    expect(redactCacheUrl('redis://admin:hunter2@h:6379/0?prefix=a&password=x')).toBe(
      'redis://admin:***@h:6379/0?prefix=a&password=***',
    );
    expect(redactCacheUrl('rediss://hunter2@h')).toBe('rediss://***@h');
  });

  it('masks the password, not every occurrence of its characters', async () => {
    const schemes = {
      leaky: ((url: URL) => {
        throw new Error(
          `redis at ${url.href} refused password ${decodeURIComponent(url.password)}; check redis`,
        );
      }) as CreateFromUrl,
    };
    const error = await configError('leaky://admin:e@h:6379', { schemes });
    expect(error.message).toContain('refused password ***; check redis');
    expect(error.message).toContain('leaky://admin:***@h:6379');
  });

  it.each([
    'redis://127.0.0.1:6379/%00',
    'store://h/a%00b',
    'store://u:p%00w@h',
    'store://h?prefix=a%0Ab',
    'store://h?pre%00fix=a',
  ])('refuses control characters in %s with a config error', async (spec) => {
    const { factory } = recording();
    const error = await configError(spec, { schemes: { store: factory } });
    expect(error.message).toMatch(/control character|database number/);
  });

  it('refuses an authority that is only ":@"', async () => {
    const { factory } = recording();
    const error = await configError('store://:@', { schemes: { store: factory } });
    expect(error.code).toBe('ERR_BCC_CONFIG');
  });

  it('an adapter that is not installed is BccAdapterNotInstalledError saying what to install', async () => {
    const error = await configError('store://x', { schemes: { store: '@bcc/definitely-not-installed' } });
    expect(error).toMatchObject({
      code: 'ERR_BCC_ADAPTER_NOT_INSTALLED',
      packageName: '@bcc/definitely-not-installed',
    });
    expect(error.message).toContain('install @bcc/definitely-not-installed');
    expect((error.cause as { code?: string }).code).toBe('ERR_MODULE_NOT_FOUND');
  });

  it('maps redis:, memcached:, s3: and file: to their packages, imported on demand', async () => {
    const asked: string[] = [];
    const importAdapter = async (name: string) => {
      asked.push(name);
      // What Node's import() throws for a package that is not in node_modules.
      throw Object.assign(new Error(`Cannot find package '${name}' imported from /app/server.js`), {
        code: 'ERR_MODULE_NOT_FOUND',
      });
    };
    for (const [spec, pkg] of [
      ['redis://localhost:6379', '@bcc/redis'],
      ['rediss://:pw@localhost:6380', '@bcc/redis'],
      ['memcached://localhost:11211', '@bcc/memcached'],
      ['s3://bucket/prefix', '@bcc/s3'],
      ['file:', '@bcc/fs'],
    ] as const) {
      const error = await configError(spec, { importAdapter });
      expect(error).toMatchObject({ code: 'ERR_BCC_ADAPTER_NOT_INSTALLED', packageName: pkg });
      expect(error.message).toContain(`install ${pkg}`);
    }
    expect(asked).toEqual(['@bcc/redis', '@bcc/redis', '@bcc/memcached', '@bcc/s3', '@bcc/fs']);
    // memory: is built in and imports nothing.
    await createBytecodeCache('memory:', { importAdapter });
    expect(asked).toHaveLength(5);
  });

  it('an adapter whose own dependency is missing, or that lacks createFromUrl, is a BccConfigError', async () => {
    const missingDep = await configError('redis://h', {
      importAdapter: async () => {
        throw Object.assign(
          new Error("Cannot find package 'ioredis' imported from /app/node_modules/@bcc/redis/dist/index.js"),
          {
            code: 'ERR_MODULE_NOT_FOUND',
          },
        );
      },
    });
    expect(missingDep).toMatchObject({ code: 'ERR_BCC_CONFIG' });
    expect(missingDep.message).toMatch(/@bcc\/redis .* failed to load: Cannot find package 'ioredis'/);
    const noFactory = await configError('redis://h', { importAdapter: async () => ({}) });
    expect(noFactory.message).toMatch(/@bcc\/redis does not export createFromUrl/);
  });

  it('loads an adapter package through its createFromUrl export', async () => {
    const made: BytecodeCache[] = [];
    const cache = await createBytecodeCache('redis://h:6379?prefix=p/', {
      importAdapter: async () => ({
        createFromUrl: ((_url, context) => {
          context.params.string('prefix');
          const c = new MemoryBytecodeCache(context.options);
          made.push(c);
          return c;
        }) satisfies CreateFromUrl,
      }),
    });
    expect(made).toEqual([cache]);
  });
});

describe('secrets from the environment', () => {
  it('createBytecodeCache signs with BCC_SECRET and still accepts BCC_SECRET_PREVIOUS', async () => {
    const before = await createBytecodeCache('memory:', { env: { BCC_SECRET: 'old' } });
    const old = before.createBucket(env, 'a', null, 'src');
    old.code = { js: 'old' };
    const rotated = await createBytecodeCache('memory:', {
      env: { BCC_SECRET: 'new', BCC_SECRET_PREVIOUS: 'old' },
    });
    const accepted = rotated.createBucket(env, 'a', null, 'src');
    accepted.bytecodeFromBytes(old.bytecodeToBytes());
    expect(accepted.code?.js).toBe('old');
    const unsigned = await createBytecodeCache('memory:', { env: {} });
    const fresh = unsigned.createBucket(env, 'a', null, 'src');
    fresh.code = { js: 'unsigned' };
    const refused = rotated.createBucket(env, 'a', null, 'src');
    refused.bytecodeFromBytes(fresh.bytecodeToBytes());
    expect(refused.lastLoad).toMatchObject({ status: 'rejected', reason: 'unsigned' });
    const onlyNew = await createBytecodeCache('memory:', { env: { BCC_SECRET: 'new' } });
    const afterRotation = onlyNew.createBucket(env, 'a', null, 'src');
    afterRotation.bytecodeFromBytes(old.bytecodeToBytes());
    expect(afterRotation.lastLoad).toMatchObject({ status: 'rejected', reason: 'signature' });
  });

  it('BCC_SECRET_PREVIOUS without BCC_SECRET is a configuration error', async () => {
    await expect(createBytecodeCache('memory:', { env: { BCC_SECRET_PREVIOUS: 'old' } })).rejects.toThrow(
      /set BCC_SECRET to the new secret/,
    );
  });
});

describe('createBytecodeCacheFromEnv', () => {
  it('reads BCC_CACHE and BCC_SECRET', async () => {
    const cache = await createBytecodeCacheFromEnv({
      env: { BCC_CACHE: 'memory:?maxBytes=1m', BCC_SECRET: 's3cret' },
    });
    expect((cache as MemoryBytecodeCache).maxBytes).toBe(1024 * 1024);
    const signed = cache.createBucket(env, 'a', null, 'src');
    signed.code = { js: '1' };
    await cache.setBucket(signed);
    const other = await createBytecodeCacheFromEnv({ env: { BCC_CACHE: 'memory:', BCC_SECRET: 'other' } });
    // Same bytes, read by a cache with another secret: refused.
    const probe = other.createBucket(env, 'a', null, 'src');
    probe.bytecodeFromBytes(signed.bytecodeToBytes());
    expect(probe.code).toBeNull();
    expect(probe.lastLoad).toMatchObject({ status: 'rejected', reason: 'signature' });
  });

  it('options.secret wins over BCC_SECRET; a list in BCC_CACHE makes tiers', async () => {
    const cache = await createBytecodeCacheFromEnv({
      env: { BCC_CACHE: 'memory:,memory:', BCC_SECRET: 'env' },
      secret: 'option',
    });
    expect(cache).toBeInstanceOf(TieredBytecodeCache);
    const bucket = cache.createBucket(env, 'a', null, 'src');
    bucket.code = { js: '1' };
    const check = (
      await createBytecodeCacheFromEnv({ env: { BCC_CACHE: 'memory:' }, secret: 'option' })
    ).createBucket(env, 'a', null, 'src');
    check.bytecodeFromBytes(bucket.bytecodeToBytes());
    expect(check.code?.js).toBe('1');
  });

  it('an unset variable is an error naming it, unless there is a fallback; errors name the variable', async () => {
    await expect(createBytecodeCacheFromEnv({ env: {} })).rejects.toThrow(/BCC_CACHE is not set/);
    await expect(createBytecodeCacheFromEnv({ env: { BCC_CACHE: '  ' } })).rejects.toThrow(
      /BCC_CACHE is not set/,
    );
    expect(await createBytecodeCacheFromEnv({ env: {}, fallback: 'memory:' })).toBeInstanceOf(
      MemoryBytecodeCache,
    );
    await expect(
      createBytecodeCacheFromEnv({ env: { APP_CACHE: 'memory:?maxBytes=x' }, variable: 'APP_CACHE' }),
    ).rejects.toThrow(/^APP_CACHE: option "maxBytes"/);
    const error = await createBytecodeCacheFromEnv({ env: { BCC_CACHE: 'nope:' } }).then(
      () => null,
      (e: Error) => e,
    );
    expect(error?.stack).toMatch(/^BccConfigError: BCC_CACHE: unknown cache scheme/);
    expect(error?.stack).not.toContain('BCC_CACHE: BCC_CACHE');
  });
});

describe('turning bcc off', () => {
  it.each(['none', 'off', ' OFF ', 'None'])(
    'BCC_CACHE=%j makes a disabled cache that never loads or stores',
    async (value) => {
      const cache = await createBytecodeCacheFromEnv({ env: { BCC_CACHE: value } });
      expect(isDisabledCache(cache)).toBe(true);
      expect(cache.backendName).toBe('none');
      const bucket = cache.createBucket({ fingerprint: 'x' }, 'a', null, 'src');
      bucket.code = { js: '1' };
      await cache.setBucket(bucket);
      expect((await cache.getBucket({ fingerprint: 'x' }, 'a', null, 'src')).code).toBeNull();
      expect((await createBytecodeCache(value)).backendName).toBe('none');
    },
  );

  it('a real cache is not disabled', async () => {
    expect(isDisabledCache(await createBytecodeCache('memory:'))).toBe(false);
  });
});
