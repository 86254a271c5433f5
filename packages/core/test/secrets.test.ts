// No configuration may be quietly unsigned: blank secrets, disagreeing tiers, env vs option.
import { describe, expect, it } from 'vitest';
import type { BytecodeCache } from '../src/cache.js';
import { BccConfigError } from '../src/errors.js';
import { normalizeSecrets } from '../src/format.js';
import { MemoryBytecodeCache } from '../src/memory.js';
import { TieredBytecodeCache } from '../src/tiered.js';
import { createBytecodeCache, secretFromEnv } from '../src/url.js';

const env = { fingerprint: 'secrets-test' };

async function put(cache: BytecodeCache, js: string): Promise<void> {
  const bucket = cache.createBucket(env, 'page.html', null, 'src');
  bucket.code = { js };
  await cache.setBucket(bucket);
}

const get = async (cache: BytecodeCache) => (await cache.getBucket(env, 'page.html', null, 'src')).code?.js;

describe('secret values', () => {
  it.each([
    ['an empty string', ''],
    ['a blank string', ' \t\n'],
    ['an empty list', []],
    ['a list with a blank entry', ['ok', '  ']],
    ['empty bytes', new Uint8Array(0)],
    ['null', null],
    ['a number', 42],
    ['an object', { secret: 'x' }],
  ])('%s is a BccConfigError, never "no secret"', (_label, value) => {
    expect(() => normalizeSecrets(value as never)).toThrow(BccConfigError);
    expect(() => new MemoryBytecodeCache({ secret: value as never })).toThrow(BccConfigError);
  });

  it('trims string secrets, as BCC_SECRET is trimmed', () => {
    expect(Buffer.from(normalizeSecrets('  s3cret\n')[0]!).toString()).toBe('s3cret');
    expect(secretFromEnv({ BCC_SECRET: ' s3cret\n' })).toEqual(['s3cret']);
  });

  it.each([[{ BCC_SECRET: '' }], [{ BCC_SECRET: '   ' }], [{ BCC_SECRET: 'ok', BCC_SECRET_PREVIOUS: '' }]])(
    'BCC_SECRET set but blank is a BccConfigError: %j',
    async (vars) => {
      expect(() => secretFromEnv(vars)).toThrow(BccConfigError);
      await expect(createBytecodeCache('memory:', { env: vars })).rejects.toThrow(/is set but empty/);
    },
  );

  it('unset BCC_SECRET is unsigned, as documented', () => {
    expect(secretFromEnv({})).toBeUndefined();
  });

  it('a secret given as an option and the same one through BCC_SECRET accept each other’s entries', async () => {
    const store = new MemoryBytecodeCache();
    const viaOption = new TieredBytecodeCache([store], { secret: 'shared-secret ' });
    const viaEnv = await createBytecodeCache('memory:', { env: { BCC_SECRET: 'shared-secret\n' } });
    await put(viaOption, '1');
    // The env-configured cache verifies what the option-configured one signed, and the reverse.
    const bucket = viaEnv.createBucket(env, 'page.html', null, 'src');
    bucket.bytecodeFromBytes(await bytesOf(viaOption));
    expect(bucket.code?.js).toBe('1');
    await put(viaEnv, '2');
    const back = viaOption.createBucket(env, 'page.html', null, 'src');
    back.bytecodeFromBytes(await bytesOf(viaEnv));
    expect(back.code?.js).toBe('2');
  });
});

async function bytesOf(cache: BytecodeCache): Promise<Uint8Array> {
  const bucket = await cache.getBucket(env, 'page.html', null, 'src');
  return bucket.bytecodeToBytes();
}

describe('tiered caches and secrets', () => {
  it('takes the secret of a tier that has one: an unsigned entry planted in that tier never runs', async () => {
    const signedTier = new MemoryBytecodeCache({ secret: 'tier-secret' });
    const tiered = new TieredBytecodeCache([new MemoryBytecodeCache(), signedTier]);
    // Someone without the secret plants an unsigned entry in the signed tier.
    const planter = new TieredBytecodeCache([new MemoryBytecodeCache()]);
    const planted = planter.createBucket(env, 'page.html', null, 'src');
    planted.code = { js: '"planted"' };
    signedTier.dumpBytecodeSync(planted);
    expect(await get(tiered)).toBeUndefined();
    expect(tiered.stats.rejected.unsigned).toBe(1);
    // Entries the tiered cache writes are signed with the tier's secret, so the tier alone reads them.
    await put(tiered, '"genuine"');
    expect(await get(signedTier)).toBe('"genuine"');
    expect(tiered.getBucketSync(env, 'page.html', null, 'src').code?.js).toBe('"genuine"');
  });

  it('refuses tiers with different secrets', () => {
    expect(
      () =>
        new TieredBytecodeCache([
          new MemoryBytecodeCache({ secret: 'a' }),
          new MemoryBytecodeCache({ secret: 'b' }),
        ]),
    ).toThrow(/different secrets/);
    expect(
      () =>
        new TieredBytecodeCache([
          new MemoryBytecodeCache({ secret: ['a', 'old'] }),
          new MemoryBytecodeCache({ secret: ['a'] }),
        ]),
    ).toThrow(BccConfigError);
  });

  it('refuses a tiered secret that differs from its tiers’ secret, and accepts the same one', () => {
    const tier = new MemoryBytecodeCache({ secret: 'tier' });
    expect(() => new TieredBytecodeCache([tier], { secret: 'other' })).toThrow(
      /differs from the secret of tier 0/,
    );
    expect(new TieredBytecodeCache([tier], { secret: ' tier ' }).tiers).toHaveLength(1);
  });

  it('refuses the same cache instance twice', () => {
    const memory = new MemoryBytecodeCache();
    expect(() => new TieredBytecodeCache([memory, memory])).toThrow(/tiers 0 and 1 .* same cache instance/);
  });
});
