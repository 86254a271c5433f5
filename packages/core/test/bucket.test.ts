import { execFileSync } from 'node:child_process';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Bucket } from '../src/bucket.js';
import { decodeFrame, encodeFrame, FORMAT_VERSION, MAGIC, runtimeTag } from '../src/format.js';
import { emptyLike, env, filledBucket } from './helpers.js';

describe('Bucket round trip', () => {
  it.each([
    ['an empty V8 cache', 0],
    ['a small V8 cache', 100],
    ['a V8 cache of several MB', 5 * 1024 * 1024],
  ])('keeps every field with %s', (_label, size) => {
    const bucket = filledBucket(size);
    const bytes = bucket.bytecodeToBytes();
    const copy = emptyLike(bucket);
    copy.bytecodeFromBytes(bytes);
    expect(copy.code?.js).toBe(bucket.code!.js);
    if (size === 0) expect(copy.code?.v8).toBeUndefined();
    else expect(Buffer.from(copy.code!.v8!).equals(Buffer.from(bucket.code!.v8!))).toBe(true);
    expect(copy.lastLoad).toEqual({ status: 'hit', bytes: bytes.length, v8Dropped: false });
  });

  it.each([
    ['ASCII', 'var a = 1;'],
    ['Latin-1', 'var café = "naïve";'],
    ['BMP', 'var s = "模板 ✓";'],
    ['astral and a lone surrogate', 'var e = "🎉\ud800";'],
  ])('keeps %s JavaScript exactly', (_label, js) => {
    const bucket = new Bucket(env, 'k', 'c');
    bucket.code = { js };
    const copy = emptyLike(bucket);
    copy.bytecodeFromBytes(bucket.bytecodeToBytes());
    expect(copy.code?.js).toBe(js);
  });

  it('keeps a bucket without a V8 cache', () => {
    const bucket = new Bucket(env, 'k', 'c');
    bucket.code = { js: 'x'.repeat(100_000) };
    const copy = emptyLike(bucket);
    copy.bytecodeFromBytes(bucket.bytecodeToBytes());
    expect(copy.code).toEqual({ js: bucket.code.js });
  });

  it('starts with magic and format version, as docs/format.md says', () => {
    const bytes = filledBucket().bytecodeToBytes();
    expect([...bytes.subarray(0, 3)]).toEqual([...MAGIC]);
    expect(Buffer.from(bytes.subarray(0, 3)).toString()).toBe('bcc');
    expect(bytes[3]).toBe(FORMAT_VERSION);
  });

  it('throws TypeError when writing an empty bucket', async () => {
    const bucket = new Bucket(env, 'k', 'c');
    expect(() => bucket.bytecodeToBytes()).toThrow(TypeError);
    await expect(bucket.writeBytecode(new PassThrough())).rejects.toThrow(TypeError);
  });

  it('rejects code that is not { js: string }', () => {
    const bucket = new Bucket(env, 'k', 'c');
    expect(() => {
      bucket.code = { js: 42 } as never;
    }).toThrow(TypeError);
  });

  it('reset() empties it', () => {
    const bucket = filledBucket();
    bucket.reset();
    expect(bucket.code).toBeNull();
  });

  it('re-encodes after code changes', () => {
    const bucket = filledBucket();
    const first = bucket.bytecodeToBytes();
    bucket.code = { js: 'changed' };
    const copy = emptyLike(bucket);
    copy.bytecodeFromBytes(bucket.bytecodeToBytes());
    expect(copy.code?.js).toBe('changed');
    expect(bucket.bytecodeToBytes()).not.toBe(first);
  });
});

