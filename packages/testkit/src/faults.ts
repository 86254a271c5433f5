import { createServer, type Socket } from 'node:net';
import { type BccBackendError, type BytecodeCache, type BytecodeCacheOptions, isBccError } from '@bcc/core';
import { makeCode, testEnvironment } from './fixtures.js';
import type { FaultTarget, TestApi } from './types.js';
import { hitsResume, settles } from './waits.js';

let namespaceCounter = 0;

/**
 * Registers the fault tests for one adapter: its real server is killed (SIGKILL) while the
 * cache is in use and started again on the same address. A dead store must cost a miss, never a
 * hang or a rendering failure, and the same cache object must recover on its own (DESIGN §4).
 * Every test starts the server again before it ends, even when it fails.
 */
export function runFaultSuite(api: TestApi, target: FaultTarget): void {
  const { describe, it, expect } = api;
  const features = target.features ?? {};
  const hang = target.hangTimeout ?? 5000;
  const resume = { within: target.resumeTimeout ?? 10_000 };
  const timeout = target.timeout ?? 40_000;
  const made: BytecodeCache[] = [];
  const run = `${process.pid.toString(36)}${Date.now().toString(36)}`;
  const env = testEnvironment('bcc-faults');
  const backendOf = (cache: BytecodeCache) => target.backend ?? cache.backendName;

  async function fresh(options: BytecodeCacheOptions): Promise<BytecodeCache> {
    const cache = await target.create({ namespace: `bcc-faults-${run}-${namespaceCounter++}`, options });
    made.push(cache);
    return cache;
  }

  const load = (cache: BytecodeCache, name: string) => cache.getBucket(env, name, null, 'src');
  async function write(cache: BytecodeCache, name: string) {
    const bucket = cache.createBucket(env, name, null, 'src');
    bucket.code = makeCode(name);
    await cache.setBucket(bucket);
  }
  /** Resolves with what `promise` rejects with, or null when it resolves; fails when it hangs. */
  const rejection = (promise: Promise<unknown>) =>
    settles(
      promise.then(
        () => null,
        (e: unknown) => e,
      ),
      hang,
    );

  let down = false;
  /** Runs `body` with a server that is started again afterwards, whatever happened. */
  async function withOutage(body: (kill: () => Promise<void>, start: () => Promise<void>) => Promise<void>) {
    const kill = async () => {
      down = true;
      await target.server.kill();
    };
    const start = async () => {
      await target.server.start();
      down = false;
    };
    try {
      await body(kill, start);
    } finally {
      if (down) await start();
    }
  }

  /** Every error is a BccBackendError from this adapter, with the error that caused it. */
  function expectBackendErrors(cache: BytecodeCache, errors: readonly Error[]) {
    for (const error of errors) {
      expect(isBccError(error) && error.code).toBe('ERR_BCC_BACKEND');
      expect((error as BccBackendError).backend).toBe(backendOf(cache));
      expect(error.cause).toBeInstanceOf(Error);
    }
  }

  describe(`${target.name}: bcc faults (server killed and started again)`, () => {
    api.afterAll?.(async () => {
      for (const cache of made) {
        if (features.clear !== false) await settles(cache.clear(), hang).catch(() => {});
        await settles(cache.close(), hang).catch(() => {});
      }
    });

    it(
      'killed while calls are in flight: every call settles, loads miss, writes are skipped, each failure is reported once',
      () =>
        withOutage(async (kill) => {
          const errors: Error[] = [];
          // Per-call behaviour: the breaker (tested on its own below) would skip calls after the first failure.
          const cache = await fresh({ breaker: false, onError: (e) => errors.push(e) });
          await write(cache, 'page.html');
          expect((await load(cache, 'page.html')).code).not.toBeNull();

          // Traffic in flight while the server dies: every call must settle, none may reject.
          const traffic = Array.from({ length: 40 }, (_, i) =>
            i % 2 ? load(cache, `t${i % 5}.html`).then(() => undefined) : write(cache, `t${i % 5}.html`),
          );
          await kill();
          await expect(settles(Promise.all(traffic), hang)).resolves.toBeDefined();

          // With the server gone, one call of each kind: each is a miss or a skipped write, and
          // each reports exactly one error (through onError and stats.errors).
          const before = { ...cache.stats, reported: errors.length };
          expect((await settles(load(cache, 'page.html'), hang)).code).toBeNull();
          await expect(settles(write(cache, 'page.html'), hang)).resolves.toBeUndefined();
          const batch = [cache.createBucket(env, 'page.html', null, 'src')];
          await expect(settles(cache.loadBuckets(batch), hang)).resolves.toBeUndefined();
          expect(batch[0]!.code).toBeNull();

          expect(errors.length - before.reported).toBe(3);
          expect(cache.stats.errors - before.errors).toBe(3);
          expect(cache.stats.writeFailures - before.writeFailures).toBe(1);
          expect(cache.stats.misses - before.misses).toBe(2);
          expect(cache.stats.hits).toBe(before.hits);
          expect(cache.stats.errors).toBe(errors.length);
          expectBackendErrors(cache, errors);
        }),
      timeout,
    );

    it(
      'started again: hits resume on the same cache object, without recreating it',
      () =>
        withOutage(async (kill, start) => {
          const errors: Error[] = [];
          const cache = await fresh({ breaker: false, onError: (e) => errors.push(e) });
          await write(cache, 'page.html');
          await kill();
          expect((await settles(load(cache, 'page.html'), hang)).code).toBeNull();
          await settles(write(cache, 'other.html'), hang);
          expect(errors).toHaveLength(2);
          expect(cache.stats.writeFailures).toBe(1);
          expectBackendErrors(cache, errors);
          await start();
          // A store with a connection to re-establish gets a bounded retry loop; a stateless one
          // (resumesAtOnce) must serve the very first calls after start() and report nothing.
          if (!features.resumesAtOnce) {
            expect(await hitsResume(cache, 'after.html', { ...resume, environment: env })).toBe(true);
          }
          if (features.durable) {
            expect((await load(cache, 'page.html')).code?.js).toBe(makeCode('page.html').js);
          }
          await write(cache, 'after.html');
          expect((await load(cache, 'after.html')).code?.js).toBe(makeCode('after.html').js);
          if (features.resumesAtOnce) expect(errors).toHaveLength(2);
        }),
      timeout,
    );

    it(
      'with ignoreErrors: false, rejects with a BccBackendError carrying the cause while down, and resumes after',
      () =>
        withOutage(async (kill, start) => {
          const cache = await fresh({ ignoreErrors: false, breaker: false });
          await write(cache, 'page.html');
          await kill();

          const loadError = await rejection(load(cache, 'page.html'));
          expect(isBccError(loadError) && loadError.code).toBe('ERR_BCC_BACKEND');
          expect(loadError).toMatchObject({ backend: backendOf(cache), operation: 'load' });
          expect((loadError as Error).cause).toBeInstanceOf(Error);

          const dumpError = await rejection(write(cache, 'page.html'));
          expect(isBccError(dumpError) && dumpError.code).toBe('ERR_BCC_BACKEND');
          expect(dumpError).toMatchObject({ backend: backendOf(cache), operation: 'dump' });
          expect((dumpError as Error).cause).toBeInstanceOf(Error);

          const batchError = await rejection(
            cache.loadBuckets([cache.createBucket(env, 'page.html', null, 'src')]),
          );
          expect(isBccError(batchError) && batchError.code).toBe('ERR_BCC_BACKEND');

          if (features.clear !== false) {
            const clearError = await rejection(cache.clear());
            expect(isBccError(clearError) && clearError.code).toBe('ERR_BCC_BACKEND');
            expect(clearError).toMatchObject({ backend: backendOf(cache), operation: 'clear' });
          }

          await start();
          expect(await hitsResume(cache, 'page.html', { ...resume, environment: env })).toBe(true);
        }),
      timeout,
    );

    it(
      'with the circuit breaker (the default): one failure, then calls miss without reaching the dead store, and hits resume after the back-off',
      () =>
        withOutage(async (kill, start) => {
          const errors: Error[] = [];
          const cache = await fresh({
            breaker: { backoff: 100, maxBackoff: 400 },
            onError: (e) => errors.push(e),
          });
          await write(cache, 'page.html');
          await kill();
          expect((await settles(load(cache, 'page.html'), hang)).code).toBeNull();
          const reported = errors.length;
          expect(reported).toBeGreaterThanOrEqual(1);
          // Within the back-off: misses and skipped writes at once, nothing new to report.
          for (let i = 0; i < 5; i++) {
            expect((await settles(load(cache, 'page.html'), hang)).code).toBeNull();
            await settles(write(cache, `skipped${i}.html`), hang);
          }
          expect(errors.length).toBe(reported);
          expect(cache.breaker?.skipped).toBeGreaterThanOrEqual(10);
          expectBackendErrors(cache, errors);
          await start();
          // The back-off may have grown to maxBackoff once or twice before the store came back.
          const within = resume.within + 2 * 400;
          expect(await hitsResume(cache, 'after.html', { within, environment: env })).toBe(true);
          expect(cache.breaker?.isOpen).toBe(false);
        }),
      timeout,
    );

    const createSilent = target.createSilent;
    if (createSilent) {
      it(
        'a server that accepts connections and never answers: a miss and a skipped write, not a hang',
        async () => {
          const sockets = new Set<Socket>();
          const silent = createServer((socket) => {
            sockets.add(socket);
            socket.on('error', () => {});
          });
          await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
          const address = silent.address();
          const port = typeof address === 'object' && address ? address.port : 0;
          const errors: Error[] = [];
          const cache = await createSilent({
            port,
            options: { breaker: false, onError: (e) => errors.push(e) },
          });
          try {
            expect((await settles(load(cache, 'page.html'), hang)).code).toBeNull();
            await expect(settles(write(cache, 'page.html'), hang)).resolves.toBeUndefined();
            await settles(cache.loadBuckets([cache.createBucket(env, 'page.html', null, 'src')]), hang);
            expect(errors.length).toBeGreaterThanOrEqual(3);
            expectBackendErrors(cache, errors);
          } finally {
            await settles(cache.close(), hang).catch(() => {});
            for (const socket of sockets) socket.destroy();
            await new Promise((resolve) => silent.close(resolve));
          }
        },
        timeout,
      );
    }
  });
}
