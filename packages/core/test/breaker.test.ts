// The circuit breaker, the once-per-process warnings, and writes that never hold up a render.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../src/breaker.js';
import type { Bucket } from '../src/bucket.js';
import { BytecodeCache, type BytecodeCacheOptions } from '../src/cache.js';
import { loadTemplate } from '../src/compile.js';
import { BccConfigError, isBccError } from '../src/errors.js';
import { MemoryBytecodeCache } from '../src/memory.js';
import { TieredBytecodeCache } from '../src/tiered.js';

const env = { fingerprint: 'breaker-test' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A store that is down until `up` is set; counts the calls that reach it. */
class FlakyStore extends BytecodeCache {
  up = false;
  calls = 0;
  readonly entries = new Map<string, Uint8Array>();
  constructor(options?: BytecodeCacheOptions) {
    super(options);
  }
  override get backendName() {
    return 'flaky';
  }
  async loadBytecode(bucket: Bucket) {
    this.calls++;
    if (!this.up) throw Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' });
    const bytes = this.entries.get(bucket.key);
    if (bytes) bucket.bytecodeFromBytes(bytes);
  }
  async dumpBytecode(bucket: Bucket) {
    this.calls++;
    if (!this.up) throw Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' });
    this.entries.set(bucket.key, bucket.bytecodeToBytes());
  }
}

const load = (cache: BytecodeCache, name = 'a.html') => cache.getBucket(env, name, null, 'src');

describe('circuit breaker', () => {
  it('after a failure, calls miss at once for the back-off, then one probe decides', async () => {
    const errors: Error[] = [];
    const store = new FlakyStore({ breaker: { backoff: 60 }, onError: (e) => errors.push(e) });
    expect((await load(store)).code).toBeNull();
    expect(store.calls).toBe(1);
    for (let i = 0; i < 10; i++) expect((await load(store)).code).toBeNull();
    const bucket = store.createBucket(env, 'a.html', null, 'src');
    bucket.code = { js: '1' };
    expect(await store.setBucket(bucket)).toBe(false);
    // Ten loads and a write never reached the dead store, and were not reported as new errors.
    expect(store.calls).toBe(1);
    expect(errors).toHaveLength(1);
    expect(store.breaker?.skipped).toBe(11);
    expect(store.stats.misses).toBe(11);

    store.up = true;
    await sleep(80);
    expect(await store.setBucket(bucket)).toBe(true); // the probe: the store is back
    expect(store.breaker?.isOpen).toBe(false);
    expect((await load(store)).code?.js).toBe('1');
  });

  it('doubles the back-off after a failed probe, up to maxBackoff', async () => {
    const breaker = new CircuitBreaker({ backoff: 20, maxBackoff: 50 });
    breaker.failure(new Error('x'));
    expect(breaker.allow()).toBe(false);
    await sleep(30);
    expect(breaker.allow()).toBe(true); // probe
    expect(breaker.allow()).toBe(false); // others wait for the probe
    breaker.failure(new Error('x'));
    await sleep(30);
    expect(breaker.allow()).toBe(false); // 40 ms now
    await sleep(20);
    expect(breaker.allow()).toBe(true);
    breaker.failure(new Error('x'));
    breaker.success();
    expect(breaker.isOpen).toBe(false);
    expect(breaker.opened).toBe(1);
  });

  it('with ignoreErrors: false, a skipped call rejects with the failure that opened the breaker', async () => {
    const store = new FlakyStore({ ignoreErrors: false, onError: () => {} });
    await expect(load(store)).rejects.toMatchObject({ code: 'ERR_BCC_BACKEND' });
    const error = await load(store).catch((e: unknown) => e);
    expect(isBccError(error) && error.message).toMatch(/circuit breaker.*ETIMEDOUT/);
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect(store.calls).toBe(1);
  });

  it('breaks per tier: a dead tier is skipped while the memory tier keeps serving', async () => {
    const memory = new MemoryBytecodeCache();
    const dead = new FlakyStore();
    const tiered = new TieredBytecodeCache([memory, dead], { onError: () => {} });
    const bucket = tiered.createBucket(env, 'a.html', null, 'src');
    bucket.code = { js: '1' };
    await tiered.setBucket(bucket);
    expect(dead.calls).toBe(1);
    for (let i = 0; i < 5; i++) expect((await load(tiered)).code?.js).toBe('1');
    for (let i = 0; i < 5; i++) expect((await load(tiered, `miss${i}.html`)).code).toBeNull();
    await tiered.setBucket(bucket);
    expect(dead.calls).toBe(1);
  });

  it('is configurable and can be turned off', async () => {
    expect(() => new FlakyStore({ breaker: { backoff: 0 } })).toThrow(BccConfigError);
    expect(() => new FlakyStore({ breaker: { backoff: 2 ** 31 } })).toThrow(BccConfigError);
    expect(() => new FlakyStore({ breaker: { backoff: 100, maxBackoff: 10 } })).toThrow(BccConfigError);
    const store = new FlakyStore({ breaker: false, onError: () => {} });
    for (let i = 0; i < 3; i++) await load(store);
    expect(store.calls).toBe(3);
    expect(store.breaker).toBeNull();
  });
});

describe('telling the operator', () => {
  const seen: Error[] = [];
  const listener = (warning: Error) => seen.push(warning);
  afterEach(() => {
    process.off('warning', listener);
    seen.length = 0;
  });

  it('without onError, the first store failure of the process is one warning with a BCC_ code', async () => {
    process.on('warning', listener);
    class OnceStore extends FlakyStore {
      override get storeName() {
        return 'flaky://once-store';
      }
    }
    const store = new OnceStore({ breaker: false });
    for (let i = 0; i < 3; i++) await load(store);
    await new OnceStore({ breaker: false }).getBucket(env, 'b.html', null, 'src');
    await sleep(0);
    const ours = seen.filter((w) => (w as { code?: string }).code === 'BCC_STORE_FAILED');
    expect(ours).toHaveLength(1);
    expect(ours[0]!.message).toMatch(/flaky:\/\/once-store failed.*ETIMEDOUT/);
  });

  it('with onError, no warning', async () => {
    process.on('warning', listener);
    class QuietStore extends FlakyStore {
      override get storeName() {
        return 'flaky://quiet-store';
      }
    }
    await new QuietStore({ onError: () => {} }).getBucket(env, 'a.html', null, 'src');
    await sleep(0);
    expect(seen.filter((w) => w.message.includes('quiet-store'))).toHaveLength(0);
  });

  it('names the template, not only the key, when an entry is refused', async () => {
    const errors: Error[] = [];
    const signed = new MemoryBytecodeCache({ secret: 'k', onError: (e) => errors.push(e) });
    const unsigned = new MemoryBytecodeCache();
    const planted = unsigned.createBucket(env, 'pages/home.html', null, 'src');
    planted.code = { js: '"planted"' };
    signed.dumpBytecodeSync(planted);
    expect((await signed.getBucket(env, 'pages/home.html', null, 'src')).code).toBeNull();
    expect(errors[0]!.message).toMatch(/refused entry pages\/home\.html \([0-9a-f]{64}\)/);
  });
});

describe('writes never hold up a render', () => {
  /** A store whose writes wait until released. */
  class SlowWrites extends MemoryBytecodeCache {
    release: () => void = () => {};
    readonly gate = new Promise<void>((resolve) => {
      this.release = resolve;
    });
    override async dumpBytecode(bucket: Bucket) {
      await this.gate;
      await super.dumpBytecode(bucket);
    }
  }
  const environment = { fingerprint: 'slow', compile: (source: string) => `(${JSON.stringify(source)})` };

  it('loadTemplate returns a compiled template while its entry is still being written', async () => {
    const cache = new SlowWrites();
    const tpl = await loadTemplate<string>(cache, environment, { name: 'a', source: 'hello' });
    expect(tpl.value).toBe('hello');
    expect(cache.count).toBe(0);
    let stored: boolean | undefined;
    void tpl.stored.then((value) => {
      stored = value;
    });
    await sleep(5);
    expect(stored).toBeUndefined();
    cache.release();
    expect(await tpl.stored).toBe(true);
    expect(cache.count).toBe(1);
  });

  it('code that does not instantiate is never stored', async () => {
    const cache = new MemoryBytecodeCache();
    const broken = { fingerprint: 'broken', compile: () => 'return "unterminated' };
    await expect(loadTemplate(cache, broken, { name: 'b', source: 'x' })).rejects.toBeInstanceOf(SyntaxError);
    expect(cache.count).toBe(0);
    expect(cache.stats.writes).toBe(0);
  });

  it('persistCodeCache says whether the store took the entry', async () => {
    const store = new FlakyStore({ breaker: false, onError: () => {} });
    store.up = true;
    const tpl = await loadTemplate<string>(store, environment, { name: 'c', source: 'x' });
    store.up = false;
    expect(await tpl.stored).toBe(true);
    expect(await tpl.persistCodeCache()).toBe(false);
  });
});

describe('memory held by MemoryBytecodeCache', () => {
  it('holds each small entry in memory of its own, not in a slice of the shared 8 KB buffer pool', () => {
    const cache = new MemoryBytecodeCache();
    for (let i = 0; i < 50; i++) {
      const bucket = cache.createBucket(env, `t${i}`, null, 'src');
      bucket.code = { js: `(${i})`, v8: Uint8Array.of(1, 2, 3, i) };
      cache.dumpBytecodeSync(bucket);
      // Other small allocations in between, as a server makes.
      Buffer.allocUnsafe(1000);
    }
    let total = 0;
    for (let i = 0; i < 50; i++) {
      const loaded = cache.createBucket(env, `t${i}`, null, 'src');
      cache.loadBytecodeSync(loaded);
      // The loaded V8 bytes are a view of the stored entry: its memory is all the entry holds.
      const held = loaded.code!.v8!.buffer.byteLength;
      expect(held).toBeLessThan(1024);
      total += held;
    }
    expect(total).toBe(cache.size);
  });
});

describe('a process that keeps loading templates it has never seen', () => {
  it('stays within a 48 MB heap over 30,000 distinct templates (V8 trims its script cache under pressure)', () => {
    const fixture = fileURLToPath(new URL('./fixtures/many-templates.mjs', import.meta.url));
    const run = spawnSync(process.execPath, ['--max-old-space-size=48', fixture, '30000'], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(run.stderr).not.toMatch(/heap out of memory/i);
    expect(run.status).toBe(0);
    const { count, heapUsed } = JSON.parse(run.stdout) as { count: number; heapUsed: number };
    expect(count).toBe(30000);
    expect(heapUsed).toBeLessThan(48 * 1024 * 1024);
  }, 130_000);
});