describe('Bucket streams', () => {
  it('writes to a stream and loads it back from chunks', async () => {
    const bucket = filledBucket(200_000);
    const sink = new PassThrough();
    const chunks: Buffer[] = [];
    sink.on('data', (c: Buffer) => chunks.push(c));
    await bucket.writeBytecode(sink);
    sink.end();
    const whole = Buffer.concat(chunks);
    const pieces = [whole.subarray(0, 7), whole.subarray(7, 5000), whole.subarray(5000)];
    const copy = emptyLike(bucket);
    await copy.loadBytecode(Readable.from(pieces));
    expect(copy.code?.js).toBe(bucket.code!.js);
  });

  it('loads from a file-handle-like object and writes to one', async () => {
    const bucket = filledBucket();
    let written: Uint8Array | null = null;
    await bucket.writeBytecode({ write: async (data: Uint8Array) => (written = data) });
    const copy = emptyLike(bucket);
    await copy.loadBytecode({ readFile: async () => written! });
    expect(copy.code?.js).toBe(bucket.code!.js);
  });

  it('is empty after a truncated stream, without throwing', async () => {
    const bucket = filledBucket();
    const bytes = bucket.bytecodeToBytes();
    const copy = emptyLike(bucket);
    await copy.loadBytecode(Readable.from([bytes.subarray(0, bytes.length - 3)]));
    expect(copy.code).toBeNull();
  });
});

describe('Bucket refuses bad entries without throwing', () => {
  const good = filledBucket(1000);
  const bytes = Buffer.from(good.bytecodeToBytes());
  const load = (data: Uint8Array, into = emptyLike(good)) => {
    into.bytecodeFromBytes(data);
    return into;
  };
  const reason = (b: Bucket) => (b.lastLoad?.status === 'rejected' ? b.lastLoad.reason : b.lastLoad?.status);

  it('wrong magic', () => {
    const bad = Buffer.from(bytes);
    bad[0] = 0x42;
    expect(reason(load(bad))).toBe('magic');
  });

  it('another format version', () => {
    const bad = Buffer.from(bytes);
    bad[3] = FORMAT_VERSION + 1;
    expect(reason(load(bad))).toBe('version');
  });

  it('a frame written for another key', () => {
    const other = new Bucket(env, 'key-2', good.checksum);
    expect(load(bytes, other).code).toBeNull();
    expect(reason(other)).toBe('key');
  });

  it('another source checksum', () => {
    const other = new Bucket(env, good.key, 'checksum-2');
    expect(load(bytes, other).code).toBeNull();
    expect(reason(other)).toBe('checksum');
  });

  it('every truncation', () => {
    for (let length = 0; length < bytes.length; length++) {
      const b = load(bytes.subarray(0, length));
      expect(b.code, `truncated to ${length}`).toBeNull();
    }
  });

  it('trailing bytes', () => {
    expect(load(Buffer.concat([bytes, Buffer.of(0)])).code).toBeNull();
    expect(load(Buffer.concat([bytes, bytes])).code).toBeNull();
  });

  it('a length field past the end', () => {
    const bad = Buffer.from(bytes);
    // checksum, runtime, created, engine (empty), name (empty), no dependencies, text encoding
    const jsLengthAt = 10 + good.checksum.length + 1 + runtimeTag().length + 8 + 1 + 2 + 2 + 1;
    bad.writeUInt32LE(0xfffffffe, jsLengthAt);
    expect(reason(load(bad))).toBe('length');
    const v8LengthAt = jsLengthAt + 4 + bytes.readUInt32LE(jsLengthAt);
    const bad2 = Buffer.from(bytes);
    bad2.writeUInt32LE(bytes.length, v8LengthAt);
    expect(reason(load(bad2))).toBe('length');
  });

  it('any flipped bit', () => {
    for (let i = 0; i < bytes.length; i += 1) {
      for (let bit = 0; bit < 8; bit++) {
        const bad = Buffer.from(bytes);
        bad[i]! ^= 1 << bit;
        const b = load(bad);
        if (b.code !== null) expect.fail(`bit ${bit} of byte ${i} flipped, and the entry still loaded`);
      }
    }
  });

  it('a previous filled bucket is emptied by a bad load', () => {
    const target = filledBucket();
    target.bytecodeFromBytes(Buffer.from('garbage'));
    expect(target.code).toBeNull();
  });
});

