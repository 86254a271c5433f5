import { describe, expect, it } from 'vitest';
import { Bucket } from '../src/bucket.js';
import { sha256Hex } from '../src/digest.js';
import { decodeFrame, encodeFrame, FORMAT_VERSION, inspectFrame, runtimeTag } from '../src/format.js';
import { MemoryBytecodeCache } from '../src/memory.js';

const contents = {
  checksum: 'c'.repeat(64),
  runtime: runtimeTag(),
  js: '(() => "x")',
  v8: Uint8Array.of(1, 2, 3),
  name: 'pages/über.pug',
  engine: 'pug@3.0.4',
  created: Date.UTC(2026, 10, 29, 12, 0, 0),
  dependencies: [
    { name: '/views/layout.pug', checksum: 'a'.repeat(64) },
    { name: '/views/mixins/ünï.pug', checksum: 'b'.repeat(64) },
  ],
};

describe('format version 2', () => {
  it('is version 2, and a version 1 frame is a version miss that inspect names', () => {
    const frame = encodeFrame(contents, { key: 'k' });
    expect(frame[3]).toBe(2);
    expect(FORMAT_VERSION).toBe(2);
    const old = Buffer.from(frame);
    old[3] = 1;
    expect(decodeFrame(old, { checksum: contents.checksum, key: 'k' })).toEqual({
      ok: false,
      reason: 'version',
    });
    expect(inspectFrame(old)).toEqual({ ok: false, reason: 'version', version: 1 });
    expect(inspectFrame(Buffer.from('not an entry at all, longer than the header'))).toEqual({
      ok: false,
      reason: 'magic',
    });
  });

  it('inspect reads what the entry is without running it', () => {
    const frame = encodeFrame(contents, { key: 'k', secret: Buffer.from('s') });
    const result = inspectFrame(frame);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.info).toMatchObject({
      size: frame.length,
      version: 2,
      signed: true,
      checksum: contents.checksum,
      runtime: runtimeTag(),
      sameRuntime: true,
      engine: 'pug@3.0.4',
      name: 'pages/über.pug',
      dependencies: contents.dependencies,
      jsBytes: contents.js.length,
      v8Bytes: 3,
    });
    expect(result.info.created.toISOString()).toBe('2026-11-29T12:00:00.000Z');
    expect(result.reason).toBeUndefined();
    // The verdicts a load would give, as far as the caller knows key and secrets.
    expect(inspectFrame(frame, { key: 'other' })).toMatchObject({ ok: true, reason: 'key' });
    expect(inspectFrame(frame, { key: 'k', secrets: [Buffer.from('s')] })).not.toHaveProperty('reason');
    expect(inspectFrame(frame, { key: 'k', secrets: [Buffer.from('t')] })).toMatchObject({
      reason: 'signature',
    });
    const unsigned = encodeFrame(contents, { key: 'k' });
    expect(inspectFrame(unsigned, { key: 'k', secrets: [Buffer.from('s')] })).toMatchObject({
      reason: 'unsigned',
    });
  });

  it('the name is under the CRC and the HMAC: changing it is refused', () => {
    const frame = encodeFrame(contents, { key: 'k', secret: Buffer.from('s') });
    const at = frame.indexOf(Buffer.from('pages/'));
    const bad = Buffer.from(frame);
    bad[at] = 'P'.charCodeAt(0);
    expect(decodeFrame(bad, { checksum: contents.checksum, key: 'k' })).toEqual({ ok: false, reason: 'crc' });
  });

  it('a frame with dependencies hits only while each dependency keeps its checksum', () => {
    const frame = encodeFrame(contents, { key: 'k' });
    const current = new Map(contents.dependencies.map((d) => [d.name, d.checksum]));
    const expectHit = () =>
      decodeFrame(frame, {
        checksum: contents.checksum,
        key: 'k',
        dependencyChecksum: (n) => current.get(n),
      });
    const hit = expectHit();
    expect(hit.ok && hit.dependencies).toEqual(contents.dependencies);
    current.set('/views/mixins/ünï.pug', 'changed');
    expect(expectHit()).toEqual({ ok: false, reason: 'dependency' });
    current.delete('/views/mixins/ünï.pug');
    expect(expectHit()).toEqual({ ok: false, reason: 'dependency' });
    // Nobody to ask: a frame that lists dependencies cannot be trusted.
    expect(decodeFrame(frame, { checksum: contents.checksum, key: 'k' })).toEqual({
      ok: false,
      reason: 'dependency',
    });
  });

  it('a template name longer than the field is cut, not a failed write', () => {
    const frame = encodeFrame({ ...contents, name: 'n'.repeat(70_000) }, { key: 'k' });
    const result = inspectFrame(frame);
    expect(result.ok && result.info.name.length).toBe(0xffff);
  });

  it('a dependency count or name length past the end is a length miss, never a throw', () => {
    const frame = encodeFrame(contents, { key: 'k' });
    const countAt = frame.indexOf(Buffer.from('/views/layout.pug')) - 4;
    expect(frame.readUInt16LE(countAt)).toBe(2);
    for (const value of [3, 0xffff]) {
      const bad = Buffer.from(frame);
      bad.writeUInt16LE(value, countAt);
      expect(decodeFrame(bad, { checksum: contents.checksum, key: 'k' })).toMatchObject({ ok: false });
    }
    const bad = Buffer.from(frame);
    bad.writeUInt16LE(0xffff, countAt + 2);
    expect(decodeFrame(bad, { checksum: contents.checksum, key: 'k' })).toEqual({
      ok: false,
      reason: 'length',
    });
  });

  it('buckets write name and engine, and check dependencies with the cache checksum', async () => {
    const cache = new MemoryBytecodeCache();
    const files = new Map([['inc.pug', 'p included']]);
    const environment = {
      fingerprint: 'f',
      engine: 'test@1.0.0',
      readDependency: (name: string) => files.get(name),
    };
    const bucket = await cache.getBucket(environment, 'page.pug', '/v/page.pug', 'include inc.pug');
    bucket.code = { js: '1', dependencies: [{ name: 'inc.pug', checksum: sha256Hex('p included') }] };
    await cache.setBucket(bucket);
    const info = inspectFrame(bucket.bytecodeToBytes());
    expect(info.ok && [info.info.name, info.info.engine]).toEqual(['page.pug', 'test@1.0.0']);
    const again = await cache.getBucket(environment, 'page.pug', '/v/page.pug', 'include inc.pug');
    expect(again.code?.dependencies).toEqual(bucket.code.dependencies);
    files.set('inc.pug', 'p edited');
    const stale = await cache.getBucket(environment, 'page.pug', '/v/page.pug', 'include inc.pug');
    expect(stale.code).toBeNull();
    expect(cache.stats.rejected.dependency).toBe(1);
    // A bucket made without a cache uses SHA-256 hex, the default checksum.
    const plain = new Bucket(environment, bucket.key, bucket.checksum);
    files.set('inc.pug', 'p included');
    plain.bytecodeFromBytes(bucket.bytecodeToBytes());
    expect(plain.code?.js).toBe('1');
  });
});

describe('operators reading entries', () => {
  it('MemoryBytecodeCache.readEntry hands out a copy: changing it never changes the cache', async () => {
    const cache = new MemoryBytecodeCache();
    const bucket = cache.createBucket({ fingerprint: 'f' }, 'a', null, 'src');
    bucket.code = { js: '(1)' };
    await cache.setBucket(bucket);
    const bytes = (await cache.readEntry(bucket.key))!;
    bytes.fill(0);
    expect((await cache.getBucket({ fingerprint: 'f' }, 'a', null, 'src')).code?.js).toBe('(1)');
  });

  it('inspectFrame reads an impossible creation time as 1970, never an invalid Date', () => {
    for (const created of [Number.NaN, Number.POSITIVE_INFINITY, -1e300, 1e300]) {
      const result = inspectFrame(encodeFrame({ ...contents, created }, { key: 'k' }));
      expect(result.ok && result.info.created.toISOString()).toBe('1970-01-01T00:00:00.000Z');
    }
  });
});