describe('runtime tag', () => {
  it('names the Node version, architecture and V8 cached-data tag', () => {
    expect(runtimeTag()).toContain(process.version);
    expect(runtimeTag()).toContain(process.arch);
  });

  // The tag is read off a code cache header instead of node:v8 (1.6–2.1 ms of start-up on Node 24).
  // Checked in fresh processes of the built package: same flags, same tag; a V8 flag that changes
  // V8's flag hash (--no-opt) changes the tag exactly when it changes v8.cachedDataVersionTag(),
  // and node:v8 is never loaded.
  it('follows V8 flags as v8.cachedDataVersionTag() does, without loading node:v8', () => {
    const core = new URL('../dist/bcc-core.js', import.meta.url).href;
    const probe = (flags: string[], script: string) =>
      execFileSync(process.execPath, [...flags, '--input-type=module', '-e', script], {
        encoding: 'utf8',
      }).trim();
    const tagOf = (flags: string[]) =>
      probe(
        flags,
        `const { runtimeTag } = await import(${JSON.stringify(core)});
         const tag = runtimeTag();
         console.log(JSON.stringify({ tag, v8Loaded: process.moduleLoadList.includes('NativeModule v8') }));`,
      );
    const versionTag = (flags: string[]) =>
      probe(flags, "console.log(process.getBuiltinModule('node:v8').cachedDataVersionTag())");
    const plain = JSON.parse(tagOf([])) as { tag: string; v8Loaded: boolean };
    expect(plain.v8Loaded).toBe(false);
    expect(plain.tag).toMatch(/^node-v[\d.]+-\w+-v8-[0-9a-f]{32}$/);
    expect(JSON.parse(tagOf([])).tag).toBe(plain.tag);
    for (const flag of ['--no-opt', '--max-old-space-size=2048', '--stack-size=900']) {
      const flagged = JSON.parse(tagOf([flag])) as { tag: string };
      expect(flagged.tag === plain.tag, flag).toBe(versionTag([flag]) === versionTag([]));
    }
  });

  it('an entry made under another runtime keeps its JavaScript and drops its V8 cache', () => {
    const frame = encodeFrame(
      {
        checksum: 'c',
        runtime: 'node-v0.0.0-x64-v8-1',
        js: 'js!',
        v8: Uint8Array.of(1, 2, 3),
      },
      { key: 'k' },
    );
    const bucket = new Bucket(env, 'k', 'c');
    bucket.bytecodeFromBytes(frame);
    expect(bucket.code).toEqual({ js: 'js!' });
    expect(bucket.lastLoad).toMatchObject({ status: 'hit', v8Dropped: true });
    // Re-encoding now carries this runtime's tag, not the foreign one.
    bucket.code = { js: 'js!', v8: Uint8Array.of(9) };
    const again = decodeFrame(bucket.bytecodeToBytes(), { checksum: 'c', key: 'k' });
    expect(again.ok && again.runtime).toBe(runtimeTag());
  });
});

describe('signed buckets', () => {
  const secret = [Buffer.from('s3cr3t')];
  it('round-trips with the secret and refuses without the flag or with another key', () => {
    const signed = filledBucket(10, 'x', secret);
    const bytes = signed.bytecodeToBytes();
    expect(bytes[4]).toBe(1);
    expect(emptyLike(signed, secret).code).toBeNull();
    const ok = emptyLike(signed, secret);
    ok.bytecodeFromBytes(bytes);
    expect(ok.code?.js).toBe('x');
    const unsigned = filledBucket(10, 'x');
    const refused = emptyLike(signed, secret);
    refused.bytecodeFromBytes(unsigned.bytecodeToBytes());
    expect(refused.lastLoad).toMatchObject({ status: 'rejected', reason: 'unsigned' });
    const wrong = emptyLike(signed, [Buffer.from('other')]);
    wrong.bytecodeFromBytes(bytes);
    expect(wrong.lastLoad).toMatchObject({ status: 'rejected', reason: 'signature' });
    const otherKey = new Bucket(env, 'key-2', signed.checksum, { secrets: secret });
    otherKey.bytecodeFromBytes(bytes);
    expect(otherKey.lastLoad).toMatchObject({ status: 'rejected', reason: 'key' });
  });
});
